/**
 * RoomServiceDouble: a test double of LiveKit's RoomService (no LiveKit server can run in
 * the test environment). Like the real server it refuses any call whose bearer token does not
 * verify against the API key and secret, or lacks the grant the method needs, and answers
 * `not_found` when a participant or track to act on is not connected (tests say who is, with
 * `connect`), lists who is connected, and merges attributes as LiveKit does; it records each
 * accepted call so tests can see what the app asked for. `away`
 * makes it answer 503, as a LiveKit that is restarting does.
 */
import { TokenVerifier } from "livekit-server-sdk";
import type { ClaimGrants } from "livekit-server-sdk";

export interface RecordedCall {
  method: string;
  body: Record<string, unknown>;
  grants: ClaimGrants;
}

// The grant each RoomService method requires, as LiveKit's server checks it.
const REQUIRED: Record<string, (g: ClaimGrants, body: Record<string, unknown>) => boolean> = {
  CreateRoom: (g) => g.video?.roomCreate === true,
  DeleteRoom: (g) => g.video?.roomCreate === true,
  ListRooms: (g) => g.video?.roomList === true,
  ListParticipants: (g, b) => g.video?.roomAdmin === true && g.video.room === b.room,
  RemoveParticipant: (g, b) => g.video?.roomAdmin === true && g.video.room === b.room,
  MutePublishedTrack: (g, b) => g.video?.roomAdmin === true && g.video.room === b.room,
  UpdateParticipant: (g, b) => g.video?.roomAdmin === true && g.video.room === b.room,
};

export class RoomServiceDouble {
  readonly calls: RecordedCall[] = [];
  readonly refused: { method: string; reason: string }[] = [];
  /** Participants' attributes as UpdateParticipant left them, by `room/identity`. */
  readonly attributes = new Map<string, Record<string, string>>();
  /** Answer every call with 503 while true. */
  away = false;
  // room → identity → track sids, for the methods that act on a connected participant.
  #connected = new Map<string, Map<string, Set<string>>>();
  #server: Deno.HttpServer<Deno.NetAddr>;
  #verifier: TokenVerifier;

  constructor(apiKey: string, apiSecret: string) {
    this.#verifier = new TokenVerifier(apiKey, apiSecret);
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (req) => this.#handle(req),
    );
  }

  /** Someone is connected to LiveKit's room, publishing these tracks. */
  connect(room: string, identity: string, trackSids: string[] = []) {
    if (!this.#connected.has(room)) this.#connected.set(room, new Map());
    this.#connected.get(room)!.set(identity, new Set(trackSids));
  }

  get url(): string {
    return `http://127.0.0.1:${this.#server.addr.port}`;
  }

  async #handle(req: Request): Promise<Response> {
    const match = /^\/twirp\/livekit\.RoomService\/(\w+)$/.exec(new URL(req.url).pathname);
    const text = await req.text();
    const refuse = (status: number, code: string, reason: string) => {
      this.refused.push({ method: match?.[1] ?? req.url, reason });
      return Response.json({ code, msg: reason }, { status });
    };
    if (this.away) return refuse(503, "unavailable", "the server is restarting");
    if (req.method !== "POST" || !match) return refuse(404, "bad_route", "no such method");
    const method = match[1];
    const auth = req.headers.get("Authorization") ?? "";
    if (!auth.startsWith("Bearer ")) return refuse(401, "unauthenticated", "no bearer token");
    let grants: ClaimGrants;
    try {
      grants = await this.#verifier.verify(auth.slice(7));
    } catch (err) {
      return refuse(401, "unauthenticated", `token refused: ${(err as Error).message}`);
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text);
    } catch {
      return refuse(400, "malformed", "body is not JSON");
    }
    const allowed = REQUIRED[method];
    if (!allowed) return refuse(404, "bad_route", `unknown method ${method}`);
    if (!allowed(grants, body)) return refuse(403, "permission_denied", "missing grant");
    if (method === "ListParticipants") {
      const people = this.#connected.get(String(body.room));
      this.calls.push({ method, body, grants });
      return Response.json({
        participants: [...(people ?? new Map())].map(([identity, tracks]) => ({
          identity,
          sid: `PA_${identity.slice(0, 8)}`,
          attributes: this.attributes.get(`${body.room}/${identity}`) ?? {},
          tracks: [...tracks].map((sid) => ({ sid, source: "MICROPHONE", muted: false })),
        })),
      });
    }
    if (
      method === "RemoveParticipant" || method === "MutePublishedTrack" ||
      method === "UpdateParticipant"
    ) {
      const people = this.#connected.get(String(body.room));
      const tracks = people?.get(String(body.identity));
      if (!tracks) return refuse(404, "not_found", "participant not found");
      if (method === "UpdateParticipant" && body.attributes) {
        // Like LiveKit: set keys are merged, an empty value removes its key.
        const key = `${body.room}/${body.identity}`;
        const merged = { ...this.attributes.get(key) };
        for (const [k, v] of Object.entries(body.attributes as Record<string, string>)) {
          if (v === "") delete merged[k];
          else merged[k] = v;
        }
        this.attributes.set(key, merged);
      }
      if (method === "MutePublishedTrack" && !tracks.has(String(body.trackSid))) {
        return refuse(404, "not_found", "track not found");
      }
      if (method === "RemoveParticipant") people!.delete(String(body.identity));
    }
    this.calls.push({ method, body, grants });
    return Response.json(method === "ListRooms" ? { rooms: [] } : {});
  }

  async close(): Promise<void> {
    await this.#server.shutdown();
  }
}
