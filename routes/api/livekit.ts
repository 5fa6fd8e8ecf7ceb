import { Hono } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { z } from "zod";
import { AppError, notFound } from "../../lib/errors.ts";
import { WEBHOOK_EVENTS } from "../../lib/metrics.ts";
import { muteTrack, removeParticipant } from "../../lib/host_controls.ts";
import { inviteMore } from "../../lib/invites.ts";
import {
  formatGuestPass,
  type Guest,
  GUEST_PASS_SECONDS,
  guestCookieName,
  guestForPass,
  joinAsGuest,
  parseGuestPass,
} from "../../lib/guests.ts";
import { GUEST_IDENTITY, isLiveKitNotFound, USER_IDENTITY } from "../../lib/livekit.ts";
import { errorFields } from "../../lib/log.ts";
import { applyWebhook } from "../../lib/presence.ts";
import { enforceLimits } from "../../lib/rate_limit.ts";
import {
  createRoom,
  endRoom,
  getRoom,
  joinRoom,
  leaveRoom,
  listRoomsForUser,
  MAX_INVITED,
  roomView,
  tokenContext,
} from "../../lib/rooms.ts";
import type { AppEnv, Deps } from "../context.ts";
import {
  clientAddress,
  jsonBody,
  renewSession,
  requireClaims,
  requireUser,
} from "../middleware.ts";
import { roomIdOr404, text } from "../schemas.ts";
import type { Tx } from "../../lib/db.ts";

/** An Idempotency-Key the API accepts. */
const REQUEST_KEY = /^[A-Za-z0-9_-]{8,100}$/;

const createSchema = z.object({
  room_name: text(1, 100),
  call_type: z.enum(["audio", "video"]),
  participants: z.array(z.uuid()).max(MAX_INVITED).default([]),
  allow_guests: z.boolean().default(true),
});
// The seed's body also carried user_id and username: identity comes from the session only.
const tokenSchema = z.object({ room_name: z.string().min(1).max(64) });
const guestSchema = z.object({ display_name: text(1, 64) });
const inviteSchema = z.object({ participants: z.array(z.uuid()).min(1).max(MAX_INVITED) });
const muteSchema = z.object({
  track_sid: z.string().regex(/^TR_[A-Za-z0-9]{1,40}$/, "Not a track id"),
});

/** LiveKit webhook bodies are small; this bounds one generously. */
export const MAX_WEBHOOK_BYTES = 64 * 1024;

/** A participant identity as the app mints them (user id or guest id); anything else: 404. */
function identityOr404(raw: string | undefined): string {
  if (raw === undefined || !(USER_IDENTITY.test(raw) || GUEST_IDENTITY.test(raw))) {
    throw notFound("This participant");
  }
  return raw;
}

/** /api/livekit: rooms, their lifecycle, and LiveKit tokens. */
export function livekitRoutes(deps: Deps) {
  const { config, sql, sessions, livekit, log } = deps;
  const app = new Hono<AppEnv>();
  const auth = requireUser(config, sessions);

  /** LiveKit's room goes with ours; when LiveKit is away the meeting still ends here. */
  async function closeLiveKitRoom(id: string) {
    try {
      await livekit.deleteRoom(id);
    } catch (err) {
      // Nobody ever connected: LiveKit has no such room, which is what we want.
      if (isLiveKitNotFound(err)) return;
      log.warn("livekit room not deleted", { room: id, ...errorFields(err) });
    }
  }

  // Counted in the transaction that rings: a refused or failed request counts nothing.
  /** Counts one ring from `caller` to each of `invitees`; 429 past any of the ring limits. */
  const ringLimits = (caller: string) => (tx: Tx, invitees: string[]) =>
    enforceLimits(tx, [
      { key: `ring:caller:${caller}`, ...deps.limits.ringsPerCaller },
      ...invitees.flatMap((id) => [
        { key: `ring:pair:${caller}:${id}`, ...deps.limits.ringsPerPair },
        { key: `ring:person:${id}`, ...deps.limits.ringsPerPerson },
      ]),
    ], "calls");

  // Idempotency-Key: a retry of the same request (after a timeout or a 503) answers 200 with
  // the meeting the first one created, instead of creating and ringing another.
  app.post("/rooms", auth, jsonBody(createSchema), async (c) => {
    const user = c.get("user");
    const requestKey = c.req.header("Idempotency-Key");
    if (requestKey !== undefined && !REQUEST_KEY.test(requestKey)) {
      throw new AppError(
        400,
        "invalid_idempotency_key",
        "Idempotency-Key must be 8 to 100 letters, digits, '-' or '_'.",
      );
    }
    const input = c.req.valid("json");
    const { id, created } = await createRoom(sql, user.id, input, {
      ringSeconds: config.inviteRingSeconds,
      requestKey,
      beforeRing: ringLimits(user.id),
      beforeCreate: (tx) =>
        enforceLimits(
          tx,
          [{ key: `rooms:caller:${user.id}`, ...deps.limits.roomsPerCaller }],
          "new meetings",
        ),
    });
    if (created) deps.metrics.rings.inc({}, input.participants?.length ?? 0);
    return c.json(roomView(await getRoom(sql, id), user.id, config.publicUrl), created ? 201 : 200);
  });

  app.get("/rooms", auth, async (c) => {
    const user = c.get("user");
    const rooms = await listRoomsForUser(sql, user.id);
    return c.json(rooms.map((r) => roomView(r, user.id, config.publicUrl)));
  });

  app.get("/rooms/:id", auth, async (c) => {
    const user = c.get("user");
    return c.json(
      roomView(await getRoom(sql, roomIdOr404(c.req.param("id"))), user.id, config.publicUrl),
    );
  });

  // The host rings more contacts into the meeting.
  app.post("/rooms/:id/invite", auth, jsonBody(inviteSchema), async (c) => {
    const user = c.get("user");
    const id = roomIdOr404(c.req.param("id"));
    const { participants } = c.req.valid("json");
    const rung = await inviteMore(
      sql,
      id,
      user.id,
      participants,
      config.inviteRingSeconds,
      ringLimits(user.id),
    );
    deps.metrics.rings.inc({}, rung);
    return c.json({ rung, room: roomView(await getRoom(sql, id), user.id, config.publicUrl) });
  });

  app.post("/rooms/:id/join", auth, async (c) => {
    const id = roomIdOr404(c.req.param("id"));
    await joinRoom(sql, id, c.get("user").id);
    return c.json({ message: "Joined the meeting.", room_name: id });
  });

  app.post("/rooms/:id/leave", auth, async (c) => {
    const id = roomIdOr404(c.req.param("id"));
    await leaveRoom(sql, id, c.get("user").id);
    return c.json({ message: "Left the meeting." });
  });

  // Host controls: LiveKit is told with server credentials; the host's token has no roomAdmin.
  app.delete("/rooms/:id/participants/:identity", auth, async (c) => {
    const id = roomIdOr404(c.req.param("id"));
    const identity = identityOr404(c.req.param("identity"));
    await removeParticipant(sql, livekit, id, c.get("user").id, identity);
    return c.body(null, 204);
  });

  app.post("/rooms/:id/participants/:identity/mute", auth, jsonBody(muteSchema), async (c) => {
    const id = roomIdOr404(c.req.param("id"));
    const identity = identityOr404(c.req.param("identity"));
    const { track_sid } = c.req.valid("json");
    await muteTrack(sql, livekit, id, c.get("user").id, identity, track_sid);
    return c.json({ muted: true, track_sid });
  });

  // LiveKit's events, signed with our API secret: presence stays true when a tab dies.
  app.post("/webhook", async (c) => {
    const body = await c.req.text();
    const event = await livekit.receiveWebhook(body, c.req.header("Authorization"));
    if (!event) {
      throw new AppError(401, "invalid_signature", "The webhook signature does not verify.");
    }
    if (!event.id || !event.event) {
      throw new AppError(400, "invalid_event", "The webhook event has no id or kind.");
    }
    deps.metrics.webhooks.inc({ event: WEBHOOK_EVENTS.has(event.event) ? event.event : "other" });
    const outcome = await applyWebhook(sql, event);
    if (outcome.result === "evict" || outcome.result === "close") {
      // Someone holding a token the app no longer stands behind: a removed person, or a
      // meeting that ended. LiveKit is told to drop them; a failure only leaves them there.
      try {
        if (outcome.result === "evict") {
          await livekit.removeParticipant(outcome.room, outcome.identity);
        } else await livekit.deleteRoom(outcome.room);
      } catch (err) {
        if (!isLiveKitNotFound(err)) {
          log.warn("livekit eviction failed", { room: outcome.room, ...errorFields(err) });
        }
      }
    }
    return c.json({ result: outcome.result });
  });

  // The connection test (its page, and pre-join): a token for a throwaway room of one's own.
  app.post("/connection-check", auth, async (c) => {
    const user = c.get("user");
    await enforceLimits(sql, [{
      key: `check:user:${user.id}`,
      ...deps.limits.connectionChecks,
    }], "connection tests");
    const { token, room } = await livekit.mintCheckToken(user.id, user.display_name);
    deps.metrics.tokens.inc({ who: "check" });
    return c.json({ token, url: livekit.url, room_name: room });
  });

  // The deployment doctor makes a room named doctor-… in LiveKit and asks here whether LiveKit's
  // room_started event for it arrived (verified like every event). Says nothing else.
  app.get("/webhook/probe/:name", async (c) => {
    const name = c.req.param("name");
    if (!/^doctor-[0-9a-f]{32}$/.test(name)) {
      throw new AppError(400, "invalid_probe", "A probe name is doctor- and 32 hex digits.");
    }
    await enforceLimits(sql, [{
      key: `probe:addr:${clientAddress(c, config)}`,
      ...deps.limits.probesPerAddress,
    }], "webhook probes");
    const [seen] = await sql<{ received_at: Date }[]>`
      select received_at from livekit_events
      where room_id = ${name} and event = 'room_started' limit 1`;
    if (!seen) throw new AppError(404, "not_received", "No event has arrived for that room.");
    return c.json({ received_at: seen.received_at.toISOString() });
  });

  app.delete("/rooms/:id", auth, async (c) => {
    const id = roomIdOr404(c.req.param("id"));
    if (await endRoom(sql, id, c.get("user").id)) await closeLiveKitRoom(id);
    return c.body(null, 204);
  });

  // The session row is checked inside tokenContext's query: one round trip on the hot path.
  app.post("/token", requireClaims(config, sessions), jsonBody(tokenSchema), async (c) => {
    const id = roomIdOr404(c.req.valid("json").room_name);
    const { user, role, call_type } = await tokenContext(sql, c.get("claims"), id);
    const token = await livekit.mintToken({
      room: id,
      identity: user.id,
      name: user.display_name,
      role,
      callType: call_type,
    });
    await renewSession(c, config, sessions);
    deps.metrics.tokens.inc({ who: "member" });
    return c.json({ token, url: livekit.url, room_name: id });
  });

  // A guest joins through the link: the browser gets a pass for this room (HttpOnly cookie)
  // and a token; later connects trade the pass for a fresh token.
  app.post("/rooms/:id/guest", jsonBody(guestSchema), async (c) => {
    const id = roomIdOr404(c.req.param("id"));
    await enforceLimits(sql, [{
      key: `guest:addr:${clientAddress(c, config)}`,
      max: deps.guestLimits.perAddress,
      windowSeconds: deps.guestLimits.windowSeconds,
    }], "guest joins");
    const held = parseGuestPass(getCookie(c, guestCookieName(id)));
    const { guest, pass } = await joinAsGuest(sql, id, c.req.valid("json").display_name, held);
    setCookie(c, guestCookieName(id), formatGuestPass(pass), {
      httpOnly: true,
      sameSite: "Lax",
      secure: config.secureCookies,
      path: "/",
      maxAge: GUEST_PASS_SECONDS,
    });
    return c.json(await guestToken(id, guest));
  });

  app.post("/rooms/:id/guest/token", async (c) => {
    const id = roomIdOr404(c.req.param("id"));
    const pass = parseGuestPass(getCookie(c, guestCookieName(id)));
    return c.json(await guestToken(id, await guestForPass(sql, id, pass)));
  });

  async function guestToken(room: string, guest: Guest) {
    const token = await livekit.mintToken({
      room,
      identity: guest.identity,
      name: guest.display_name,
      role: "guest",
      callType: guest.call_type,
    });
    deps.metrics.tokens.inc({ who: "guest" });
    return { token, url: livekit.url, room_name: room };
  }

  return app;
}
