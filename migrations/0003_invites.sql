-- Calls ringing an invitee: pending until answered, withdrawn, or unanswered in time.

create table invites (
  id uuid primary key default gen_random_uuid(),
  room_id text not null references rooms (id) on delete cascade,
  invitee_id uuid not null references users (id) on delete cascade,
  inviter_id uuid not null references users (id) on delete cascade,
  status text not null default 'pending'
    check (status in ('pending', 'accepted', 'declined', 'missed', 'cancelled')),
  created_at timestamptz not null default now(),
  -- When a pending invite becomes missed.
  expires_at timestamptz not null,
  answered_at timestamptz
);
-- At most one ringing invite per person and room.
create unique index invites_one_pending on invites (room_id, invitee_id) where status = 'pending';
create index invites_invitee on invites (invitee_id, created_at desc);
create index invites_room on invites (room_id);
-- The clock that turns unanswered invites into missed ones reads this.
create index invites_pending_expiry on invites (expires_at) where status = 'pending';
