import { AccessToken, RoomServiceClient, TrackSource } from "livekit-server-sdk";
import type { Config } from "./config.ts";

/** Tokens let a browser into one room for at most this long (reconnects fetch a new one). */
export const TOKEN_TTL_SECONDS = 10 * 60;

export type ParticipantRole = "host" | "member" | "guest";

export interface TokenRequest {
  room: string;
  identity: string;
  name: string;
  role: ParticipantRole;
  callType: "audio" | "video";
}

/** Signs LiveKit access tokens and calls LiveKit's RoomService with server credentials. */
export class LiveKit {
  readonly url: string;
  #rooms: RoomServiceClient;

  constructor(private config: Config) {
    this.url = config.livekitUrl;
    this.#rooms = new RoomServiceClient(
      config.livekitApiUrl,
      config.livekitApiKey,
      config.livekitApiSecret,
      { requestTimeout: 3, failover: false },
    );
  }

  /** A join token: identity and name as given, never roomAdmin; audio calls publish the microphone only. */
  async mintToken(req: TokenRequest): Promise<string> {
    const at = new AccessToken(this.config.livekitApiKey, this.config.livekitApiSecret, {
      identity: req.identity,
      name: req.name,
      metadata: JSON.stringify({ role: req.role }),
      ttl: TOKEN_TTL_SECONDS,
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

  /** Closes LiveKit's room, disconnecting everyone in it. */
  async deleteRoom(room: string): Promise<void> {
    await this.#rooms.deleteRoom(room);
  }
}
