// This instance's WebSockets and what it pushes to them. Events come from the PostgreSQL channel
// (lib/platform/events.ts), whichever instance caused them; each instance delivers to its own sockets.
import type { Config } from "../platform/config.ts";
import type { Sql } from "../platform/db.ts";
import { type BusEvent, EventBus } from "../platform/events.ts";
import { type Invite, invitesById, pendingInvites } from "../meetings/invites.ts";
import { errorFields, type Logger } from "../platform/log.ts";
import { expireDue } from "../meetings/ring.ts";
import { expireKnocks, lobbies, moderatedWithWaiting, moderators } from "../meetings/lobby.ts";
import { getRoom, roomView } from "../meetings/rooms.ts";
import { type SessionClaims, sessionKey } from "../accounts/sessions.ts";
import {
  CLOSE_ABUSE,
  CLOSE_SESSION_EXPIRED,
  CLOSE_SIGNED_OUT,
  CLOSE_TOO_SLOW,
  parseClientFrame,
  type ServerMessage,
} from "../../protocol/ws.ts";
import { Admission } from "./admission.ts";
import { LobbySockets, MAX_WAITING_TABS } from "./lobby_sockets.ts";
import type { LobbyJson } from "../../protocol/api.ts";

export interface RealtimeOptions {
  /** Seconds of silence after which the server pings; a socket that does not answer is closed. */
  idleTimeoutSeconds: number;
  /**
   * Bytes a socket may have waiting to be sent; a socket over it for a second, or over four
   * times it at all, is closed as too slow.
   */
  maxBufferedBytes: number;
  /** How often this instance turns unanswered invites into missed ones. */
  sweepIntervalMs: number;
  /** Client frames: a bucket of `frameBurst`, refilled at `framesPerSecond`. */
  frameBurst: number;
  framesPerSecond: number;
  /** Sockets this instance accepts at most; upgrades past it get a 503. */
  maxSockets: number;
  /** Sockets one account may hold on this instance (its tabs and devices); past it, 429. */
  maxSocketsPerUser: number;
}

export const DEFAULT_REALTIME: RealtimeOptions = {
  idleTimeoutSeconds: 30,
  maxBufferedBytes: 256 * 1024,
  sweepIntervalMs: 1000,
  frameBurst: 20,
  framesPerSecond: 2,
  maxSockets: 20_000,
  maxSocketsPerUser: 16,
};

// Events waiting for delivery at most; past that they are dropped and every socket resynced.
const MAX_QUEUED_EVENTS = 10_000;
// How long a socket's send queue may stay over the limit before it is taken for not reading.
const SLOW_GRACE_MS = 1000;
// Live events a socket may collect while its snapshot is being read.
const MAX_BACKLOG = 200;
// How long the snapshots of sockets opening together wait to be read in one query.
const SYNC_BATCH_MS = 5;
// How often sessions that expired while their socket was open are looked for.
const SESSION_CHECK_MS = 15_000;

interface Client {
  ws: WebSocket;
  userId: string;
  session: string;
  /** The session token's expiry, seconds since the epoch. */
  exp: number;
  /** False until its snapshot (`sync`) was sent; live events wait in `backlog` till then. */
  synced: boolean;
  backlog: string[];
  tokens: number;
  refilledAt: number;
  refused: number;
  /** Since when its send queue has been over the limit (0: it is not). */
  overSince: number;
}

type Wire<T> = { [K in keyof T]: T[K] extends Date ? string : T[K] };
const asJson = ({ invitee_id: _, ...invite }: Invite & { invitee_id?: string }) =>
  invite as unknown as Wire<Invite>;

export class Realtime {
  readonly options: RealtimeOptions;
  #clients = new Map<WebSocket, Client>();
  /** Sockets whose send queue is over the limit now. */
  #over = new Set<Client>();
  #byUser = new Map<string, Set<Client>>();
  #bus: EventBus;
  #queue: BusEvent[] = [];
  #draining = false;
  #sweeping = false;
  #timers: ReturnType<typeof setInterval>[] = [];
  #resyncTimer: ReturnType<typeof setTimeout> | undefined;
  #resyncDelay = 1000;
  #stopped = false;
  #toSync: Client[] = [];
  #waiting: LobbySockets;
  #admission = new Admission();

  constructor(
    private sql: Sql,
    private config: Config,
    private log: Logger,
    options: Partial<RealtimeOptions> = {},
  ) {
    this.options = { ...DEFAULT_REALTIME, ...options };
    this.#waiting = new LobbySockets(sql, log, this.options.maxBufferedBytes);
    this.#bus = new EventBus(sql, log, {
      onEvent: (event) => this.#enqueue(event),
      onResync: () => this.#resyncAll(),
    });
  }

  /** Subscribes to the event channel and starts the invite clock. */
  async start(): Promise<void> {
    await this.#bus.start();
    this.#timers.push(setInterval(() => this.#sweep(), this.options.sweepIntervalMs));
    this.#timers.push(setInterval(() => this.#closeExpired(), SESSION_CHECK_MS));
    this.#timers.push(setInterval(() => {
      for (const client of this.#over) this.#droppedAsSlow(client);
    }, SLOW_GRACE_MS / 2));
  }

  /** Closes every socket as going away and stops listening. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers) clearInterval(t);
    clearTimeout(this.#resyncTimer);
    for (const client of this.#clients.values()) this.#close(client, 1001, "server shutting down");
    this.#waiting.closeAll();
    await this.#bus.stop();
  }

  get socketCount(): number {
    return this.#clients.size + this.#waiting.size;
  }

  get full(): boolean {
    return this.socketCount + this.#admission.held >= this.options.maxSockets;
  }

  /**
   * Holds a place for a socket of `userId` about to be upgraded, counted with its open
   * sockets from this moment: upgrades that arrive together cannot all pass the check before
   * any of them opens. "instance" when this instance is full, "user" when the account is,
   * else a function that gives the place back (called by `open`, or on its own after 10 s).
   */
  admit(userId: string): "instance" | "user" | (() => void) {
    const place = this.#hold(
      userId,
      this.#byUser.get(userId)?.size ?? 0,
      this.options.maxSocketsPerUser,
    );
    return place === "full" ? "user" : place;
  }

  /** The same for a browser waiting in a lobby: at most MAX_WAITING_TABS per knock. */
  admitWaiting(knockId: string): "instance" | "knock" | (() => void) {
    const place = this.#hold(`knock:${knockId}`, this.waitingFor(knockId), MAX_WAITING_TABS);
    return place === "full" ? "knock" : place;
  }

  #hold(key: string, open: number, max: number): "instance" | "full" | (() => void) {
    if (this.full) return "instance";
    return this.#admission.hold(key, open, max);
  }

  /** A socket of a signed-in user opened: it is sent its snapshot, then live events. */
  open(ws: WebSocket, userId: string, claims: SessionClaims): void {
    const client: Client = {
      ws,
      userId,
      session: sessionKey(claims.idHash),
      exp: claims.exp,
      synced: false,
      backlog: [],
      tokens: this.options.frameBurst,
      refilledAt: Date.now(),
      refused: 0,
      overSince: 0,
    };
    this.#clients.set(ws, client);
    let set = this.#byUser.get(userId);
    if (!set) this.#byUser.set(userId, set = new Set());
    set.add(client);
    this.#syncSoon(client);
  }

  /**
   * Snapshots for sockets that open together (a reconnection storm after a restart) are read
   * in one query per few milliseconds rather than one each.
   */
  #syncSoon(client: Client): void {
    this.#toSync.push(client);
    if (this.#toSync.length === 1) {
      setTimeout(() => {
        const batch = this.#toSync;
        this.#toSync = [];
        if (!this.#stopped) this.#sync(batch);
      }, SYNC_BATCH_MS);
    }
  }

  closed(ws: WebSocket): void {
    const client = this.#clients.get(ws);
    if (!client) return;
    this.#clients.delete(ws);
    this.#over.delete(client);
    const set = this.#byUser.get(client.userId);
    set?.delete(client);
    if (set?.size === 0) this.#byUser.delete(client.userId);
  }

  /** A browser waiting in a lobby opened its socket (see LobbySockets). */
  openWaiting(ws: WebSocket, knockId: string, roomId: string): void {
    this.#waiting.open(ws, knockId, roomId);
  }

  /** Sockets waiting on this instance for one knock (its tabs). */
  waitingFor(knockId: string): number {
    return this.#waiting.waitingFor(knockId);
  }

  closedWaiting(ws: WebSocket): void {
    this.#waiting.closed(ws);
  }

  messageWaiting(ws: WebSocket, data: unknown): void {
    this.#waiting.message(ws, data);
  }

  /** A frame from a client: bounded in rate and size; a bad one gets an error frame. */
  message(ws: WebSocket, data: unknown): void {
    const client = this.#clients.get(ws);
    if (!client) return;
    const now = Date.now();
    client.tokens = Math.min(
      this.options.frameBurst,
      client.tokens + (now - client.refilledAt) / 1000 * this.options.framesPerSecond,
    );
    client.refilledAt = now;
    if (client.tokens < 1) {
      // Answer the first few, then stop listening to a client that keeps on.
      if (++client.refused > this.options.frameBurst) {
        this.log.warn("flooding socket closed", { user: client.userId });
        this.#close(client, CLOSE_ABUSE, "too many frames");
      } else {
        this.#send(client, {
          type: "error",
          code: "rate_limited",
          message: "Too many frames; slow down.",
        });
      }
      return;
    }
    client.tokens -= 1;
    const frame = parseClientFrame(data);
    if ("error" in frame) {
      this.#send(client, { type: "error", ...frame.error });
      return;
    }
    if (client.exp * 1000 <= now) {
      this.#close(client, CLOSE_SESSION_EXPIRED, "session expired");
      return;
    }
    if (frame.type === "ping") this.#send(client, { type: "pong" });
    else this.#syncSoon(client);
  }

  #send(client: Client, message: ServerMessage | string): void {
    const text = typeof message === "string" ? message : JSON.stringify(message);
    if (client.ws.readyState !== WebSocket.OPEN) return;
    if (this.#droppedAsSlow(client)) return;
    client.ws.send(text);
  }

  /**
   * A burst (many events in one turn of the event loop) fills a healthy socket's queue for a
   * moment; one that stays over the limit for a second, or reaches four times it, is not
   * reading: it is closed rather than held an ever-growing queue. Checked before each send,
   * and twice a second for sockets over the limit (which may be sent nothing more).
   */
  #droppedAsSlow(client: Client): boolean {
    const buffered = client.ws.bufferedAmount;
    const max = this.options.maxBufferedBytes;
    if (buffered <= max) {
      client.overSince = 0;
      this.#over.delete(client);
      return false;
    }
    const now = Date.now();
    if (client.overSince === 0) {
      client.overSince = now;
      this.#over.add(client);
    }
    if (buffered <= 4 * max && now - client.overSince <= SLOW_GRACE_MS) return false;
    this.log.warn("slow socket closed", { user: client.userId, buffered });
    this.#close(client, CLOSE_TOO_SLOW, "too slow");
    return true;
  }

  /** Sends to every socket of a user; live events wait while a socket's snapshot is read. */
  #deliver(userId: string, message: ServerMessage | string): void {
    const set = this.#byUser.get(userId);
    if (!set) return;
    const text = typeof message === "string" ? message : JSON.stringify(message);
    for (const client of set) {
      if (client.synced) this.#send(client, text);
      else if (client.backlog.length < MAX_BACKLOG) client.backlog.push(text);
      else this.#close(client, CLOSE_TOO_SLOW, "too slow");
    }
  }

  #close(client: Client, code: number, reason: string): void {
    this.closed(client.ws);
    try {
      client.ws.close(code, reason);
    } catch {
      // already closing
    }
  }

  /** Sends each client the invites ringing it now, then what arrived meanwhile. */
  async #sync(clients: Client[]): Promise<void> {
    const users = [...new Set(clients.map((c) => c.userId))];
    let invites;
    const lobbiesOf = new Map<string, LobbyJson[]>();
    try {
      const [pending, moderated] = await Promise.all([
        pendingInvites(this.sql, users),
        moderatedWithWaiting(this.sql, users),
      ]);
      invites = pending;
      const found = moderated.length === 0
        ? []
        : await lobbies(this.sql, [...new Set(moderated.map((m) => m.room_id))]);
      const byRoom = new Map(found.map((l) => [l.room_id, l]));
      for (const m of moderated) {
        const lobby = byRoom.get(m.room_id);
        if (!lobby) continue;
        lobbiesOf.set(m.user_id, [...(lobbiesOf.get(m.user_id) ?? []), lobby]);
      }
    } catch (err) {
      this.log.warn("socket snapshot failed; retrying", errorFields(err));
      this.#scheduleResync();
      return;
    }
    const byUser = new Map<string, Wire<Invite>[]>();
    for (const inv of invites) {
      const list = byUser.get(inv.invitee_id) ?? [];
      list.push(asJson(inv));
      byUser.set(inv.invitee_id, list);
    }
    for (const client of clients) {
      if (!this.#clients.has(client.ws)) continue;
      this.#send(client, {
        type: "sync",
        invites: byUser.get(client.userId) ?? [],
        lobbies: lobbiesOf.get(client.userId) ?? [],
      });
      client.synced = true;
      const backlog = client.backlog;
      client.backlog = [];
      for (const text of backlog) this.#send(client, text);
    }
  }

  /** After events may have been lost: every socket gets a fresh snapshot. */
  #resyncAll(): void {
    for (const client of this.#clients.values()) client.synced = false;
    this.#sync([...this.#clients.values()]).then(() => {
      if (![...this.#clients.values()].some((c) => !c.synced)) this.#resyncDelay = 1000;
    });
  }

  #scheduleResync(): void {
    if (this.#resyncTimer !== undefined || this.#stopped) return;
    this.#resyncTimer = setTimeout(() => {
      this.#resyncTimer = undefined;
      this.#resyncAll();
    }, this.#resyncDelay);
    this.#resyncDelay = Math.min(this.#resyncDelay * 2, 30_000);
  }

  #enqueue(event: BusEvent): void {
    if (this.#queue.length >= MAX_QUEUED_EVENTS) {
      this.log.warn("event queue full; resyncing every socket", { queued: this.#queue.length });
      this.#queue = [];
      this.#scheduleResync();
      return;
    }
    this.#queue.push(event);
    if (!this.#draining) this.#drain();
  }

  /** Handles events one at a time, in the order they were committed. */
  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#queue.length > 0) {
        const event = this.#queue.shift()!;
        try {
          await this.#handle(event);
        } catch (err) {
          this.log.warn("event not delivered; resyncing", { event: event.e, ...errorFields(err) });
          this.#scheduleResync();
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  async #handle(event: BusEvent): Promise<void> {
    switch (event.e) {
      case "ring": {
        const local = event.invites.filter(([, to]) => this.#byUser.has(to)).map(([id]) => id);
        if (local.length === 0) return;
        for (const inv of await invitesById(this.sql, local)) {
          if (inv.status !== "pending") continue;
          this.#deliver(inv.invitee_id, { type: "invite", invite: asJson(inv) });
        }
        return;
      }
      case "answered":
      case "cancelled": {
        const message: ServerMessage = event.e === "answered"
          ? {
            type: "invite_answered",
            invite_id: event.invite_id,
            room_id: event.room_id,
            user_id: event.invitee_id,
            status: event.status,
          }
          : {
            type: "invite_cancelled",
            invite_id: event.invite_id,
            room_id: event.room_id,
            reason: event.reason,
          };
        const text = JSON.stringify(message);
        this.#deliver(event.invitee_id, text);
        if (event.inviter_id !== event.invitee_id) this.#deliver(event.inviter_id, text);
        return;
      }
      case "room": {
        // Whether a host is in the call may have changed for those waiting to enter.
        await this.#waiting.tell(this.#waiting.knocksIn(event.room_id));
        if (this.#byUser.size === 0) return;
        let room;
        try {
          room = await getRoom(this.sql, event.room_id);
        } catch (err) {
          if ((err as { status?: number }).status === 404) return;
          throw err;
        }
        const here = room.participants.filter((p) => this.#byUser.has(p.id));
        if (here.length === 0) return;
        const text = JSON.stringify({
          type: "room_updated",
          room_id: room.id,
          room: roomView(room, here[0].id, this.config.publicUrl),
        });
        for (const p of here) this.#deliver(p.id, text);
        return;
      }
      case "lobby": {
        const here = (await moderators(this.sql, event.room_id)).filter((id) =>
          this.#byUser.has(id)
        );
        if (here.length === 0) return;
        const [found] = await lobbies(this.sql, [event.room_id]);
        const lobby: LobbyJson = found ??
          { room_id: event.room_id, room_name: "", waiting: [] };
        const text = JSON.stringify({ type: "lobby", lobby } satisfies ServerMessage);
        for (const id of here) this.#deliver(id, text);
        return;
      }
      case "knock":
        await this.#waiting.tell([event.knock_id]);
        return;
      case "contacts": {
        const text = JSON.stringify({ type: "contacts_changed" } satisfies ServerMessage);
        for (const id of event.users) this.#deliver(id, text);
        return;
      }
      case "signout":
        for (const client of [...this.#clients.values()]) {
          if (client.session === event.session) this.#close(client, CLOSE_SIGNED_OUT, "signed out");
        }
        return;
    }
  }

  /** The invite clock: unanswered invites become missed (the events go through the channel). */
  async #sweep(): Promise<void> {
    if (this.#sweeping) return;
    this.#sweeping = true;
    try {
      await expireDue(this.sql);
      await expireKnocks(this.sql);
    } catch (err) {
      this.log.debug("invite clock skipped", errorFields(err));
    } finally {
      this.#sweeping = false;
    }
  }

  #closeExpired(): void {
    const now = Date.now() / 1000;
    for (const client of [...this.#clients.values()]) {
      if (client.exp <= now) this.#close(client, CLOSE_SESSION_EXPIRED, "session expired");
    }
  }
}
