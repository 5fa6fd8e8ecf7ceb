import type { Key } from "../../i18n/t.ts";
import type { Sql, Tx } from "../platform/db.ts";
import { AppError, isUniqueViolation, notFound, unauthorized } from "../platform/errors.ts";
import { lockPeople } from "../accounts/users.ts";
import { publish } from "../platform/events.ts";
import {
  acceptByJoining,
  cancelPending,
  DEFAULT_RING_SECONDS,
  type InviteStatus,
  ring,
} from "./ring.ts";
import { liveSession, type SessionClaims } from "../accounts/sessions.ts";
import type { CallType, EntryPolicy, Role, RoomStatus } from "../../protocol/api.ts";

export type { CallType, RoomStatus };

export interface RoomParticipant {
  id: string;
  display_name: string;
  role: Role;
  in_call: boolean;
  /** The latest call that rang this person for this room, if any did. */
  invite: { id: string; status: InviteStatus } | null;
}

export interface Room {
  id: string;
  room_name: string;
  call_type: CallType;
  status: RoomStatus;
  created_by: { id: string; display_name: string };
  created_at: Date;
  allow_guests: boolean;
  entry: EntryPolicy;
  locked: boolean;
  participants: RoomParticipant[];
  /** Guests (no account) LiveKit reports in the call. */
  guests_in_call: number;
}

/** The most people a host may invite when creating a room. */
export const MAX_INVITED = 50;

// 32 symbols without look-alikes (no l, o, 0, 1): 5 bits each, and 256 divides evenly.
const ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789";
/** Room ids: three groups of four symbols, 60 bits from the system's CSPRNG. */
export const ROOM_ID_PATTERN = /^[a-km-np-z2-9]{4}-[a-km-np-z2-9]{4}-[a-km-np-z2-9]{4}$/;

/** A fresh unguessable room id such as `k7dq-3mxa-vp2e`. */
export function generateRoomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  const s = Array.from(bytes, (b) => ALPHABET[b % 32]).join("");
  return `${s.slice(0, 4)}-${s.slice(4, 8)}-${s.slice(8, 12)}`;
}

export const roomNotFound = () => notFound("error.nf.meeting");
export const roomEnded = () => new AppError(410, "room_ended", "error.room_ended");
export const notParticipant = () => new AppError(403, "not_participant", "error.not_participant");
export const removedByHost = () => new AppError(403, "removed", "error.removed");
export const notHost = (what: Key) =>
  new AppError(403, "not_host", ["error.not_host.host", { what: { t: what } }]);

export interface CreateOptions {
  ringSeconds?: number;
  /**
   * The caller's key for this request: the same key again from the same person answers with
   * the meeting the first one created (nothing created, nobody rung again).
   */
  requestKey?: string;
  /** Runs before a new meeting is created, not for a repeated request (rate limits). */
  beforeCreate?: (tx: Tx) => Promise<void>;
  /** Runs once the invitees are known to be contacts, before anyone is rung (rate limits). */
  beforeRing?: (tx: Tx, invitees: string[]) => Promise<void>;
}

/**
 * Creates a room hosted by `creatorId` with its invited contacts, and rings them; 400 names
 * non-contacts. `created` is false when `requestKey` names a meeting already created.
 */
export async function createRoom(
  sql: Sql,
  creatorId: string,
  input: {
    room_name: string;
    call_type: CallType;
    participants: string[];
    allow_guests: boolean;
    entry?: EntryPolicy;
  },
  options: CreateOptions = {},
): Promise<{ id: string; created: boolean }> {
  const { ringSeconds = DEFAULT_RING_SECONDS, requestKey, beforeCreate, beforeRing } = options;
  // The host is always in the room; naming oneself is not an error.
  const invited = [...new Set(input.participants)].filter((id) => id !== creatorId);
  for (let attempt = 0;; attempt++) {
    const id = generateRoomId();
    try {
      return await sql.begin(async (tx) => {
        if (requestKey !== undefined) {
          const [done] = await tx<{ room_id: string }[]>`
            select room_id from room_requests
            where user_id = ${creatorId} and key = ${requestKey}
              and created_at > now() - interval '1 day'`;
          if (done) return { id: done.room_id, created: false };
        }
        await beforeCreate?.(tx);
        // Ringing on the strength of a contact: a block between them waits, or is seen.
        await lockPeople(tx, [creatorId, ...invited], "share");
        const [row] = await tx<{ created: number; contacts: string[] }[]>`
          with valid as (
            select contact_id as id from contacts
            where owner_id = ${creatorId} and contact_id = any(${invited}::uuid[])
          ), room as (
            insert into rooms (id, room_name, call_type, created_by, allow_guests, entry)
            select ${id}, ${input.room_name}, ${input.call_type}, ${creatorId},
              ${input.allow_guests}, ${input.entry ?? "knock"}
            where (select count(*) from valid) = ${invited.length}
            returning id
          ), members as (
            insert into room_participants (room_id, user_id, role)
            select room.id, ${creatorId}::uuid, 'host' from room
            union all
            select room.id, valid.id, 'member' from room cross join valid
          )
          select (select count(*) from room)::int as created,
            array(select id::text from valid) as contacts`;
        if (row.created !== 1) throw notContacts(invited.filter((p) => !row.contacts.includes(p)));
        if (requestKey !== undefined) {
          // Keys are kept a day; this person's older ones go (never a fresh one: a request
          // with the same key arriving meanwhile clashes on insert, and its retry answers).
          await tx`delete from room_requests
            where user_id = ${creatorId} and created_at <= now() - interval '1 day'`;
          await tx`insert into room_requests (user_id, key, room_id)
            values (${creatorId}, ${requestKey}, ${id})`;
        }
        if (invited.length > 0) await beforeRing?.(tx, invited);
        await ring(tx, id, creatorId, invited, ringSeconds);
        await publish(tx, { e: "room", room_id: id });
        return { id, created: true };
      });
    } catch (err) {
      // A clash of 60-bit ids is next to impossible, and two requests with one key arriving
      // together clash on the key: either way, the next attempt settles it.
      if (isUniqueViolation(err) && attempt < 3) continue;
      throw err;
    }
  }
}

/** 400 naming the people who are not the host's contacts. */
export function notContacts(strangers: string[]): AppError {
  return new AppError(
    400,
    "not_contacts",
    ["error.not_contacts", { ids: strangers.join(", ") }],
    {
      fields: strangers.map((s) => ({
        field: "participants",
        text: ["error.stranger", { id: s }],
      })),
    },
  );
}

// One round trip: the room, its host and its participants as JSON.
const ROOM_COLUMNS = (sql: Sql) =>
  sql`
  r.id, r.room_name, r.call_type, r.status, r.created_at, r.allow_guests, r.entry, r.locked,
  json_build_object('id', h.id, 'display_name', h.display_name) as created_by,
  coalesce((
    select json_agg(json_build_object(
      'id', u.id, 'display_name', u.display_name, 'role', p.role, 'in_call', p.in_call,
      'invite', (
        select json_build_object('id', i.id, 'status',
          case when i.status = 'pending' and i.expires_at <= now() then 'missed'
            else i.status end)
        from invites i where i.room_id = r.id and i.invitee_id = p.user_id
        order by i.created_at desc limit 1)
    ) order by p.role = 'host' desc, p.added_at, u.display_name)
    from room_participants p join users u on u.id = p.user_id
    where p.room_id = r.id and p.removed_at is null
  ), '[]'::json) as participants,
  (select count(*) from room_guests g where g.room_id = r.id and g.in_call)::int
    as guests_in_call`;

/** Whether the host removed this user from the meeting (and has not invited them again). */
export async function wasRemoved(sql: Sql, roomId: string, userId: string): Promise<boolean> {
  const [row] = await sql`
    select 1 from room_participants
    where room_id = ${roomId} and user_id = ${userId} and removed_at is not null`;
  return !!row;
}

/** One room with its participants, or 404. */
export async function getRoom(sql: Sql, id: string): Promise<Room> {
  const [room] = await sql<Room[]>`
    select ${ROOM_COLUMNS(sql)} from rooms r join users h on h.id = r.created_by
    where r.id = ${id}`;
  if (!room) throw roomNotFound();
  return room;
}

/** Rooms the user created or was invited to (or joined), newest first; not those removed from. */
/** One room as `userId` may see it (roomView of getRoom): 404 when there is no such room. */
export async function viewRoom(sql: Sql, id: string, userId: string, publicUrl: string) {
  return roomView(await getRoom(sql, id), userId, publicUrl);
}

export async function listRoomsForUser(sql: Sql, userId: string, limit = 100): Promise<Room[]> {
  return await sql<Room[]>`
    select ${ROOM_COLUMNS(sql)}
    from room_participants me
    join rooms r on r.id = me.room_id
    join users h on h.id = r.created_by
    where me.user_id = ${userId} and me.removed_at is null and me.hidden_at is null
    order by r.created_at desc, r.id
    limit ${limit}`;
}

/**
 * Clears the user's history: their ended meetings leave their list (not anyone else's).
 * Returns how many were cleared.
 */
export async function clearHistory(sql: Sql, userId: string): Promise<number> {
  const rows = await sql`
    update room_participants me set hidden_at = now()
    from rooms r
    where r.id = me.room_id and me.user_id = ${userId} and r.status = 'ended'
      and me.hidden_at is null
    returning me.room_id`;
  return rows.length;
}

export interface LockedRoom {
  status: RoomStatus;
  created_by: string;
  entry: EntryPolicy;
  locked: boolean;
  allow_guests: boolean;
}

/** Locks the room row for the rest of the transaction: joins and leaves on a room take turns. */
export async function lockRoom(tx: Tx, id: string): Promise<LockedRoom> {
  const [room] = await tx<LockedRoom[]>`
    select status, created_by::text, entry, locked, allow_guests from rooms
    where id = ${id} for update`;
  if (!room) throw roomNotFound();
  return room;
}

/** Ends a locked room: nobody is in its call any more, and nobody is rung for it. */
export async function markEnded(tx: Tx, id: string) {
  await tx`update rooms set status = 'ended', ended_at = now() where id = ${id}`;
  await tx`update room_participants set in_call = false, left_at = now()
    where room_id = ${id} and in_call`;
  await cancelPending(tx, id, "ended");
  // Whoever waits in its lobby is told at once; the hosts' lobbies empty.
  const knocks = await tx<{ id: string }[]>`
    update knocks set status = 'ended', answered_at = now()
    where room_id = ${id} and status = 'waiting'
    returning id::text`;
  for (const k of knocks) await publish(tx, { e: "knock", knock_id: k.id, room_id: id });
  if (knocks.length > 0) await publish(tx, { e: "lobby", room_id: id });
  await publish(tx, { e: "room", room_id: id });
}

/**
 * Makes the user a participant of a room locked by `lockRoom` (410 once ended, 403 when the
 * host removed them). Someone on the meeting's list (invited, admitted, or who joined before)
 * always may; anyone else only through an open, unlocked meeting (403 `knock_required`,
 * `invited_only` or `meeting_locked` otherwise). This is an intent to join, not presence: the
 * user is "in the call" only once LiveKit reports their connection (lib/presence.ts).
 */
export async function joinLocked(
  tx: Tx,
  id: string,
  room: LockedRoom,
  userId: string,
): Promise<void> {
  if (room.status === "ended") throw roomEnded();
  const [listed] = await tx<{ removed: boolean }[]>`
    select removed_at is not null as removed from room_participants
    where room_id = ${id} and user_id = ${userId}`;
  if (listed?.removed) throw removedByHost();
  if (!listed) {
    const refusal = newcomerRefusal(room);
    if (refusal) throw refusal;
    await tx`
      insert into room_participants (room_id, user_id, role, in_call)
      values (${id}, ${userId}, ${room.created_by === userId ? "host" : "member"}, false)`;
  }
  await acceptByJoining(tx, id, userId);
  await publish(tx, { e: "room", room_id: id });
}

/** Makes the user a participant (see `joinLocked`). 410 once ended. */
export async function joinRoom(sql: Sql, id: string, userId: string): Promise<void> {
  await sql.begin(async (tx) => {
    await joinLocked(tx, id, await lockRoom(tx, id), userId);
  });
}

/**
 * Takes a participant out of the call at once (their page has disconnected). The meeting does
 * not end here: when nobody is left, LiveKit closes its room after its departure timeout and
 * the `room_finished` webhook ends it, so someone who rejoins within that time finds it open.
 * 403 for someone who is not a participant.
 */
export async function leaveRoom(sql: Sql, id: string, userId: string): Promise<void> {
  await sql.begin(async (tx) => {
    await lockRoom(tx, id);
    const [left] = await tx<{ was: boolean }[]>`
      update room_participants p set in_call = false,
        left_at = case when p.in_call then now() else p.left_at end
      from room_participants old
      where p.room_id = ${id} and p.user_id = ${userId}
        and old.room_id = p.room_id and old.user_id = p.user_id
      returning old.in_call as was`;
    if (!left) throw notParticipant();
    if (left.was) await publish(tx, { e: "room", room_id: id });
  });
}

/** Ends the meeting for everyone; only its creator may. Returns true when it was not ended yet. */
export async function endRoom(sql: Sql, id: string, userId: string): Promise<boolean> {
  return await sql.begin(async (tx) => {
    const room = await lockRoom(tx, id);
    if (room.created_by !== userId) throw notHost("act.end");
    if (room.status === "ended") return false;
    await markEnded(tx, id);
    return true;
  });
}

/**
 * What a LiveKit token needs, with the session's own check in the same round trip (this is
 * the hot path of every join and reconnect): the user's name, the room's state and the user's
 * role in it. 401 when the session row is gone, then 404, 410 and 403 as for any room route.
 */
export async function tokenContext(
  sql: Sql,
  session: SessionClaims,
  roomId: string,
): Promise<
  { user: { id: string; display_name: string }; call_type: CallType; role: Role }
> {
  const [row] = await sql<{
    display_name: string;
    status: RoomStatus | null;
    call_type: CallType;
    role: Role | null;
    removed: boolean;
  }[]>`
    select u.display_name, r.status, r.call_type, p.role, p.removed_at is not null as removed
    from sessions s
    join users u on u.id = s.user_id
    left join rooms r on r.id = ${roomId}
    left join room_participants p on p.room_id = r.id and p.user_id = u.id
    where ${liveSession(sql, session)}`;
  if (!row) throw unauthorized();
  if (!row.status) throw roomNotFound();
  if (row.status === "ended") throw roomEnded();
  if (!row.role) throw notParticipant();
  if (row.removed) throw removedByHost();
  return {
    user: { id: session.userId, display_name: row.display_name },
    call_type: row.call_type,
    role: row.role,
  };
}

export const knockRequired = () => new AppError(403, "knock_required", "error.knock_required");
export const invitedOnly = () => new AppError(403, "invited_only", "error.invited_only");
export const meetingLocked = () => new AppError(403, "meeting_locked", "error.meeting_locked");

/** Why someone not on the meeting's list may not come in through the link; null if they may. */
export function newcomerRefusal(room: { entry: EntryPolicy; locked: boolean }): AppError | null {
  if (room.entry === "invited") return invitedOnly();
  if (room.locked) return meetingLocked();
  if (room.entry === "knock") return knockRequired();
  return null;
}

export const guestsNotAllowed = () =>
  new AppError(403, "guests_not_allowed", "error.guests_not_allowed");

/**
 * What a guest joining through the link needs: the room open to guests (404, 410, 403
 * otherwise), and its entry policy for a guest it does not know yet (`newcomerRefusal`).
 */
export async function roomForGuest(
  sql: Sql,
  id: string,
): Promise<{ call_type: CallType; entry: EntryPolicy; locked: boolean }> {
  const [row] = await sql<
    {
      status: RoomStatus;
      call_type: CallType;
      allow_guests: boolean;
      entry: EntryPolicy;
      locked: boolean;
    }[]
  >`
    select status, call_type, allow_guests, entry, locked from rooms where id = ${id}`;
  if (!row) throw roomNotFound();
  if (row.status === "ended") throw roomEnded();
  if (!row.allow_guests) throw guestsNotAllowed();
  return row;
}

/** The room as a given viewer may see it: members get everything, link holders a summary. */
export function roomView(room: Room, viewerId: string, publicUrl: string) {
  const inCall = room.participants.filter((p) => p.in_call).length + room.guests_in_call;
  const invite_url = `${publicUrl}/meeting/invite?room=${room.id}`;
  if (room.participants.some((p) => p.id === viewerId)) {
    return { ...room, in_call_count: inCall, invite_url };
  }
  return {
    id: room.id,
    room_name: room.room_name,
    call_type: room.call_type,
    status: room.status,
    created_by: { display_name: room.created_by.display_name },
    created_at: room.created_at,
    allow_guests: room.allow_guests,
    entry: room.entry,
    locked: room.locked,
    in_call_count: inCall,
    invite_url,
  };
}
