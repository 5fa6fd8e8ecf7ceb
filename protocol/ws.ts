// The real-time channel's messages (GET /ws). The server pushes; the client only pings and asks
// for a fresh snapshot. Answers to calls go over REST (/api/invites/{id}/accept|decline).
import type { InviteJson, KnockStateJson, LobbyJson, RoomJson } from "./api.ts";

export type ServerMessage =
  /** Everything ringing the user now; sent on connect and whenever the server resubscribes. */
  | { type: "sync"; invites: InviteJson[]; lobbies: LobbyJson[] }
  /** A call is ringing the user. */
  | { type: "invite"; invite: InviteJson }
  /** A call stopped ringing: the caller withdrew it, or the meeting ended. */
  | { type: "invite_cancelled"; invite_id: string; room_id: string; reason: "withdrawn" | "ended" }
  /** A call's outcome, sent to the caller and to every tab of the person rung. */
  | {
    type: "invite_answered";
    invite_id: string;
    room_id: string;
    user_id: string;
    status: "accepted" | "declined" | "missed";
  }
  /** A meeting the user belongs to changed (status, who is in the call, who is ringing). */
  | { type: "room_updated"; room_id: string; room: RoomJson }
  /** Who waits in the lobby of a meeting the user hosts or co-hosts (empty: nobody now). */
  | { type: "lobby"; lobby: LobbyJson }
  /** The user's contacts or contact requests changed: read them again. */
  | { type: "contacts_changed" }
  | { type: "pong" }
  | { type: "error"; code: string; message: string };

/** What GET /ws/lobby sends the browser of someone waiting in a lobby. */
export type LobbyMessage = { type: "knock"; knock: KnockStateJson } | { type: "pong" };

export type ClientMessage = { type: "ping" } | { type: "sync" };

/** Client frames larger than this are refused. */
export const MAX_CLIENT_FRAME_BYTES = 1024;

/** Close codes the server uses beyond the standard ones. */
export const CLOSE_SIGNED_OUT = 4001;
export const CLOSE_SESSION_EXPIRED = 4002;
export const CLOSE_TOO_SLOW = 4008;
export const CLOSE_ABUSE = 4009;

/** Reads a client frame; an error message (to send back) when it is not a valid one. */
export function parseClientFrame(
  data: unknown,
): ClientMessage | { error: { code: string; message: string } } {
  if (typeof data !== "string") {
    return { error: { code: "unsupported_frame", message: "Send text frames holding JSON." } };
  }
  if (
    data.length > MAX_CLIENT_FRAME_BYTES ||
    new TextEncoder().encode(data).length > MAX_CLIENT_FRAME_BYTES
  ) {
    return {
      error: {
        code: "frame_too_large",
        message: `Frames are limited to ${MAX_CLIENT_FRAME_BYTES} bytes.`,
      },
    };
  }
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return { error: { code: "invalid_json", message: "The frame is not valid JSON." } };
  }
  const type = typeof value === "object" && value !== null
    ? (value as { type?: unknown }).type
    : undefined;
  if (type === "ping" || type === "sync") return { type };
  return {
    error: {
      code: "unknown_type",
      message: 'Unknown message: the client may send {"type":"ping"} or {"type":"sync"}.',
    },
  };
}
