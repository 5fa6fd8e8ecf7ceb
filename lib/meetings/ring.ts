// The invite state machine's writes, run inside the caller's transaction (which holds the
// room's row lock where it matters). Every change publishes its event in the same transaction.
//
//   pending ──accept──▶ accepted      pending ──(ring time passes)──▶ missed
//      │  └──decline──▶ declined         └──(host withdraws, room ends)──▶ cancelled
import type { Sql, Tx } from "../platform/db.ts";
import { type CancelReason, EVENTS_CHANNEL, publish } from "../platform/events.ts";

export type { InviteStatus } from "../../protocol/api.ts";

/** How long an invite rings before it is missed, unless configured otherwise. */
export const DEFAULT_RING_SECONDS = 60;

// NOTIFY payloads stay far below 8,000 bytes: about 80 bytes per invite.
const RING_EVENT_BATCH = 40;

/**
 * Rings each of `inviteeIds` who is a participant of the room, not in its call and not already
 * ringing. Returns the invites created.
 */
export async function ring(
  tx: Tx,
  roomId: string,
  inviterId: string,
  inviteeIds: string[],
  ringSeconds: number,
): Promise<{ id: string; invitee_id: string }[]> {
  if (inviteeIds.length === 0) return [];
  await expireDue(tx, roomId);
  const rows = await tx<{ id: string; invitee_id: string }[]>`
    insert into invites (room_id, invitee_id, inviter_id, expires_at)
    select ${roomId}, p.user_id, ${inviterId}, now() + make_interval(secs => ${ringSeconds})
    from room_participants p
    where p.room_id = ${roomId} and p.user_id = any(${inviteeIds}::uuid[])
      and p.user_id <> ${inviterId} and not p.in_call
    on conflict (room_id, invitee_id) where status = 'pending' do nothing
    returning id, invitee_id`;
  for (let i = 0; i < rows.length; i += RING_EVENT_BATCH) {
    const batch = rows.slice(i, i + RING_EVENT_BATCH);
    await publish(tx, {
      e: "ring",
      room_id: roomId,
      invites: batch.map((r) => [r.id, r.invitee_id]),
    });
  }
  return rows;
}

/**
 * Turns pending invites whose ring time has passed into missed ones, with their events: those
 * of one room (under its lock), or all of them (the clock every instance runs). The clock skips
 * rows another transaction holds, so it never waits on, or deadlocks with, a room's own writes.
 * Returns how many were missed.
 */
export async function expireDue(sql: Sql | Tx, roomId?: string): Promise<number> {
  const [{ missed }] = await sql<{ missed: number }[]>`
    with due as (
      select id from invites
      where status = 'pending' and expires_at <= now()
        ${roomId === undefined ? sql`` : sql`and room_id = ${roomId}`}
      ${roomId === undefined ? sql`for update skip locked` : sql`for update`}
    ), m as (
      update invites i set status = 'missed', answered_at = i.expires_at
      from due where i.id = due.id
      returning i.id, i.room_id, i.invitee_id, i.inviter_id
    ), answered as (
      select pg_notify(${EVENTS_CHANNEL}, json_build_object(
        'e', 'answered', 'invite_id', id, 'room_id', room_id, 'invitee_id', invitee_id,
        'inviter_id', inviter_id, 'status', 'missed')::text)
      from m
    ), rooms as (
      select pg_notify(${EVENTS_CHANNEL}, json_build_object('e', 'room', 'room_id', room_id)::text)
      from (select distinct room_id from m) r
    )
    select (select count(*) from answered)::int as missed, (select count(*) from rooms)::int as rooms`;
  return missed;
}

/**
 * Someone who joins a meeting while it is ringing them has answered: the call is accepted, and
 * their other tabs and the caller hear so.
 */
export async function acceptByJoining(tx: Tx, roomId: string, userId: string): Promise<void> {
  // A call that rang out but is not swept yet stays for the clock to mark missed.
  const rows = await tx<{ id: string; inviter_id: string }[]>`
    update invites set status = 'accepted', answered_at = now()
    where room_id = ${roomId} and invitee_id = ${userId} and status = 'pending'
      and expires_at > now()
    returning id, inviter_id`;
  for (const r of rows) {
    await publish(tx, {
      e: "answered",
      invite_id: r.id,
      room_id: roomId,
      invitee_id: userId,
      inviter_id: r.inviter_id,
      status: "accepted",
    });
  }
}

/** Cancels a room's pending invites (all, or one), with their events. */
export async function cancelPending(
  tx: Tx,
  roomId: string,
  reason: CancelReason,
  inviteId?: string,
): Promise<number> {
  await expireDue(tx, roomId);
  const rows = await tx<{ id: string; invitee_id: string; inviter_id: string }[]>`
    update invites set status = 'cancelled', answered_at = now()
    where room_id = ${roomId} and status = 'pending'
      ${inviteId === undefined ? tx`` : tx`and id = ${inviteId}`}
    returning id, invitee_id, inviter_id`;
  for (const r of rows) {
    await publish(tx, {
      e: "cancelled",
      invite_id: r.id,
      room_id: roomId,
      invitee_id: r.invitee_id,
      inviter_id: r.inviter_id,
      reason,
    });
  }
  if (rows.length > 0) await publish(tx, { e: "room", room_id: roomId });
  return rows.length;
}

/** The columns of InviteJson, for `invites i join rooms r join users f` (the inviter). */
export const INVITE_COLUMNS = (sql: Sql | Tx) =>
  sql`
  i.id, i.room_id, r.room_name, r.call_type,
  json_build_object('id', f.id, 'display_name', f.display_name) as "from",
  case when i.status = 'pending' and i.expires_at <= now() then 'missed' else i.status end
    as status,
  i.created_at,
  case when i.status = 'pending'
    then greatest(0, ceil(extract(epoch from i.expires_at - now())))::int else 0 end
    as expires_in`;
