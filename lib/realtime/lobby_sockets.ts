// The sockets of browsers waiting in a lobby (GET /ws/lobby, by their ticket): each is sent its
// knock's state on opening and whenever it changes, or whether a host is in the call changes.
// They may only ping.
import type { Sql } from "../platform/db.ts";
import { errorFields, type Logger } from "../platform/log.ts";
import { knockState } from "../meetings/lobby.ts";
import {
  CLOSE_ABUSE,
  CLOSE_TOO_SLOW,
  type LobbyMessage,
  parseClientFrame,
} from "../../protocol/ws.ts";

/** Tabs of one browser that may wait on the same knock. */
export const MAX_WAITING_TABS = 4;

// Frames a waiting browser may send in a minute (it only pings).
const FRAMES_PER_MINUTE = 30;

interface Waiting {
  ws: WebSocket;
  knockId: string;
  roomId: string;
  /** Frames received since `since` (a minute's window). */
  frames: number;
  since: number;
}

/** This instance's waiting sockets, by socket and by knock. */
export class LobbySockets {
  #bySocket = new Map<WebSocket, Waiting>();
  #byKnock = new Map<string, Set<Waiting>>();

  constructor(
    private sql: Sql,
    private log: Logger,
    private maxBufferedBytes: number,
  ) {}

  get size(): number {
    return this.#bySocket.size;
  }

  /** Sockets waiting on this instance for one knock (its tabs). */
  waitingFor(knockId: string): number {
    return this.#byKnock.get(knockId)?.size ?? 0;
  }

  open(ws: WebSocket, knockId: string, roomId: string): void {
    const entry: Waiting = { ws, knockId, roomId, frames: 0, since: Date.now() };
    this.#bySocket.set(ws, entry);
    let set = this.#byKnock.get(knockId);
    if (!set) this.#byKnock.set(knockId, set = new Set());
    set.add(entry);
    this.tell([knockId]).catch((err) => this.log.warn("lobby state not sent", errorFields(err)));
  }

  closed(ws: WebSocket): void {
    const entry = this.#bySocket.get(ws);
    if (!entry) return;
    this.#bySocket.delete(ws);
    const set = this.#byKnock.get(entry.knockId);
    set?.delete(entry);
    if (set?.size === 0) this.#byKnock.delete(entry.knockId);
  }

  /** A frame from a waiting browser: a ping gets a pong; a flood closes the socket. */
  message(ws: WebSocket, data: unknown): void {
    const entry = this.#bySocket.get(ws);
    if (!entry) return;
    const now = Date.now();
    if (now - entry.since > 60_000) {
      entry.since = now;
      entry.frames = 0;
    }
    if (++entry.frames > FRAMES_PER_MINUTE) {
      this.closed(ws);
      ws.close(CLOSE_ABUSE, "too many frames");
      return;
    }
    const frame = parseClientFrame(data);
    if (!("error" in frame) && frame.type === "ping" && ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify({ type: "pong" } satisfies LobbyMessage));
    }
  }

  /** The knocks waited on here for a meeting (whether a host is in it may have changed). */
  knocksIn(roomId: string): Set<string> {
    const knocks = new Set<string>();
    for (const w of this.#bySocket.values()) if (w.roomId === roomId) knocks.add(w.knockId);
    return knocks;
  }

  /** Sends each of these knocks' waiting sockets the knock's state now. */
  async tell(knockIds: Iterable<string>): Promise<void> {
    for (const knockId of knockIds) {
      const sockets = [...this.#byKnock.get(knockId) ?? []];
      if (sockets.length === 0) continue;
      const knock = await knockState(this.sql, knockId);
      const text = JSON.stringify({ type: "knock", knock } satisfies LobbyMessage);
      for (const w of sockets) {
        if (w.ws.readyState !== WebSocket.OPEN) continue;
        if (w.ws.bufferedAmount > this.maxBufferedBytes) {
          this.closed(w.ws);
          w.ws.close(CLOSE_TOO_SLOW, "too slow");
          continue;
        }
        w.ws.send(text);
        // Answered, withdrawn, ended or expired: that was the last thing to hear.
        if (knock.status !== "waiting") {
          this.closed(w.ws);
          w.ws.close(1000, "knock closed");
        }
      }
    }
  }

  /** Closes every waiting socket as going away. */
  closeAll(): void {
    for (const w of this.#bySocket.values()) w.ws.close(1001, "server shutting down");
    this.#bySocket.clear();
    this.#byKnock.clear();
  }
}
