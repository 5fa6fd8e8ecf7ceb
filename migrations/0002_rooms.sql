-- Meetings and who belongs to them.

create table rooms (
  -- Unguessable, URL-safe; also the LiveKit room name and the key of the share link.
  id text primary key,
  room_name text not null,
  call_type text not null check (call_type in ('audio', 'video')),
  status text not null default 'waiting' check (status in ('waiting', 'active', 'ended')),
  created_by uuid not null references users (id) on delete cascade,
  allow_guests boolean not null default true,
  created_at timestamptz not null default now(),
  ended_at timestamptz
);
create index rooms_created_by on rooms (created_by);

-- The host, everyone invited and everyone who joined through the link.
create table room_participants (
  room_id text not null references rooms (id) on delete cascade,
  user_id uuid not null references users (id) on delete cascade,
  role text not null check (role in ('host', 'member')),
  in_call boolean not null default false,
  added_at timestamptz not null default now(),
  joined_at timestamptz,
  left_at timestamptz,
  primary key (room_id, user_id)
);
create index room_participants_user_id on room_participants (user_id);
