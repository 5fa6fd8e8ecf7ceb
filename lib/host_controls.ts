// What only a meeting's host may do to other people in its call. Each change goes to LiveKit
// with server credentials (the host's own token never carries roomAdmin) and to the database;
// when LiveKit cannot be reached the change is not made at all and the host gets a 503.
import type { Sql } from "./db.ts";
import { AppError, notFound } from "./errors.ts";
import { publish } from "./events.ts";
import { isLiveKitNotFound, type LiveKit, livekitUnavailable } from "./livekit.ts";
import { cancelPending } from "./ring.ts";
import { lockRoom, notHost, roomEnded } from "./rooms.ts";

const participantNotFound = () => notFound("This participant");

/**
 * Takes someone out of the call: LiveKit disconnects them, and a member cannot join again or get
 * a token until the host invites them again; a guest's pass stops working, and that browser
 * cannot join as a guest again. Their ringing call, if any, stops.
 */
export async function removeParticipant(
  sql: Sql,
  livekit: LiveKit,
  roomId: string,
  hostId: string,
  identity: string,
): Promise<void> {
  await sql.begin(async (tx) => {
    const room = await lockRoom(tx, roomId);
    if (room.created_by !== hostId) throw notHost("remove people from this meeting");
    if (room.status === "ended") throw roomEnded();
    if (identity === hostId) {
      throw new AppError(
        400,
        "cannot_remove_host",
        "The host cannot remove themself; leave instead.",
      );
    }
    const [member] = await tx<{ invite: string | null }[]>`
      update room_participants set removed_at = now(), in_call = false,
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
  hostId: string,
  identity: string,
  trackSid: string,
): Promise<void> {
  const [room] = await sql<{ created_by: string; status: string }[]>`
    select created_by::text, status from rooms where id = ${roomId}`;
  if (!room) throw notFound("This meeting");
  if (room.created_by !== hostId) throw notHost("mute people in this meeting");
  if (room.status === "ended") throw roomEnded();
  try {
    await livekit.muteTrack(roomId, identity, trackSid);
  } catch (err) {
    if (isLiveKitNotFound(err)) throw notFound("This track");
    throw livekitUnavailable();
  }
}
