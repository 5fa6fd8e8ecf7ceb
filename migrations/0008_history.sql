-- A dashboard a person can tidy: ended meetings cleared from their own history (the meeting
-- stays for everyone else), and missed calls dismissed once seen or called back.
alter table room_participants add column hidden_at timestamptz;
alter table invites add column dismissed_at timestamptz;
