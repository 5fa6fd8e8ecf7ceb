import {
  AccessToken,
  RoomServiceClient,
  TrackSource,
  type WebhookEvent,
  WebhookReceiver,
} from "livekit-server-sdk";
import type { Config } from "../platform/config.ts";
import { AppError } from "../platform/errors.ts";
import type { CallRole, ParticipantMetadata } from "../../protocol/api.ts";

/** Tokens let a browser into one room for at most this long (reconnects fetch a new one). */
export const TOKEN_TTL_SECONDS = 10 * 60;

/** LiveKit identities the app mints: a user's id, or `guest-` and 64 random bits in hex. */
export const USER_IDENTITY = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const GUEST_IDENTITY = /^guest-[0-9a-f]{16}$/;

/** A fresh identity for a guest (no account). */
export function newGuestIdentity(): string {
  return `guest-${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
}

export interface TokenRequest {
  room: string;
  identity: string;
  name: string;
  role: CallRole;
  callType: "audio" | "video";
}

/** 503 when LiveKit cannot be reached or fails; the caller's change is not made. */
export const livekitUnavailable = () =>
  new AppError(
    503,
    "livekit_unavailable",
    "error.livekit_unavailable",
    { headers: { "Retry-After": "5" } },
  );

/** LiveKit answered that the room, participant or track does not exist. */
export function isLiveKitNotFound(err: unknown): boolean {
  return typeof err === "object" && err !== null &&
    (err as { code?: unknown }).code === "not_found";
}

/** How long the readiness probe waits for LiveKit, and how long it trusts an answer. */
const PROBE_TIMEOUT_SECONDS = 2;
const PROBE_CACHE_MS = 2000;

/** Signs LiveKit access tokens and calls LiveKit's RoomService with server credentials. */
export class LiveKit {
  readonly url: string;
  #rooms: RoomServiceClient;
  #probe: RoomServiceClient;
  #webhooks: WebhookReceiver;
  #lastProbe: { at: number; ok: Promise<boolean> } | null = null;

  #tokenTtl: number;

  /** `tokenTtlSeconds` shortens token lifetimes (tests of calls that outlive their token). */
  constructor(private config: Config, options: { tokenTtlSeconds?: number } = {}) {
    this.#tokenTtl = Math.min(options.tokenTtlSeconds ?? TOKEN_TTL_SECONDS, TOKEN_TTL_SECONDS);
    this.url = config.livekitUrl;
    const client = (requestTimeout: number) =>
      new RoomServiceClient(config.livekitApiUrl, config.livekitApiKey, config.livekitApiSecret, {
        requestTimeout,
        failover: false,
      });
    this.#rooms = client(3);
    this.#probe = client(PROBE_TIMEOUT_SECONDS);
    this.#webhooks = new WebhookReceiver(config.livekitApiKey, config.livekitApiSecret);
  }

  /**
   * Checks a webhook as LiveKit signs it (a token in `Authorization` carrying the body's
   * sha256, signed with our key) and reads it; null when it is not authentic.
   */
  async receiveWebhook(body: string, authorization: string | undefined) {
    try {
      return await this.#webhooks.receive(body, authorization);
    } catch {
      return null;
    }
  }

  /** A join token: identity and name as given, never roomAdmin; audio calls publish the microphone only. */
  async mintToken(req: TokenRequest): Promise<string> {
    const at = new AccessToken(this.config.livekitApiKey, this.config.livekitApiSecret, {
      identity: req.identity,
      name: req.name,
      metadata: JSON.stringify({ role: req.role } satisfies ParticipantMetadata),
      ttl: this.#tokenTtl,
    });
    at.addGrant({
      roomJoin: true,
      room: req.room,
      canPublish: true,
      canSubscribe: true,
      canPublishData: true,
      ...(req.callType === "audio" ? { canPublishSources: [TrackSource.MICROPHONE] } : {}),
    });
    return await at.toJwt();
  }

  /**
   * A token for the connection test: a throwaway room of its own (check-…, never a meeting's),
   * publishing a silent microphone track only, valid two minutes.
   */
  async mintCheckToken(identity: string, name: string): Promise<{ token: string; room: string }> {
    const room = `check-${crypto.randomUUID().replaceAll("-", "")}`;
    const at = new AccessToken(this.config.livekitApiKey, this.config.livekitApiSecret, {
      identity,
      name,
      metadata: JSON.stringify({ role: "check" }),
      ttl: 120,
    });
    at.addGrant({
      roomJoin: true,
      room,
      canPublish: true,
      canSubscribe: false,
      canPublishData: false,
      canPublishSources: [TrackSource.MICROPHONE],
    });
    return { token: await at.toJwt(), room };
  }

  /** Closes LiveKit's room, disconnecting everyone in it. */
  async deleteRoom(room: string): Promise<void> {
    await this.#rooms.deleteRoom(room);
  }

  /** Disconnects one participant (their token stays valid: the app must refuse new ones). */
  async removeParticipant(room: string, identity: string): Promise<void> {
    await this.#rooms.removeParticipant(room, identity);
  }

  /** Mutes one of a participant's published tracks (only its owner can unmute it). */
  async muteTrack(room: string, identity: string, trackSid: string): Promise<void> {
    await this.#rooms.mutePublishedTrack(room, identity, trackSid, true);
  }

  /**
   * Sets (or, with "", clears) attributes of a connected participant: everyone in the room,
   * late joiners too, sees them. The participant cannot set them itself (no
   * canUpdateOwnMetadata), so what they say comes from the app.
   */
  async setAttributes(room: string, identity: string, attributes: Record<string, string>) {
    await this.#rooms.updateParticipant(room, identity, { attributes });
  }

  /** Replaces a connected participant's metadata (the role its tile shows). */
  async setMetadata(room: string, identity: string, metadata: string): Promise<void> {
    await this.#rooms.updateParticipant(room, identity, { metadata });
  }

  /** Who is connected to a room, with their attributes and microphone tracks. */
  async participants(room: string): Promise<
    { identity: string; attributes: Record<string, string>; microphones: string[] }[]
  > {
    const list = await this.#rooms.listParticipants(room);
    return list.map((p) => ({
      identity: p.identity,
      attributes: p.attributes ?? {},
      microphones: p.tracks.filter((t) => t.source === TrackSource.MICROPHONE && !t.muted)
        .map((t) => t.sid),
    }));
  }

  /** The connections LiveKit has in a room; null when it has no such room. */
  async listConnections(room: string): Promise<{ identity: string; sid: string }[] | null> {
    try {
      const list = await this.#rooms.listParticipants(room);
      return list.map((p) => ({ identity: p.identity, sid: p.sid }));
    } catch (err) {
      if (isLiveKitNotFound(err)) return null;
      throw err;
    }
  }

  /** Whether LiveKit answers a RoomService call within a short time (cached briefly). */
  reachable(): Promise<boolean> {
    const now = Date.now();
    if (this.#lastProbe && now - this.#lastProbe.at < PROBE_CACHE_MS) return this.#lastProbe.ok;
    const ok = this.#probe.listRooms(["urbania-readiness-probe"]).then(() => true, () => false);
    this.#lastProbe = { at: now, ok };
    return ok;
  }
}

export type { WebhookEvent };
