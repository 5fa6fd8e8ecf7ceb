// What one instance tells every instance: PostgreSQL NOTIFY on one channel, sent inside the
// transaction that made the change (so it is delivered when, and only if, that commits). A
// payload carries ids only; an instance that has sockets for the people concerned reads the
// rest. NOTIFY payloads are limited to 8,000 bytes, which is why.
import type { Sql, Tx } from "./db.ts";
import { errorFields, type Logger } from "./log.ts";

export const EVENTS_CHANNEL = "urbania_events";

export type AnsweredStatus = "accepted" | "declined" | "missed";
export type CancelReason = "withdrawn" | "ended";

export type BusEvent =
  /** Invites started ringing: pairs of [invite id, invitee id]. */
  | { e: "ring"; room_id: string; invites: [string, string][] }
  | {
    e: "answered";
    invite_id: string;
    room_id: string;
    invitee_id: string;
    inviter_id: string;
    status: AnsweredStatus;
  }
  | {
    e: "cancelled";
    invite_id: string;
    room_id: string;
    invitee_id: string;
    inviter_id: string;
    reason: CancelReason;
  }
  /** Something about a room changed: status, who is in it, an invite's state. */
  | { e: "room"; room_id: string }
  /** A knock changed (made, answered, expired, withdrawn): its browser hears of it. */
  | { e: "knock"; knock_id: string; room_id: string }
  /** Who waits in a room's lobby changed: its hosts and co-hosts hear of it. */
  | { e: "lobby"; room_id: string }
  /** These users' contacts or contact requests changed. */
  | { e: "contacts"; users: string[] }
  /** A session ended (sign-out): hex of its id hash. */
  | { e: "signout"; session: string };

/** Sends an event when `tx`'s transaction commits (at once outside a transaction). */
export async function publish(tx: Sql | Tx, event: BusEvent): Promise<void> {
  await tx`select pg_notify(${EVENTS_CHANNEL}, ${JSON.stringify(event)})`;
}

const KINDS = new Set([
  "ring",
  "answered",
  "cancelled",
  "room",
  "knock",
  "lobby",
  "contacts",
  "signout",
]);

/** Reads a payload; null for anything that is not one of ours. */
export function parseBusEvent(payload: string): BusEvent | null {
  try {
    const value = JSON.parse(payload);
    return typeof value === "object" && value !== null && KINDS.has(value.e) ? value : null;
  } catch {
    return null;
  }
}

/**
 * This instance's subscription to the channel, on a dedicated connection. `sql.listen`
 * re-subscribes after the connection drops; events sent meanwhile are lost, so `onResync` is
 * called every time the subscription comes back, for the listener to catch up from the tables.
 */
export class EventBus {
  #unlisten: (() => Promise<void>) | null = null;
  #listens = 0;

  constructor(
    private sql: Sql,
    private log: Logger,
    private handlers: { onEvent(event: BusEvent): void; onResync(): void },
  ) {}

  async start(): Promise<void> {
    const { unlisten } = await this.sql.listen(EVENTS_CHANNEL, (payload) => {
      const event = parseBusEvent(payload);
      if (event) this.handlers.onEvent(event);
      else this.log.warn("unreadable event ignored", { bytes: payload.length });
    }, () => {
      if (this.#listens++ === 0) return;
      this.log.info("event channel resubscribed");
      try {
        this.handlers.onResync();
      } catch (err) {
        this.log.error("resync failed", errorFields(err));
      }
    });
    this.#unlisten = unlisten;
  }

  async stop(): Promise<void> {
    const unlisten = this.#unlisten;
    this.#unlisten = null;
    await unlisten?.().catch(() => {});
  }
}
