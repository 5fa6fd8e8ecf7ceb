-- A meeting created with an Idempotency-Key: the same key from the same person again (a retry
-- after a timeout or a 503) answers with this meeting instead of creating and ringing another.
-- Kept a day.
create table room_requests (
  user_id uuid not null references users(id) on delete cascade,
  key text not null,
  room_id text not null references rooms(id) on delete cascade,
  created_at timestamptz not null default now(),
  primary key (user_id, key)
);
create index room_requests_created_at on room_requests (created_at);
