// Answering calls, withdrawing them and ringing more people into a meeting.
import { Fragment, type Sql, type Tx } from "../platform/db.ts";
import { AppError, notFound } from "../platform/errors.ts";
import { lockPeople } from "../accounts/users.ts";
import { publish } from "../platform/events.ts";
import {
  cancelPending,
  DEFAULT_RING_SECONDS,
  expireDue,
  INVITE_COLUMNS,
  type InviteStatus,
  ring,
} from "./ring.ts";
import type { InviteJson } from "../../protocol/api.ts";
import { joinLocked, lockRoom, notContacts, notHost, roomEnded } from "./rooms.ts";

/** An invite as read from the database: InviteJson with its time still a Date. */
export type Invite = Omit<InviteJson, "created_at"> & { created_at: Date };

/** Missed calls stay listed for this long. */
const MISSED_LISTED_DAYS = 7;
const MISSED_LISTED_MAX = 20;

const inviteNotFound = () => notFound("error.nf.call");

/** An invite (as `i`) that was missed: marked so, or still pending past its time. */
const MISSED = new Fragment(
  ["(i.status = 'missed' or (i.status = 'pending' and i.expires_at <= now()))"],
  [],
);

/** A user's ringing invites, oldest first, then their recent missed calls, newest first. */
export async function listInvites(sql: Sql, userId: string): Promise<Invite[]> {
  const [pending, missed] = await Promise.all([
    pendingInvites(sql, [userId]),
    sql<Invite[]>`
      select ${INVITE_COLUMNS(sql)}
      from invites i join rooms r on r.id = i.room_id join users f on f.id = i.inviter_id
      where i.invitee_id = ${userId}
        and ${MISSED} and i.dismissed_at is null
        and i.created_at > now() - make_interval(days => ${MISSED_LISTED_DAYS})
      order by i.created_at desc, i.id
      limit ${MISSED_LISTED_MAX}`,
  ]);
  return [...pending, ...missed];
}

/**
 * Takes a missed call off the user's list (seen, or called back). 404 for a call that is not
 * theirs; 409 for one answered or still ringing.
 */
export async function dismissMissed(sql: Sql, inviteId: string, userId: string): Promise<void> {
  const dismissed = await sql`
    update invites i set dismissed_at = coalesce(i.dismissed_at, now())
    where i.id = ${inviteId} and i.invitee_id = ${userId} and ${MISSED}
    returning i.id`;
  if (dismissed.length > 0) return;
  // Why not: someone else's call (or none), or one answered or still ringing.
  const [mine] = await sql`select 1 from invites where id = ${inviteId} and invitee_id = ${userId}`;
  if (!mine) throw inviteNotFound();
  throw new AppError(409, "not_missed", "error.not_missed");
}

type Addressed = Invite & { invitee_id: string };

/** Invites with their invitee: those ringing some users, or those with some ids. */
function addressed(sql: Sql, where: ReturnType<Sql>): Promise<Addressed[]> {
  return sql<Addressed[]>`
    select ${INVITE_COLUMNS(sql)}, i.invitee_id
    from invites i join rooms r on r.id = i.room_id join users f on f.id = i.inviter_id
    where ${where}
    order by i.created_at, i.id`;
}

/** The ringing invites of several users (what a socket is sent when it connects). */
export function pendingInvites(sql: Sql, userIds: string[]): Promise<Addressed[]> {
  return addressed(
    sql,
    sql`i.invitee_id = any(${userIds}::uuid[]) and i.status = 'pending' and i.expires_at > now()`,
  );
}

/** Invites by id (what the ringing sockets are sent). */
export function invitesById(sql: Sql, ids: string[]): Promise<Addressed[]> {
  return addressed(sql, sql`i.id = any(${ids}::uuid[])`);
}

/**
 * Locks the room of one of `userId`'s invites (as invitee, or as inviter with `asInviter`),
 * turns it to missed if its time is up, and returns it locked. 404 for anyone else's.
 */
async function lockInvite(tx: Tx, inviteId: string, userId: string, asInviter = false) {
  const [found] = await tx<{ room_id: string }[]>`
    select room_id from invites
    where id = ${inviteId} and ${asInviter ? tx`inviter_id` : tx`invitee_id`} = ${userId}`;
  if (!found) throw inviteNotFound();
  // The room's lock first, as every write on a room takes it: joins, leaves, ending, answers.
  const room = await lockRoom(tx, found.room_id);
  await expireDue(tx, found.room_id);
  const [invite] = await tx<{ status: InviteStatus; invitee_id: string; inviter_id: string }[]>`
    select status, invitee_id, inviter_id from invites where id = ${inviteId} for update`;
  return { room, roomId: found.room_id, ...invite };
}

function closed(status: InviteStatus): AppError {
  switch (status) {
    case "missed":
      return new AppError(410, "invite_missed", "error.invite_missed");
    case "cancelled":
      return new AppError(410, "invite_cancelled", "error.invite_cancelled");
    case "declined":
      return new AppError(409, "invite_declined", "error.invite_declined");
    default:
      return new AppError(409, "invite_accepted", "error.invite_accepted");
  }
}

/** Records the invitee's answer to a locked, ringing invite, with its event. */
async function answer(
  tx: Tx,
  inviteId: string,
  inv: { roomId: string; invitee_id: string; inviter_id: string },
  status: "accepted" | "declined",
) {
  await tx`update invites set status = ${status}, answered_at = now() where id = ${inviteId}`;
  await publish(tx, {
    e: "answered",
    invite_id: inviteId,
    room_id: inv.roomId,
    invitee_id: inv.invitee_id,
    inviter_id: inv.inviter_id,
    status,
  });
}

/** Accepts a call: the invitee joins the room's call. Returns the room's id. */
export async function acceptInvite(sql: Sql, inviteId: string, userId: string): Promise<string> {
  return await sql.begin(async (tx) => {
    const inv = await lockInvite(tx, inviteId, userId);
    if (inv.room.status === "ended") throw roomEnded();
    // Accepting twice (two tabs) joins twice, which is harmless.
    if (inv.status !== "pending" && inv.status !== "accepted") throw closed(inv.status);
    if (inv.status === "pending") await answer(tx, inviteId, inv, "accepted");
    await joinLocked(tx, inv.roomId, inv.room, userId);
    return inv.roomId;
  });
}

/** Declines a call. Declining twice is not an error. */
export async function declineInvite(sql: Sql, inviteId: string, userId: string): Promise<void> {
  await sql.begin(async (tx) => {
    const inv = await lockInvite(tx, inviteId, userId);
    if (inv.status === "declined") return;
    if (inv.status !== "pending") throw closed(inv.status);
    await answer(tx, inviteId, inv, "declined");
    await publish(tx, { e: "room", room_id: inv.roomId });
  });
}

/** The caller withdraws a call that is still ringing. */
export async function cancelInvite(sql: Sql, inviteId: string, userId: string): Promise<void> {
  await sql.begin(async (tx) => {
    const inv = await lockInvite(tx, inviteId, userId, true);
    if (inv.status === "cancelled") return;
    if (inv.status !== "pending") {
      throw new AppError(
        409,
        "invite_answered",
        ["error.invite_answered", { status: { t: `invite.${inv.status}` } }],
      );
    }
    await cancelPending(tx, inv.roomId, "withdrawn", inviteId);
  });
}

/**
 * The host rings more contacts into a meeting that has not ended: they become participants and
 * are rung (unless already in the call or ringing); someone the host removed may come back.
 * 403 for anyone but the host; 400 names non-contacts. Returns how many were rung.
 */
export async function inviteMore(
  sql: Sql,
  roomId: string,
  hostId: string,
  participants: string[],
  ringSeconds = DEFAULT_RING_SECONDS,
  beforeRing?: (tx: Tx, invitees: string[]) => Promise<void>,
): Promise<number> {
  const wanted = [...new Set(participants)].filter((id) => id !== hostId);
  return await sql.begin(async (tx) => {
    // People before the room (the one order of locks): a block between them waits, or is seen.
    await lockPeople(tx, [hostId, ...wanted], "share");
    const room = await lockRoom(tx, roomId);
    if (room.created_by !== hostId) {
      throw notHost("act.invite");
    }
    if (room.status === "ended") throw roomEnded();
    const contacts = await tx<{ id: string }[]>`
      select contact_id::text as id from contacts
      where owner_id = ${hostId} and contact_id = any(${wanted}::uuid[])`;
    const known = new Set(contacts.map((c) => c.id));
    const strangers = wanted.filter((id) => !known.has(id));
    if (strangers.length > 0) throw notContacts(strangers);
    await beforeRing?.(tx, wanted);
    await tx`
      insert into room_participants (room_id, user_id, role)
      select ${roomId}, id, 'member' from unnest(${wanted}::uuid[]) as id
      on conflict (room_id, user_id) do update set removed_at = null
      where room_participants.removed_at is not null`;
    const rung = await ring(tx, roomId, hostId, wanted, ringSeconds);
    await publish(tx, { e: "room", room_id: roomId });
    return rung.length;
  });
}
