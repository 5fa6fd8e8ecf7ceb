// Who is really in a call, as LiveKit reports it through webhooks. The join and leave routes
// record what a browser says it is doing; these events correct it when a tab dies, a network
// drops or a meeting empties. Each event is applied once (LiveKit may deliver one twice), under
// the room's row lock, and publishes a room update in the same transaction.
import type { WebhookEvent } from "livekit-server-sdk";
import type { LiveKit } from "./livekit.ts";
import type { Logger } from "../platform/log.ts";
import { errorFields } from "../platform/log.ts";
import type { Sql, Tx } from "../platform/db.ts";
import { publish } from "../platform/events.ts";
import { AppError } from "../platform/errors.ts";
import { GUEST_IDENTITY, isLiveKitNotFound, USER_IDENTITY } from "./livekit.ts";
import { markEnded, ROOM_ID_PATTERN, type RoomStatus } from "./rooms.ts";

/** What happened to an event, and what LiveKit must still be told. */
export type PresenceOutcome =
  | { result: "duplicate" | "ignored" | "applied" }
  /** Someone connected who may not be there (room ended, removed, not a participant). */
  | { result: "evict"; room: string; identity: string }
  /** A connection to a meeting that has ended: LiveKit's room must go. */
  | { result: "close"; room: string };

// A delivery's time may differ from ours by clock skew and retries, never by this much.
const MAX_EVENT_SKEW_MS = 24 * 60 * 60 * 1000;

/**
 * When LiveKit says an event happened (now if it does not say); 400 for a time no LiveKit
 * would send (more than a day away, or not a time at all), even when signed.
 */
export function eventTime(event: WebhookEvent, now = Date.now()): Date {
  if (!event.createdAt) return new Date(now);
  const ms = Number(event.createdAt) * 1000;
  if (!Number.isFinite(ms) || Math.abs(ms - now) > MAX_EVENT_SKEW_MS) {
    throw new AppError(
      400,
      "invalid_event",
      "error.invalid_event.time",
    );
  }
  return new Date(ms);
}

/** Applies one verified webhook event. */
export async function applyWebhook(sql: Sql, event: WebhookEvent): Promise<PresenceOutcome> {
  const roomId = event.room?.name ?? "";
  const participant = event.participant;
  const happenedAt = eventTime(event);
  return await sql.begin(async (tx) => {
    const [fresh] = await tx`
      insert into livekit_events (id, event, room_id, participant_sid, happened_at)
      values (${event.id}, ${event.event}, ${roomId || null}, ${participant?.sid || null},
        ${happenedAt})
      on conflict (id) do nothing
      returning 1`;
    // Deliveries are kept a day: far longer than LiveKit retries one.
    await tx`delete from livekit_events where received_at < now() - interval '1 day'`;
    if (!fresh) return { result: "duplicate" };
    if (!ROOM_ID_PATTERN.test(roomId)) return { result: "ignored" };
    const [room] = await tx<{ status: RoomStatus; allow_guests: boolean }[]>`
      select status, allow_guests from rooms where id = ${roomId} for update`;
    if (!room) return { result: "ignored" };

    switch (event.event) {
      case "participant_joined":
        if (!participant) return { result: "ignored" };
        return await joined(tx, roomId, room, participant);
      case "participant_left":
      case "participant_connection_aborted":
        if (!participant) return { result: "ignored" };
        return await left(tx, roomId, participant.sid);
      case "room_finished":
        return await finished(tx, roomId, room.status, happenedAt);
      default:
        return { result: "ignored" };
    }
  });
}

async function joined(
  tx: Tx,
  roomId: string,
  room: { status: RoomStatus; allow_guests: boolean },
  p: { sid: string; identity: string; name: string },
): Promise<PresenceOutcome> {
  if (room.status === "ended") return { result: "close", room: roomId };
  // This connection's departure may have arrived first: it is over already.
  const [gone] = await tx`
    select 1 from livekit_events
    where participant_sid = ${p.sid}
      and event in ('participant_left', 'participant_connection_aborted')`;
  if (gone) return { result: "ignored" };
  let present;
  if (USER_IDENTITY.test(p.identity)) {
    [present] = await tx`
      update room_participants set in_call = true, livekit_sid = ${p.sid},
        joined_at = coalesce(case when in_call then joined_at end, now()), left_at = null
      where room_id = ${roomId} and user_id = ${p.identity} and removed_at is null
      returning 1`;
  } else if (GUEST_IDENTITY.test(p.identity) && room.allow_guests) {
    // A guest exists from their join through the link (lib/guests.ts); one the host removed
    // is not let back in with a token saved from before.
    [present] = await tx`
      update room_guests set in_call = true, livekit_sid = ${p.sid},
        joined_at = case when in_call then joined_at else now() end, left_at = null
      where room_id = ${roomId} and identity = ${p.identity} and removed_at is null
      returning 1`;
  }
  // Removed by the host, or holding a token the app no longer stands behind.
  if (!present) return { result: "evict", room: roomId, identity: p.identity };
  if (room.status === "waiting") await tx`update rooms set status = 'active' where id = ${roomId}`;
  await publish(tx, { e: "room", room_id: roomId });
  return { result: "applied" };
}

/** Only the connection that last joined takes its person out (not one replaced by a reconnect). */
async function left(tx: Tx, roomId: string, sid: string): Promise<PresenceOutcome> {
  const rows = await tx`
    with u as (
      update room_participants set in_call = false, left_at = now()
      where room_id = ${roomId} and livekit_sid = ${sid} and in_call
      returning 1
    ), g as (
      update room_guests set in_call = false, left_at = now()
      where room_id = ${roomId} and livekit_sid = ${sid} and in_call
      returning 1
    )
    select 1 from u union all select 1 from g`;
  if (rows.length === 0) return { result: "ignored" };
  await publish(tx, { e: "room", room_id: roomId });
  return { result: "applied" };
}

/**
 * LiveKit closed the room: nobody is connected. People whose join came later are on their way
 * (they will open a new LiveKit room); everyone else is out, and a meeting nobody is in ends.
 */
async function finished(
  tx: Tx,
  roomId: string,
  status: RoomStatus,
  at: Date,
): Promise<PresenceOutcome> {
  if (status === "ended") return { result: "ignored" };
  await tx`update room_guests set in_call = false, left_at = now()
    where room_id = ${roomId} and in_call`;
  // LiveKit stamps events to the second: a join within that second counts as before it.
  await tx`update room_participants set in_call = false, left_at = now()
    where room_id = ${roomId} and in_call
      and (joined_at is null or joined_at < ${at}::timestamptz + interval '1 second')`;
  const [{ anyone }] = await tx<{ anyone: boolean }[]>`
    select exists(select 1 from room_participants where room_id = ${roomId} and in_call)
      as anyone`;
  if (!anyone && status === "active") await markEnded(tx, roomId);
  else await publish(tx, { e: "room", room_id: roomId });
  return { result: "applied" };
}

/** How the presence clock judges what LiveKit no longer has. */
export interface ReconcileOptions {
  /** A connection reported this recently may not be listed yet: it is left alone. */
  graceSeconds: number;
  /** LiveKit's `departure_timeout`: a meeting whose LiveKit room is gone and that nobody has
   * been in for this long ends, as `room_finished` would have ended it. */
  departureSeconds: number;
}

export const RECONCILE_DEFAULTS: ReconcileOptions = { graceSeconds: 30, departureSeconds: 120 };

/**
 * Corrects presence with LiveKit's own list of connections, for departures no webhook reported
 * (a LiveKit that crashed or restarted sends none): people the app has in a call whose
 * connection LiveKit no longer has are taken out; a meeting nobody is in, and LiveKit has no
 * connection for, ends after the departure timeout. Nothing changes unless LiveKit answers. Returns how many
 * people were taken out and meetings ended.
 */
export async function reconcilePresence(
  sql: Sql,
  livekit: LiveKit,
  options: ReconcileOptions = RECONCILE_DEFAULTS,
): Promise<{ takenOut: number; ended: number }> {
  const rooms = await sql<{ id: string }[]>`
    select id from rooms where status = 'active' order by created_at limit 500`;
  let takenOut = 0, ended = 0;
  for (const { id } of rooms) {
    // A LiveKit that does not answer says nothing about who left: the whole pass stops.
    const listed = await livekit.listConnections(id);
    const sids = (listed ?? []).map((c) => c.sid);
    await sql.begin(async (tx) => {
      const [room] = await tx<{ status: RoomStatus }[]>`
        select status from rooms where id = ${id} for update`;
      if (room?.status !== "active") return;
      const out = await tx`
        with u as (
          update room_participants set in_call = false, left_at = now()
          where room_id = ${id} and in_call and livekit_sid <> all(${sids}::text[])
            and joined_at < now() - make_interval(secs => ${options.graceSeconds})
          returning 1
        ), g as (
          update room_guests set in_call = false, left_at = now()
          where room_id = ${id} and in_call and livekit_sid <> all(${sids}::text[])
            and joined_at < now() - make_interval(secs => ${options.graceSeconds})
          returning 1
        )
        select 1 from u union all select 1 from g`;
      takenOut += out.length;
      // No connection at all (LiveKit lists an unknown room as empty): the meeting ends as
      // LiveKit's `room_finished` would have ended it.
      if (sids.length === 0) {
        const [{ idle }] = await tx<{ idle: boolean }[]>`
          select not exists(select 1 from room_participants where room_id = ${id} and in_call)
            and not exists(select 1 from room_guests where room_id = ${id} and in_call)
            and coalesce(
              greatest(
                (select max(left_at) from room_participants where room_id = ${id}),
                (select max(left_at) from room_guests where room_id = ${id})),
              (select created_at from rooms where id = ${id})
            ) < now() - make_interval(secs => ${options.departureSeconds}) as idle`;
        if (idle) {
          await markEnded(tx, id);
          ended++;
          return;
        }
      }
      if (out.length > 0) await publish(tx, { e: "room", room_id: id });
    });
  }
  return { takenOut, ended };
}

/** Runs `reconcilePresence` every `intervalMs` on this instance; returns its stop. */
export function startPresenceClock(
  sql: Sql,
  livekit: LiveKit,
  log: Logger,
  intervalMs = 30_000,
): () => void {
  let running = false;
  const timer = setInterval(async () => {
    if (running) return;
    running = true;
    try {
      const { takenOut, ended } = await reconcilePresence(sql, livekit);
      if (takenOut + ended > 0) log.info("presence reconciled", { taken_out: takenOut, ended });
    } catch (err) {
      log.debug("presence clock skipped", errorFields(err));
    } finally {
      running = false;
    }
  }, intervalMs);
  return () => clearInterval(timer);
}

/**
 * Tells LiveKit to drop someone holding a token the app no longer stands behind (a removed
 * person, or a meeting that ended); a failure only leaves them there until the next event.
 */
export async function enforceOutcome(
  livekit: LiveKit,
  log: Logger,
  outcome: PresenceOutcome,
): Promise<void> {
  if (outcome.result !== "evict" && outcome.result !== "close") return;
  try {
    if (outcome.result === "evict") {
      await livekit.removeParticipant(outcome.room, outcome.identity);
    } else await livekit.deleteRoom(outcome.room);
  } catch (err) {
    if (!isLiveKitNotFound(err)) {
      log.warn("livekit eviction failed", { room: outcome.room, ...errorFields(err) });
    }
  }
}

/** When LiveKit's room_started event for the doctor's probe room arrived; null if it did not. */
export async function probeReceivedAt(sql: Sql, room: string): Promise<Date | null> {
  const [seen] = await sql<{ received_at: Date }[]>`
    select received_at from livekit_events
    where room_id = ${room} and event = 'room_started' limit 1`;
  return seen?.received_at ?? null;
}
