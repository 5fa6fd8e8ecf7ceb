-- Who gets in: an entry policy per meeting, a lobby, co-hosts; and contacts by consent.

-- open: the link lets anyone in; knock: people who were not invited wait in the lobby until a
-- host admits them; invited: only invited people. `locked` stops every new entry for now.
-- Meetings made before this keep the behaviour they were created with (open); new ones knock.
alter table rooms add column entry text not null default 'open'
  check (entry in ('open', 'knock', 'invited'));
alter table rooms alter column entry set default 'knock';
alter table rooms add column locked boolean not null default false;

-- A co-host admits, denies, mutes, removes and sets the entry policy; only the creator (host)
-- promotes, demotes and ends the meeting for everyone.
alter table room_participants drop constraint room_participants_role_check;
alter table room_participants add constraint room_participants_role_check
  check (role in ('host', 'cohost', 'member'));

-- Someone not invited asks to come in. The browser holds a ticket (an HttpOnly cookie:
-- `id.secret`; only the secret's hash is kept) that follows the answer and, once admitted,
-- lets it in. A guest's ticket secret becomes their guest pass.
create table knocks (
  id uuid primary key default gen_random_uuid(),
  room_id text not null references rooms (id) on delete cascade,
  -- A signed-in person, or a guest (identity chosen when knocking).
  user_id uuid references users (id) on delete cascade,
  guest_identity text,
  display_name text not null,
  secret_hash bytea not null,
  status text not null default 'waiting'
    check (status in ('waiting', 'admitted', 'denied', 'expired', 'cancelled')),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  answered_at timestamptz,
  answered_by uuid references users (id) on delete set null,
  check ((user_id is null) <> (guest_identity is null))
);
create index knocks_room on knocks (room_id, created_at) where status = 'waiting';
create index knocks_waiting_expiry on knocks (expires_at) where status = 'waiting';
-- One waiting knock per signed-in person and meeting.
create unique index knocks_one_waiting on knocks (room_id, user_id)
  where status = 'waiting' and user_id is not null;

-- Contacts are mutual and made by consent: a request, accepted by the person asked. Requests
-- keep the email as typed (normalized), whether or not an account has it, so that the one who
-- asks learns nothing about who has an account.
create table contact_requests (
  id uuid primary key default gen_random_uuid(),
  from_id uuid not null references users (id) on delete cascade,
  to_email text not null,
  -- The account with that email when the request was made; null when none.
  to_id uuid references users (id) on delete cascade,
  status text not null default 'pending'
    check (status in ('pending', 'accepted', 'declined', 'withdrawn')),
  created_at timestamptz not null default now(),
  answered_at timestamptz
);
create unique index contact_requests_one_pending on contact_requests (from_id, to_email)
  where status = 'pending';
create index contact_requests_to on contact_requests (to_id) where status = 'pending';

-- A person blocked: their requests and calls do not reach the one who blocked them.
create table blocks (
  blocker_id uuid not null references users (id) on delete cascade,
  blocked_id uuid not null references users (id) on delete cascade,
  created_at timestamptz not null default now(),
  primary key (blocker_id, blocked_id),
  check (blocker_id <> blocked_id)
);

-- Existing contacts: a pair who had added each other had both consented, and stay contacts.
-- A one-way addition becomes a pending request from the one who added to the one added (dated
-- when it was made), so the person added decides; until then neither can ring the other.
insert into contact_requests (from_id, to_email, to_id, created_at)
select c.owner_id, lower(u.email), c.contact_id, c.created_at
from contacts c join users u on u.id = c.contact_id
where not exists (
  select 1 from contacts back where back.owner_id = c.contact_id and back.contact_id = c.owner_id
);
delete from contacts c
where not exists (
  select 1 from contacts back where back.owner_id = c.contact_id and back.contact_id = c.owner_id
);
