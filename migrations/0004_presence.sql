-- Presence as LiveKit reports it (webhooks), and host removals.

-- Webhook deliveries already applied: LiveKit may deliver one event more than once. Kept a
-- day, which is far longer than LiveKit retries; `participant_left` rows also tell a late
-- `participant_joined` of the same connection that it is stale.
create table livekit_events (
  id text primary key,
  event text not null,
  room_id text,
  participant_sid text,
  -- LiveKit's time of the event.
  happened_at timestamptz not null,
  received_at timestamptz not null default now()
);
create index livekit_events_received_at on livekit_events (received_at);
create index livekit_events_left on livekit_events (participant_sid)
  where event in ('participant_left', 'participant_connection_aborted');

-- The LiveKit connection (participant sid) that last joined for this person: only that
-- connection's departure takes them out of the call.
alter table room_participants add column livekit_sid text;
-- Set when the host removed this person: no token and no way back in until invited again.
alter table room_participants add column removed_at timestamptz;

-- Guests (no account) in a room's call, as LiveKit reports them.
create table room_guests (
  room_id text not null references rooms (id) on delete cascade,
  identity text not null,
  display_name text not null,
  livekit_sid text not null,
  in_call boolean not null default true,
  joined_at timestamptz not null default now(),
  left_at timestamptz,
  primary key (room_id, identity)
);
