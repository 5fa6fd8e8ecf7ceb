// The JSON the HTTP API sends, as the browser sees it (dates are ISO strings). Shared by the
// server-rendered pages and the islands; nothing here may import server code.

export type CallType = "audio" | "video";
export type RoomStatus = "waiting" | "active" | "ended";

export interface UserJson {
  id: string;
  email: string;
  display_name: string;
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
  role: "host" | "member";
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

export interface ErrorJson {
  error: { code: string; message: string; fields?: { field: string; message: string }[] };
}

/** Limits the islands enforce before the server does. */
export const CHAT_MAX_CHARS = 2000;
