-- A guest exists from the moment they join through the link, not only once LiveKit reports
-- them: their browser holds a pass (an HttpOnly cookie; only its hash is kept here) that gets
-- them a fresh LiveKit token on every connect, and the host's removal of a guest lasts.
alter table room_guests alter column livekit_sid drop not null;
alter table room_guests alter column in_call set default false;
alter table room_guests add column pass_hash bytea;
alter table room_guests add column removed_at timestamptz;
