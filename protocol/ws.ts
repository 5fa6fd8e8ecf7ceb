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

// What arrives from the server is checked before a page acts on it: a message of an unknown
// type, or missing what its type promises, is dropped (and logged by the page), never acted on.
type Check = (v: unknown) => boolean;
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const str: Check = (v) => typeof v === "string";
const num: Check = (v) => typeof v === "number" && Number.isFinite(v);
const bool: Check = (v) => typeof v === "boolean";
const oneOf = (...values: string[]): Check => (v) => values.includes(v as string);
const listOf = (item: Check): Check => (v) => Array.isArray(v) && v.every(item);
const shape = (fields: Record<string, Check>): Check => (v) =>
  isObject(v) && Object.entries(fields).every(([k, check]) => check(v[k]));

const person = shape({ id: str, display_name: str });
const invite = shape({
  id: str,
  room_id: str,
  room_name: str,
  call_type: oneOf("audio", "video"),
  from: person,
  status: str,
  expires_in: num,
});
const room = shape({
  id: str,
  room_name: str,
  call_type: oneOf("audio", "video"),
  status: oneOf("waiting", "active", "ended"),
  created_by: person,
  participants: listOf(shape({ id: str, display_name: str })),
  in_call_count: num,
});
const lobby = shape({
  room_id: str,
  room_name: str,
  waiting: listOf(shape({ id: str, display_name: str })),
});
const knock = shape({ id: str, room_id: str, status: str, expires_in: num, host_present: bool });

const SERVER_MESSAGES: Record<ServerMessage["type"], Record<string, Check>> = {
  sync: { invites: listOf(invite), lobbies: (v) => v === undefined || listOf(lobby)(v) },
  invite: { invite },
  invite_cancelled: { invite_id: str, room_id: str },
  invite_answered: {
    invite_id: str,
    room_id: str,
    user_id: str,
    status: oneOf("accepted", "declined", "missed"),
  },
  room_updated: { room_id: str, room },
  lobby: { lobby },
  contacts_changed: {},
  pong: {},
  error: { code: str, message: str },
};

const LOBBY_MESSAGES: Record<LobbyMessage["type"], Record<string, Check>> = {
  knock: { knock },
  pong: {},
};

function parseWith<T>(table: Record<string, Record<string, Check>>, data: unknown): T | null {
  if (typeof data !== "string") return null;
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return null;
  }
  if (!isObject(value) || typeof value.type !== "string" || !Object.hasOwn(table, value.type)) {
    return null;
  }
  return shape(table[value.type])(value) ? value as T : null;
}

/** A frame of GET /ws as the browser receives it; null when it is not a valid message. */
export const parseServerMessage = (data: unknown): ServerMessage | null =>
  parseWith<ServerMessage>(SERVER_MESSAGES, data);

/** A frame of GET /ws/lobby; null when it is not a valid message. */
export const parseLobbyMessage = (data: unknown): LobbyMessage | null =>
  parseWith<LobbyMessage>(LOBBY_MESSAGES, data);
