// The JSON the HTTP API sends, as the browser sees it (dates are ISO strings). Shared by the
// server-rendered pages and the islands; nothing here may import server code.

export type CallType = "audio" | "video";
export type RoomStatus = "waiting" | "active" | "ended";
/**
 * Who the link lets in: `open` anyone; `knock` people who were not invited wait in the lobby
 * until a host admits them; `invited` only invited people.
 */
export type EntryPolicy = "open" | "knock" | "invited";
export const ENTRY_POLICIES: EntryPolicy[] = ["open", "knock", "invited"];
export type Role = "host" | "cohost" | "member";
/** Who someone is in a call, as their LiveKit token's metadata tells every browser. */
export type CallRole = Role | "guest";
export const CALL_ROLES: CallRole[] = ["host", "cohost", "member", "guest"];
/** A participant's metadata in LiveKit (JSON), set by the app in the token and on role changes. */
export interface ParticipantMetadata {
  role: CallRole;
}

export interface UserJson {
  id: string;
  email: string;
  display_name: string;
  /** The language the person chose (the switch on every page); null when never chosen. */
  lang: "en" | "fr" | null;
}

export interface ContactJson {
  id: string;
  email: string;
  display_name: string;
  added_at: string;
}

export type InviteStatus = "pending" | "accepted" | "declined" | "missed" | "cancelled";

export interface ParticipantJson {
  id: string;
  display_name: string;
  role: Role;
  in_call: boolean;
  /** The latest call that rang this person for the room; null when none did. */
  invite: { id: string; status: InviteStatus } | null;
}

/** A room as a member sees it. */
export interface RoomJson {
  id: string;
  room_name: string;
  call_type: CallType;
  status: RoomStatus;
  created_by: { id: string; display_name: string };
  created_at: string;
  allow_guests: boolean;
  entry: EntryPolicy;
  /** No new entries for now: no knocks, nobody new through the link. */
  locked: boolean;
  participants: ParticipantJson[];
  /** Guests (no account) in the call; in_call_count includes them. */
  guests_in_call: number;
  in_call_count: number;
  invite_url: string;
}

/** A room as a holder of its link sees it. */
export interface RoomSummaryJson {
  id: string;
  room_name: string;
  call_type: CallType;
  status: RoomStatus;
  created_by: { display_name: string };
  created_at: string;
  allow_guests: boolean;
  entry: EntryPolicy;
  locked: boolean;
  in_call_count: number;
  invite_url: string;
}

export function isMemberView(room: RoomJson | RoomSummaryJson): room is RoomJson {
  return "participants" in room;
}

/** A call ringing someone (or one they missed). */
export interface InviteJson {
  id: string;
  room_id: string;
  room_name: string;
  call_type: CallType;
  from: { id: string; display_name: string };
  status: InviteStatus;
  created_at: string;
  /** Seconds left to answer while it rings; 0 otherwise. */
  expires_in: number;
}

export interface TokenJson {
  token: string;
  url: string;
  room_name: string;
}

/** POST /api/livekit/rooms/{id}/join: the join recorded, and a token to connect with. */
export interface JoinJson extends TokenJson {
  message: string;
}

export type KnockStatus = "waiting" | "admitted" | "denied" | "expired" | "cancelled" | "ended";

/** Someone asking to come into a meeting, as its hosts see them. */
export interface KnockJson {
  id: string;
  room_id: string;
  display_name: string;
  /** True for someone without an account. */
  guest: boolean;
  created_at: string;
  /** Seconds left before the knock expires. */
  expires_in: number;
}

/** The people waiting in one meeting's lobby, oldest first (what a host's tabs show). */
export interface LobbyJson {
  room_id: string;
  room_name: string;
  waiting: KnockJson[];
}

/** One's own knock, as the waiting browser sees it. */
export interface KnockStateJson {
  id: string;
  room_id: string;
  room_name: string;
  call_type: CallType;
  display_name: string;
  status: KnockStatus;
  expires_in: number;
  /** Whether a host or co-host is in the call to answer. */
  host_present: boolean;
}

/** A contact request waiting for the user's answer. */
export interface ContactRequestJson {
  id: string;
  from: { id: string; email: string; display_name: string };
  created_at: string;
}

/** A request the user sent: only the email they typed (nothing says whether it has an account). */
export interface SentRequestJson {
  id: string;
  email: string;
  created_at: string;
}

export interface BlockedJson {
  id: string;
  display_name: string;
  blocked_at: string;
}

/** Reactions the call offers (anything else is ignored by every page). */
export const REACTIONS = ["👍", "👏", "😂", "❤️", "🎉", "😮"] as const;

export interface ErrorJson {
  error: { code: string; message: string; fields?: { field: string; message: string }[] };
}

/** Limits the islands enforce before the server does. */
export const CHAT_MAX_CHARS = 2000;
