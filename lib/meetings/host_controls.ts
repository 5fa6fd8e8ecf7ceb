// What a meeting's host and co-hosts may do to other people in its call, and to who may enter.
// Changes to the call go to LiveKit with server credentials (no browser's token carries
// roomAdmin) and to the database; when LiveKit cannot be reached the change is not made at all
// and the moderator gets a 503. Only the host (the creator) names and unnames co-hosts and ends
// the meeting for everyone: a co-host cannot make more co-hosts, nor act on the host or on
// another co-host.
import type { Sql, Tx } from "../platform/db.ts";
import { AppError, notFound } from "../platform/errors.ts";
import { publish } from "../platform/events.ts";
import { isLiveKitNotFound, type LiveKit, livekitUnavailable } from "./livekit.ts";
import { answerAll, lockAsModerator, moderators, requireModerator } from "./lobby.ts";
import type { Logger } from "../platform/log.ts";
import { errorFields } from "../platform/log.ts";
import { cancelPending } from "./ring.ts";
import { endRoom, lockRoom, notHost, roomEnded } from "./rooms.ts";
import type { EntryPolicy, ParticipantMetadata } from "../../protocol/api.ts";

const participantNotFound = () => notFound("error.nf.participant");
const notOverHost = () => new AppError(403, "not_host", "error.not_host");

/** The role of someone in the room as the app has it (a guest identity: "guest"). */
async function roleOf(sql: Sql | Tx, roomId: string, identity: string) {
  const [row] = await sql<{ role: string }[]>`
    select role from room_participants
    where room_id = ${roomId} and user_id::text = ${identity} and removed_at is null`;
  return row?.role ?? "guest";
}

/** Nobody acts on the host but the host, and a co-host acts on no other co-host. */
async function requireOver(
  sql: Sql | Tx,
  roomId: string,
  room: { created_by: string },
  role: string,
  actorId: string,
  identity: string,
) {
  if (identity === actorId) return;
  if (identity === room.created_by) throw notOverHost();
  if (role === "cohost" && await roleOf(sql, roomId, identity) === "cohost") throw notOverHost();
}

/**
 * Takes someone out of the call: LiveKit disconnects them, and a member cannot join again or get
 * a token until the host invites them again; a guest's pass stops working, and that browser
 * cannot join as a guest again. Their ringing call, if any, stops; a co-host removed stops
 * being one.
 */
export async function removeParticipant(
  sql: Sql,
  livekit: LiveKit,
  roomId: string,
  actorId: string,
  identity: string,
): Promise<void> {
  await sql.begin(async (tx) => {
    const { room, role } = await lockAsModerator(tx, roomId, actorId, "act.remove");
    if (identity === actorId) {
      throw new AppError(400, "cannot_remove_self", "error.cannot_remove_self");
    }
    await requireOver(tx, roomId, room, role, actorId, identity);
    const [member] = await tx<{ invite: string | null }[]>`
      update room_participants set removed_at = now(), in_call = false, role = 'member',
        left_at = case when in_call then now() else left_at end
      where room_id = ${roomId} and user_id::text = ${identity} and removed_at is null
      returning (select id::text from invites
        where room_id = ${roomId} and invitee_id::text = ${identity} and status = 'pending')
        as invite`;
    // A removed guest stays out: their pass and any token they saved are refused from now on.
    const [guest] = member ? [] : await tx`
      update room_guests set removed_at = now(), in_call = false,
        left_at = case when in_call then now() else left_at end
      where room_id = ${roomId} and identity = ${identity} and removed_at is null
      returning 1`;
    if (member?.invite) await cancelPending(tx, roomId, "withdrawn", member.invite);
    try {
      await livekit.removeParticipant(roomId, identity);
    } catch (err) {
      // Not connected to the media server right now: removing them here is all it takes.
      if (!isLiveKitNotFound(err)) throw livekitUnavailable();
      if (!member && !guest) throw participantNotFound();
    }
    await publish(tx, { e: "room", room_id: roomId });
  });
}

/** Mutes a track someone publishes in the call (LiveKit lets only its owner unmute it). */
export async function muteTrack(
  sql: Sql,
  livekit: LiveKit,
  roomId: string,
  actorId: string,
  identity: string,
  trackSid: string,
): Promise<void> {
  const { room, role } = await requireModerator(sql, roomId, actorId, "act.mute");
  await requireOver(sql, roomId, room, role, actorId, identity);
  try {
    await livekit.muteTrack(roomId, identity, trackSid);
  } catch (err) {
    if (isLiveKitNotFound(err)) throw notFound("error.nf.track");
    throw livekitUnavailable();
  }
}

/**
 * Mutes every microphone in the call but the hosts' and co-hosts'. Returns how many were muted.
 * 409 when the call has nobody connected. `beforeLiveKit` runs once the caller is known to
 * moderate the room (rate limits).
 */
export async function muteEveryone(
  sql: Sql,
  livekit: LiveKit,
  roomId: string,
  actorId: string,
  beforeLiveKit?: () => Promise<void>,
): Promise<number> {
  await requireModerator(sql, roomId, actorId, "act.muteAll");
  await beforeLiveKit?.();
  const spared = new Set(await moderators(sql, roomId));
  const people = await connected(livekit, roomId);
  let muted = 0;
  for (const p of people) {
    if (spared.has(p.identity)) continue;
    for (const sid of p.microphones) {
      try {
        await livekit.muteTrack(roomId, p.identity, sid);
        muted++;
      } catch (err) {
        // Gone meanwhile: nothing to mute.
        if (!isLiveKitNotFound(err)) throw livekitUnavailable();
      }
    }
  }
  return muted;
}

const notInCall = () => new AppError(409, "not_in_call", "error.not_in_call");

/** Who LiveKit has in the call: 409 when it has no such room, 503 when it cannot be reached. */
async function connected(livekit: LiveKit, roomId: string) {
  try {
    return await livekit.participants(roomId);
  } catch (err) {
    if (isLiveKitNotFound(err)) throw notInCall();
    throw livekitUnavailable();
  }
}

/**
 * The host names a member co-host (`cohost`) or makes a co-host a member again. 404 for
 * someone not on the meeting's list; 400 for the host themself. Their tile says so at once when
 * they are connected (a LiveKit that cannot be told only delays that; their rights change now).
 */
export async function setCohost(
  sql: Sql,
  livekit: LiveKit,
  log: Logger,
  roomId: string,
  hostId: string,
  userId: string,
  cohost: boolean,
): Promise<void> {
  await sql.begin(async (tx) => {
    const room = await lockRoom(tx, roomId);
    if (room.created_by !== hostId) {
      throw notHost(cohost ? "act.nameCohosts" : "act.changeCohosts");
    }
    if (room.status === "ended") throw roomEnded();
    if (userId === hostId) {
      throw new AppError(400, "cannot_change_host", "error.cannot_change_host");
    }
    const [row] = await tx`
      update room_participants set role = ${cohost ? "cohost" : "member"}
      where room_id = ${roomId} and user_id = ${userId} and removed_at is null
      returning 1`;
    if (!row) throw participantNotFound();
    await publish(tx, { e: "room", room_id: roomId });
    await publish(tx, { e: "lobby", room_id: roomId });
  });
  try {
    await livekit.setMetadata(
      roomId,
      userId,
      JSON.stringify({ role: cohost ? "cohost" : "member" } satisfies ParticipantMetadata),
    );
  } catch (err) {
    if (!isLiveKitNotFound(err)) log.warn("role not shown in the call", errorFields(err));
  }
}

/**
 * A host or co-host changes who may enter: the entry policy and the lock. Opening the meeting
 * lets in everyone waiting in its lobby; making it invited-only turns them away; a lock keeps
 * them waiting for an answer but takes no one new.
 */
export async function updateEntry(
  sql: Sql,
  roomId: string,
  actorId: string,
  change: { entry?: EntryPolicy; locked?: boolean },
): Promise<void> {
  await sql.begin(async (tx) => {
    await lockAsModerator(tx, roomId, actorId, "act.entry");
    await tx`update rooms set
        entry = coalesce(${change.entry ?? null}, entry),
        locked = coalesce(${change.locked ?? null}, locked)
      where id = ${roomId}`;
    if (change.entry === "open") await answerAll(tx, roomId, actorId, "admit");
    if (change.entry === "invited") await answerAll(tx, roomId, actorId, "deny");
    await publish(tx, { e: "room", room_id: roomId });
  });
}

/** The attribute a raised hand sets: when it was raised, in ms since the epoch. */
export const HAND_ATTRIBUTE = "hand";

/**
 * Raises or lowers the caller's own hand in the call. The time comes from this server, so the
 * queue's order is the order hands reached it. 409 when the caller is not connected.
 */
export async function setHand(
  livekit: LiveKit,
  roomId: string,
  identity: string,
  raised: boolean,
): Promise<void> {
  try {
    await livekit.setAttributes(roomId, identity, {
      [HAND_ATTRIBUTE]: raised ? String(Date.now()) : "",
    });
  } catch (err) {
    if (isLiveKitNotFound(err)) {
      throw new AppError(409, "not_in_call", "error.not_in_call.hand");
    }
    throw livekitUnavailable();
  }
}

/**
 * A host or co-host lowers one person's hand (`identity`), or everyone's. Returns how many were
 * lowered. `beforeLiveKit` runs once the caller is known to moderate the room (rate limits).
 */
export async function lowerHands(
  sql: Sql,
  livekit: LiveKit,
  roomId: string,
  actorId: string,
  identity: string | undefined,
  beforeLiveKit?: () => Promise<void>,
): Promise<number> {
  await requireModerator(sql, roomId, actorId, "act.hands");
  await beforeLiveKit?.();
  const people = await connected(livekit, roomId);
  const raised = people.filter((p) =>
    p.attributes[HAND_ATTRIBUTE] && (identity === undefined || p.identity === identity)
  );
  if (identity !== undefined && !people.some((p) => p.identity === identity)) {
    throw participantNotFound();
  }
  for (const p of raised) {
    try {
      await livekit.setAttributes(roomId, p.identity, { [HAND_ATTRIBUTE]: "" });
    } catch (err) {
      if (!isLiveKitNotFound(err)) throw livekitUnavailable();
    }
  }
  return raised.length;
}

/**
 * Ends the meeting for everyone (its creator only) and closes LiveKit's room with it; when
 * LiveKit is away the meeting still ends here, and the presence clock closes it later.
 */
export async function endForEveryone(
  sql: Sql,
  livekit: LiveKit,
  log: Logger,
  roomId: string,
  actorId: string,
): Promise<void> {
  if (!await endRoom(sql, roomId, actorId)) return;
  try {
    await livekit.deleteRoom(roomId);
  } catch (err) {
    // Nobody ever connected: LiveKit has no such room, which is what we want.
    if (isLiveKitNotFound(err)) return;
    log.warn("livekit room not deleted", { room: roomId, ...errorFields(err) });
  }
}
