// What a Join can have ready before the person presses it, gathered while they look at the
// device check: a token (fetched again before it ages), the way to LiveKit opened, and the
// check's running camera and microphone for the call to publish. Nothing here records a join
// or connects: presence waits for Join.
import type { Room } from "livekit-client";
import type { TokenJson } from "../../protocol/api.ts";
import { api } from "../api.ts";
import { Handoff } from "./DeviceCheck.tsx";
import { fetchToken, recordJoin, type Refusal, type TokenOutcome } from "./connect.ts";

/**
 * A token fetched ahead is replaced this long before it expires, and not used at Join with
 * less than a third of it left (the connect and its retries must finish within its life).
 */
const EARLY_MARGIN_MS = 90_000;

/**
 * A token fetched ahead: it records nothing (a member's join waits for their Join); null when
 * it cannot be had, and Join then asks again and says why.
 */
async function fetchEarlyToken(roomId: string, member: boolean): Promise<TokenJson | null> {
  return await (member
    ? api<TokenJson>("POST", "/api/livekit/token", { room_name: roomId })
    : api<TokenJson>("POST", `/api/livekit/rooms/${roomId}/guest/token`)).catch(() => null);
}

/** What a LiveKit token says of itself: when it expires (ms) and the role it carries. */
export function tokenClaims(jwt: string): { expires: number; role?: string } {
  try {
    const b64 = jwt.split(".")[1].replaceAll("-", "+").replaceAll("_", "/");
    const claims = JSON.parse(atob(b64));
    const role = typeof claims.metadata === "string" ? JSON.parse(claims.metadata).role : undefined;
    return { expires: Number(claims.exp) * 1000, role };
  } catch {
    return { expires: 0 };
  }
}

export class JoinAhead {
  private early: TokenJson | null = null;
  /** The token a host's admission brought (the lobby's), for the next attempt. */
  admitted: TokenJson | null = null;
  /** Where the device check offers its running stream; taken at Join for the call to publish. */
  readonly handoff = new Handoff();
  private preview: MediaStream | null = null;

  constructor(private readonly roomId: string) {}

  /**
   * While the check shows: a token fetched (and fetched again before it ages) and the way to
   * LiveKit opened on the Room Join will use (Room.prepareConnection). Returns what stops it.
   */
  prepare(member: boolean, room: () => Room): () => void {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ahead = async () => {
      const token = await fetchEarlyToken(this.roomId, member);
      if (stopped) return;
      this.early = token;
      if (!token) return;
      room().prepareConnection(token.url, token.token).catch(() => {});
      const { expires } = tokenClaims(token.token);
      timer = setTimeout(ahead, Math.max(30_000, expires - EARLY_MARGIN_MS - Date.now()));
    };
    ahead();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }

  /**
   * The token an attempt connects with: the lobby's, the one fetched ahead when still good, or
   * one that comes with the join. `recorded`: a member's join, recorded while the page connects
   * when the token was in hand (null when the join's answer brought the token).
   */
  async forJoin(member: boolean, role?: string): Promise<{
    token: TokenOutcome;
    recorded: Promise<Refusal | null | "leaving"> | null;
  }> {
    const admitted = this.admitted;
    this.admitted = null;
    const early = admitted ? null : this.token(role);
    const recorded = member && early ? recordJoin(this.roomId) : null;
    return { token: admitted ?? early ?? await fetchToken(this.roomId, member), recorded };
  }

  /**
   * The token fetched ahead, when it is still good for this Join (enough life left, and the
   * role the meeting now gives, `role`, when known: made co-host while looking at the check,
   * a fresh token says so); it is used once.
   */
  private token(role?: string): TokenJson | null {
    const token = this.early;
    this.early = null;
    if (!token) return null;
    const claims = tokenClaims(token.token);
    if (claims.expires - Date.now() < EARLY_MARGIN_MS / 3) return null;
    if (role && claims.role !== role) return null;
    return token;
  }

  /** At Join (or when let in): the check's stream becomes the call's. */
  takePreview() {
    this.dropPreview();
    this.preview = this.handoff.take();
  }
  /** The stream for the call to publish, once: it is the library's from then on. */
  publishPreview(): MediaStream | null {
    const preview = this.preview;
    this.preview = null;
    return preview;
  }
  /** A preview the call took and will not publish (the attempt failed or stopped): stopped. */
  dropPreview() {
    this.preview?.getTracks().forEach((t) => t.stop());
    this.preview = null;
  }
}
