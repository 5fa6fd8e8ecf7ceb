#!/bin/sh
# Writes .env from .env.example with a fresh random value for each secret. Refuses to
# overwrite an existing .env. Usage: sh scripts/new_env.sh [target file]
set -eu
cd "$(dirname "$0")/.."
target="${1:-.env}"
if [ -e "$target" ]; then
  echo "$target exists already; edit it, or remove it first." >&2
  exit 1
fi
secret() {
  if command -v openssl >/dev/null 2>&1; then
    openssl rand -hex "$1"
  else
    od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'
  fi
}
umask 077
# One password for the stack's PostgreSQL and the URL the app uses without Docker.
password=$(secret 24)
sed \
  -e "s/^SESSION_SECRET=\$/SESSION_SECRET=$(secret 32)/" \
  -e "s/^LIVEKIT_API_SECRET=\$/LIVEKIT_API_SECRET=$(secret 32)/" \
  -e "s/^POSTGRES_PASSWORD=\$/POSTGRES_PASSWORD=$password/" \
  -e "s#^DATABASE_URL=postgres://urbania:change-me@#DATABASE_URL=postgres://urbania:$password@#" \
  -e "s/^TURN_SECRET=\$/TURN_SECRET=$(secret 32)/" \
  .env.example >"$target"
echo "wrote $target with fresh secrets; review PUBLIC_URL, PUBLIC_IP and the domains."
