-- Accounts, sessions, contacts and the counters behind rate limits.

create table users (
  id uuid primary key default gen_random_uuid(),
  email text not null,
  display_name text not null,
  password_hash text not null,
  created_at timestamptz not null default now()
);
-- Emails are unique without regard to case.
create unique index users_email_key on users (lower(email));

-- A session row is named by a signed JWT; only a hash of its secret id is stored.
create table sessions (
  id_hash bytea primary key,
  user_id uuid not null references users (id) on delete cascade,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null
);
create index sessions_user_id on sessions (user_id);

create table contacts (
  owner_id uuid not null references users (id) on delete cascade,
  contact_id uuid not null references users (id) on delete cascade,
  created_at timestamptz not null default now(),
  primary key (owner_id, contact_id),
  check (owner_id <> contact_id)
);

-- Fixed-window counters shared by every instance (login and guest-join throttling).
create table rate_limits (
  key text primary key,
  window_start timestamptz not null,
  window_seconds integer not null,
  hits integer not null
);
create index rate_limits_window_start on rate_limits (window_start);
