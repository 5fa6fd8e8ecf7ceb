// The lobby: people who were not invited ask to come in (a knock) and wait until a host or
// co-host admits or denies them, or the knock expires. The waiting browser holds a ticket, an
// HttpOnly cookie `id.secret` for that meeting (only the secret's hash is stored), which its
// lobby socket and its way in are authenticated by. For a guest, the same secret becomes the
// guest pass once admitted. Every change runs under the room's row lock and publishes its
// events in the same transaction, so hosts and the waiting browser hear it on any instance.
import type { Key } from "../../i18n/t.ts";
import { Buffer } from "node:buffer";
import type { Sql, Tx } from "../platform/db.ts";
import { AppError, notFound } from "../platform/errors.ts";
import { EVENTS_CHANNEL, publish } from "../platform/events.ts";
import { newGuestIdentity } from "./livekit.ts";
import {
  type CallType,
  guestsNotAllowed,
  invitedOnly,
  type LockedRoom,
  lockRoom,
  meetingLocked,
  removedByHost,
  roomEnded,
  roomNotFound,
  type RoomStatus,
} from "./rooms.ts";
import type { KnockStateJson, KnockStatus, LobbyJson } from "../../protocol/api.ts";

export const KNOCK_COOKIE_PREFIX = "urbania_knock_";
export const knockCookieName = (roomId: string) => `${KNOCK_COOKIE_PREFIX}${roomId}`;
/**
 * People who may wait in one meeting's lobby at once: a host answers them one by one, and
 * every change pushes the whole list to every host tab (this bounds that push too). The next
 * knock gets 429 `lobby_full` until someone is answered or gives up.
 */
export const MAX_WAITING_PER_MEETING = 50;

/** An admitted ticket stays good this long to come in with. */
export const ADMITTED_TICKET_SECONDS = 15 * 60;

export interface Ticket {
  id: string;
  secret: string;
}

export const formatTicket = (t: Ticket) => `${t.id}.${t.secret}`;

export const parseTicket = (raw: string | undefined): Ticket | null =>
  parseHeldSecret(raw, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);

/**
 * A credential as a browser holds it in a cookie, `id.secret`: the id as `idPattern` (anchored)
 * says, the secret 32 random bytes in base64url. Lobby tickets and guest passes are of this form.
 */
export function parseHeldSecret(
  raw: string | undefined,
  idPattern: RegExp,
): { id: string; secret: string } | null {
  if (!raw) return null;
  const [id, secret, ...rest] = raw.split(".");
  if (rest.length > 0 || !idPattern.test(id) || !/^[A-Za-z0-9_-]{43}$/.test(secret)) return null;
  return { id, secret };
}

/** SHA-256 of a secret, as tickets and guest passes are stored. */
export async function secretHash(secret: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(secret)));
}

export const ticketRequired = () => new AppError(401, "ticket_required", "error.ticket_required");
export const notModerator = (what: Key) =>
  new AppError(403, "not_host", ["error.not_host.moderator", { what: { t: what } }]);

type Moderator = "host" | "cohost";

/**
 * The room and the user's role in it when they may moderate it (host or co-host), in one
 * query; with `lock`, the room's row stays locked for the rest of the transaction. 404 no such
 * room, 403 not a host or co-host, 410 ended (unless `ended` is allowed).
 */
export async function requireModerator(
  sql: Sql | Tx,
  roomId: string,
  userId: string,
  what: Key,
  options: { lock?: boolean; ended?: boolean } = {},
): Promise<{ room: LockedRoom; role: Moderator }> {
  const [row] = await sql<(LockedRoom & { role: string | null })[]>`
    select r.status, r.created_by::text, r.entry, r.locked, r.allow_guests, p.role
    from rooms r
    left join room_participants p
      on p.room_id = r.id and p.user_id = ${userId} and p.removed_at is null
    where r.id = ${roomId}
    ${options.lock ? sql`for update of r` : sql``}`;
  if (!row) throw roomNotFound();
  const { role, ...room } = row;
  if (role !== "host" && role !== "cohost") throw notModerator(what);
  if (room.status === "ended" && !options.ended) throw roomEnded();
  return { room, role };
}

/** Locks the room and checks the user moderates it (403) and it has not ended (410). */
export function lockAsModerator(tx: Tx, roomId: string, userId: string, what: Key) {
  return requireModerator(tx, roomId, userId, what, { lock: true });
}

export interface KnockRow {
  id: string;
  room_id: string;
  user_id: string | null;
  guest_identity: string | null;
  display_name: string;
  status: KnockStatus;
}

/** Publishes what a change to a knock means: its browser and the room's hosts hear of it. */
async function announce(tx: Tx, roomId: string, knockIds: string[]) {
  for (const id of knockIds) await publish(tx, { e: "knock", knock_id: id, room_id: roomId });
  await publish(tx, { e: "lobby", room_id: roomId });
}

/**
 * Someone not on the meeting's list asks to come in: a signed-in user (`userId`) or a guest
 * (`guestName`). A browser already waiting (its ticket) keeps its place; a user knocking anew
 * replaces their earlier knock. Refused: 410 ended, 403 invited only, locked, removed, denied
 * before, or guests not allowed; 409 when there is no need to knock (open, or already a member).
 */
export async function knock(
  sql: Sql,
  roomId: string,
  who: { userId: string; displayName: string } | { guestName: string },
  held: Ticket | null,
  ttlSeconds: number,
): Promise<{ knock: KnockRow; ticket: Ticket }> {
  return await sql.begin(async (tx) => {
    const room = await lockRoom(tx, roomId);
    if (room.status === "ended") throw roomEnded();
    if (room.entry === "invited") throw invitedOnly();
    if (room.locked) throw meetingLocked();
    if (room.entry === "open") {
      throw new AppError(409, "open_meeting", "error.open_meeting");
    }
    await expireRoomKnocks(tx, roomId);
    const userId = "userId" in who ? who.userId : null;
    if (userId) {
      const [member] = await tx<{ removed: boolean }[]>`
        select removed_at is not null as removed from room_participants
        where room_id = ${roomId} and user_id = ${userId}`;
      if (member?.removed) throw removedByHost();
      if (member) {
        throw new AppError(409, "already_member", "error.already_member");
      }
    } else if (!room.allow_guests) throw guestsNotAllowed();
    if (held) {
      const [mine] = await tx<(KnockRow & { ok: boolean })[]>`
        select id::text, room_id, user_id::text, guest_identity, display_name, status,
          (user_id is not distinct from ${userId}::uuid) as ok
        from knocks
        where id = ${held.id} and room_id = ${roomId}
          and secret_hash = ${await secretHash(held.secret)}`;
      if (mine?.ok && mine.status === "denied") throw deniedEntry();
      if (mine?.ok && mine.status === "waiting") return { knock: mine, ticket: held };
    }
    if (userId) {
      const [denied] = await tx`
        select 1 from knocks where room_id = ${roomId} and user_id = ${userId}
          and status = 'denied'`;
      if (denied) throw deniedEntry();
      const old = await tx<{ id: string }[]>`
        update knocks set status = 'cancelled', answered_at = now()
        where room_id = ${roomId} and user_id = ${userId} and status = 'waiting'
        returning id::text`;
      for (const o of old) await publish(tx, { e: "knock", knock_id: o.id, room_id: roomId });
    }
    const [{ waiting }] = await tx<{ waiting: number }[]>`
      select count(*)::int as waiting from knocks where room_id = ${roomId} and status = 'waiting'`;
    if (waiting >= MAX_WAITING_PER_MEETING) {
      throw new AppError(429, "lobby_full", ["error.lobby_full", { n: MAX_WAITING_PER_MEETING }], {
        headers: { "Retry-After": "60" },
      });
    }
    const secret = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url");
    const name = "userId" in who ? who.displayName : who.guestName;
    const [row] = await tx<KnockRow[]>`
      insert into knocks (room_id, user_id, guest_identity, display_name, secret_hash,
        expires_at)
      values (${roomId}, ${userId}, ${userId ? null : newGuestIdentity()}, ${name},
        ${await secretHash(secret)}, now() + make_interval(secs => ${ttlSeconds}))
      returning id::text, room_id, user_id::text, guest_identity, display_name, status`;
    await announce(tx, roomId, [row.id]);
    return { knock: row, ticket: { id: row.id, secret } };
  });
}

const deniedEntry = () => new AppError(403, "denied", "error.denied");

/** The knock a ticket stands for, in this room; 401 without a valid one. */
export async function knockForTicket(
  sql: Sql | Tx,
  roomId: string,
  ticket: Ticket | null,
): Promise<KnockRow & { answered_at: Date | null; expired: boolean }> {
  if (!ticket) throw ticketRequired();
  const [row] = await sql<(KnockRow & { answered_at: Date | null; expired: boolean })[]>`
    select id::text, room_id, user_id::text, guest_identity, display_name, status, answered_at,
      status = 'waiting' and expires_at <= now() as expired
    from knocks
    where id = ${ticket.id} and room_id = ${roomId}
      and secret_hash = ${await secretHash(ticket.secret)}`;
  if (!row) throw ticketRequired();
  return row;
}

/**
 * The knock a ticket stands for, only while it waits (the lobby's socket lives and dies with
 * it): 409 `knock_closed` once it was answered, withdrawn, ended or has expired.
 */
export async function waitingKnockForTicket(sql: Sql, roomId: string, ticket: Ticket | null) {
  const knock = await knockForTicket(sql, roomId, ticket);
  const status = knock.expired ? "expired" : knock.status;
  if (status !== "waiting") {
    throw new AppError(409, "knock_closed", ["error.knock_closed", {
      status: { t: `knock.${status}` },
    }]);
  }
  return knock;
}

/** What the waiting browser is shown: its knock, the meeting, whether a host is there. */
export async function knockState(sql: Sql, knockId: string) {
  const [row] = await sql<KnockStateJson[]>`
    select k.id::text, k.room_id, r.room_name, r.call_type, k.display_name,
      case when k.status = 'waiting' and k.expires_at <= now() then 'expired' else k.status end
        as status,
      case when k.status = 'waiting'
        then greatest(0, ceil(extract(epoch from k.expires_at - now())))::int else 0 end
        as expires_in,
      exists(select 1 from room_participants p where p.room_id = k.room_id
        and p.role in ('host', 'cohost') and p.in_call and p.removed_at is null) as host_present
    from knocks k join rooms r on r.id = k.room_id
    where k.id = ${knockId}`;
  if (!row) throw notFound("error.nf.knock");
  return row;
}

/** Knocks of this room whose time is up become expired (under the room's lock). */
async function expireRoomKnocks(tx: Tx, roomId: string) {
  const rows = await tx<{ id: string }[]>`
    update knocks set status = 'expired', answered_at = expires_at
    where room_id = ${roomId} and status = 'waiting' and expires_at <= now()
    returning id::text`;
  if (rows.length > 0) await announce(tx, roomId, rows.map((r) => r.id));
}

/**
 * The clock every instance runs: waiting knocks whose time is up expire, with their events.
 * Rows another transaction holds are skipped (never waited on). Returns how many expired.
 */
export async function expireKnocks(sql: Sql): Promise<number> {
  const [{ expired }] = await sql<{ expired: number }[]>`
    with due as (
      select id from knocks where status = 'waiting' and expires_at <= now()
      for update skip locked
    ), x as (
      update knocks k set status = 'expired', answered_at = k.expires_at
      from due where k.id = due.id
      returning k.id, k.room_id
    ), each as (
      select pg_notify(${EVENTS_CHANNEL}, json_build_object(
        'e', 'knock', 'knock_id', id, 'room_id', room_id)::text) from x
    ), lobbies as (
      select pg_notify(${EVENTS_CHANNEL}, json_build_object('e', 'lobby', 'room_id', room_id)::text)
      from (select distinct room_id from x) r
    )
    select (select count(*) from each)::int as expired, (select count(*) from lobbies)::int`;
  return expired;
}

/** Lets a waiting knock in: a user becomes a member, a guest a guest of the meeting. */
async function admit(tx: Tx, roomId: string, k: KnockRow & { secret_hash: Uint8Array }) {
  if (k.user_id) {
    await tx`
      insert into room_participants (room_id, user_id, role)
      values (${roomId}, ${k.user_id}, 'member')
      on conflict (room_id, user_id) do nothing`;
  } else {
    // The ticket's secret is the guest pass from now on (same hash).
    await tx`
      insert into room_guests (room_id, identity, display_name, pass_hash, in_call)
      values (${roomId}, ${k.guest_identity}, ${k.display_name}, ${k.secret_hash}, false)
      on conflict (room_id, identity) do nothing`;
  }
}

/**
 * A host or co-host answers one knock. Admitting a knock already admitted is not an error
 * (two hosts pressing Admit at once); any other answer to a knock no longer waiting is 409.
 */
export async function answerKnock(
  sql: Sql,
  roomId: string,
  knockId: string,
  moderatorId: string,
  decision: "admit" | "deny",
): Promise<KnockStatus> {
  return await sql.begin(async (tx) => {
    await lockAsModerator(tx, roomId, moderatorId, "act.letIn");
    await expireRoomKnocks(tx, roomId);
    const [k] = await tx<(KnockRow & { secret_hash: Uint8Array })[]>`
      select id::text, room_id, user_id::text, guest_identity, display_name, status, secret_hash
      from knocks where id = ${knockId} and room_id = ${roomId} for update`;
    if (!k) throw notFound("error.nf.knock");
    const want: KnockStatus = decision === "admit" ? "admitted" : "denied";
    if (k.status === want) return want;
    if (k.status !== "waiting") {
      throw new AppError(409, "knock_closed", [
        "error.knock_closed",
        { status: { t: `knock.${k.status}` } },
      ]);
    }
    if (decision === "admit") await admit(tx, roomId, k);
    await tx`update knocks set status = ${want}, answered_at = now(), answered_by = ${moderatorId}
      where id = ${knockId}`;
    await announce(tx, roomId, [knockId]);
    if (decision === "admit") await publish(tx, { e: "room", room_id: roomId });
    return want;
  });
}

/** Admits (or denies) everyone waiting in a room's lobby, under its lock. Returns how many. */
export async function answerAll(
  tx: Tx,
  roomId: string,
  moderatorId: string,
  decision: "admit" | "deny",
): Promise<number> {
  await expireRoomKnocks(tx, roomId);
  const waiting = await tx<(KnockRow & { secret_hash: Uint8Array })[]>`
    select id::text, room_id, user_id::text, guest_identity, display_name, status, secret_hash
    from knocks where room_id = ${roomId} and status = 'waiting'
    order by created_at for update`;
  if (waiting.length === 0) return 0;
  for (const k of waiting) if (decision === "admit") await admit(tx, roomId, k);
  await tx`update knocks set status = ${decision === "admit" ? "admitted" : "denied"},
      answered_at = now(), answered_by = ${moderatorId}
    where id = any(${waiting.map((k) => k.id)}::uuid[])`;
  await announce(tx, roomId, waiting.map((k) => k.id));
  if (decision === "admit") await publish(tx, { e: "room", room_id: roomId });
  return waiting.length;
}

/** "Admit all": a host or co-host lets everyone waiting in. */
export async function admitAll(sql: Sql, roomId: string, moderatorId: string): Promise<number> {
  return await sql.begin(async (tx) => {
    await lockAsModerator(tx, roomId, moderatorId, "act.letIn");
    return await answerAll(tx, roomId, moderatorId, "admit");
  });
}

/** The waiting person gives up. Not an error when the knock is no longer waiting. */
export async function cancelKnock(sql: Sql, roomId: string, ticket: Ticket | null) {
  await sql.begin(async (tx) => {
    await lockRoom(tx, roomId);
    const k = await knockForTicket(tx, roomId, ticket);
    if (k.status !== "waiting") return;
    await tx`update knocks set status = 'cancelled', answered_at = now() where id = ${k.id}`;
    await announce(tx, roomId, [k.id]);
  });
}

/**
 * An admitted browser comes in with its ticket: a guest gets their guest identity (the ticket's
 * secret is their pass), a user must be the one who knocked (then joins as a member would).
 * 409 `not_admitted` while waiting or after a denial or expiry; 401 without a valid ticket.
 */
export async function enterWithTicket(
  sql: Sql,
  roomId: string,
  ticket: Ticket | null,
  sessionUserId: string | null,
): Promise<
  | { kind: "guest"; identity: string; display_name: string; call_type: CallType }
  | { kind: "member" }
> {
  const k = await knockForTicket(sql, roomId, ticket);
  if (k.status !== "admitted") {
    throw new AppError(409, "not_admitted", [
      "error.not_admitted",
      { status: { t: `knock.${k.status}` } },
    ]);
  }
  if (k.answered_at && Date.now() - k.answered_at.getTime() > ADMITTED_TICKET_SECONDS * 1000) {
    throw ticketRequired();
  }
  if (k.user_id) {
    if (k.user_id !== sessionUserId) {
      throw new AppError(403, "wrong_account", "error.wrong_account");
    }
    return { kind: "member" };
  }
  const [room] = await sql<{ status: RoomStatus; call_type: CallType; removed: boolean }[]>`
    select r.status, r.call_type, g.removed_at is not null as removed
    from rooms r join room_guests g on g.room_id = r.id and g.identity = ${k.guest_identity}
    where r.id = ${roomId}`;
  if (!room) throw ticketRequired();
  if (room.status === "ended") throw roomEnded();
  if (room.removed) throw removedByHost();
  return {
    kind: "guest",
    identity: k.guest_identity!,
    display_name: k.display_name,
    call_type: room.call_type,
  };
}

/** The lobbies of these rooms (only rooms with someone waiting), oldest knock first. */
export async function lobbies(sql: Sql, roomIds: string[]) {
  // created_at comes as JSON text, as the browser gets it.
  return await sql<LobbyJson[]>`
    select r.id as room_id, r.room_name, json_agg(json_build_object(
        'id', k.id, 'room_id', k.room_id, 'display_name', k.display_name,
        'guest', k.user_id is null, 'created_at', k.created_at,
        'expires_in', greatest(0, ceil(extract(epoch from k.expires_at - now())))::int)
      order by k.created_at, k.id) as waiting
    from knocks k join rooms r on r.id = k.room_id
    where k.room_id = any(${roomIds}::text[]) and k.status = 'waiting' and k.expires_at > now()
    group by r.id, r.room_name`;
}

/** The meetings these users moderate that someone waits to enter, for their sockets' snapshot. */
export async function moderatedWithWaiting(
  sql: Sql,
  userIds: string[],
): Promise<{ user_id: string; room_id: string }[]> {
  return await sql<{ user_id: string; room_id: string }[]>`
    select distinct p.user_id::text, p.room_id
    from room_participants p
    join knocks k on k.room_id = p.room_id and k.status = 'waiting' and k.expires_at > now()
    where p.user_id = any(${userIds}::uuid[]) and p.role in ('host', 'cohost')
      and p.removed_at is null`;
}

/** The hosts and co-hosts of a room. */
export async function moderators(sql: Sql, roomId: string): Promise<string[]> {
  const rows = await sql<{ user_id: string }[]>`
    select user_id::text from room_participants
    where room_id = ${roomId} and role in ('host', 'cohost') and removed_at is null`;
  return rows.map((r) => r.user_id);
}
