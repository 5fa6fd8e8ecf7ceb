import { Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { Context } from "hono";
import { z } from "zod";
import { AppError, notFound, unauthorized } from "../../lib/platform/errors.ts";
import { WEBHOOK_EVENTS } from "../../lib/server/metrics.ts";
import {
  lowerHands,
  muteEveryone,
  muteTrack,
  removeParticipant,
  setCohost,
  setHand,
  updateEntry,
} from "../../lib/meetings/host_controls.ts";
import {
  admitAll,
  ADMITTED_TICKET_SECONDS,
  answerKnock,
  cancelKnock,
  enterWithTicket,
  formatTicket,
  knock,
  knockCookieName,
  knockForTicket,
  knockState,
  lobbies,
  parseTicket,
  requireModerator,
} from "../../lib/meetings/lobby.ts";
import { ENTRY_POLICIES } from "../../protocol/api.ts";
import { inviteMore } from "../../lib/meetings/invites.ts";
import {
  formatGuestPass,
  type Guest,
  GUEST_PASS_SECONDS,
  guestCookieName,
  guestForPass,
  joinAsGuest,
  parseGuestPass,
} from "../../lib/meetings/guests.ts";
import { GUEST_IDENTITY, isLiveKitNotFound, USER_IDENTITY } from "../../lib/meetings/livekit.ts";
import { errorFields } from "../../lib/platform/log.ts";
import { applyWebhook } from "../../lib/meetings/presence.ts";
import { enforceLimits } from "../../lib/platform/rate_limit.ts";
import {
  clearHistory,
  createRoom,
  endRoom,
  getRoom,
  joinRoom,
  leaveRoom,
  listRoomsForUser,
  MAX_INVITED,
  roomView,
  tokenContext,
} from "../../lib/meetings/rooms.ts";
import type { AppEnv, Deps } from "../context.ts";
import {
  clientAddress,
  credentials,
  jsonBody,
  langOf,
  optionalUser,
  renewSession,
  requireClaims,
  requireUser,
} from "../middleware.ts";
import { tr, trn } from "../../i18n/server.ts";
import { roomIdOr404, text, uuidOr404 } from "../schemas.ts";
import type { Tx } from "../../lib/platform/db.ts";

/** An Idempotency-Key the API accepts. */
const REQUEST_KEY = /^[A-Za-z0-9_-]{8,100}$/;

const createSchema = z.object({
  room_name: text(1, 100),
  call_type: z.enum(["audio", "video"]),
  participants: z.array(z.uuid()).max(MAX_INVITED).default([]),
  allow_guests: z.boolean().default(true),
  entry: z.enum(ENTRY_POLICIES).default("knock"),
});
const entrySchema = z.object({
  entry: z.enum(ENTRY_POLICIES).optional(),
  locked: z.boolean().optional(),
}).refine((v) => v.entry !== undefined || v.locked !== undefined, {
  message: "issue.entryOrLock",
});
const knockSchema = z.object({ display_name: text(1, 64).optional() });
const handSchema = z.object({ raised: z.boolean() });
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
    throw notFound("error.nf.participant");
  }
  return raw;
}

/** /api/livekit: rooms, their lifecycle, and LiveKit tokens. */
export function livekitRoutes(deps: Deps) {
  const { config, sql, sessions, livekit, log } = deps;
  const app = new Hono<AppEnv>();
  const auth = requireUser(config, sessions);
  const maybeUser = optionalUser(config, sessions);

  const cookieOptions = (maxAge: number) => ({
    httpOnly: true,
    sameSite: "Lax" as const,
    secure: config.secureCookies,
    path: "/",
    maxAge,
  });

  /** Counts one moderation act that costs LiveKit calls (run once the role is checked). */
  const moderationLimit = (userId: string) => () =>
    enforceLimits(sql, [{
      key: `moderate:${userId}`,
      ...deps.limits.moderationPerPerson,
    }], "limit.moderation");

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
    ], "limit.calls");

  // Idempotency-Key: a retry of the same request (after a timeout or a 503) answers 200 with
  // the meeting the first one created, instead of creating and ringing another.
  app.post("/rooms", auth, jsonBody(createSchema), async (c) => {
    const user = c.get("user");
    const requestKey = c.req.header("Idempotency-Key");
    if (requestKey !== undefined && !REQUEST_KEY.test(requestKey)) {
      throw new AppError(
        400,
        "invalid_idempotency_key",
        "error.invalid_idempotency_key",
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
          "limit.rooms",
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

  // The user's ended meetings leave their own list (everyone else's stays).
  app.delete("/rooms/history", auth, async (c) => {
    const cleared = await clearHistory(sql, c.get("user").id);
    return c.json({
      cleared,
      message: trn(langOf(c), cleared, "done.cleared.one", "done.cleared.other"),
    });
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
    return c.json({ message: tr(langOf(c), "done.joined"), room_name: id });
  });

  app.post("/rooms/:id/leave", auth, async (c) => {
    const id = roomIdOr404(c.req.param("id"));
    await leaveRoom(sql, id, c.get("user").id);
    return c.json({ message: tr(langOf(c), "done.left") });
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

  // Who may enter: the entry policy and the lock (hosts and co-hosts).
  app.patch("/rooms/:id", auth, jsonBody(entrySchema), async (c) => {
    const user = c.get("user");
    const id = roomIdOr404(c.req.param("id"));
    await updateEntry(sql, id, user.id, c.req.valid("json"));
    return c.json(roomView(await getRoom(sql, id), user.id, config.publicUrl));
  });

  // The host names co-hosts and takes the role back.
  for (const [method, cohost] of [["put", true], ["delete", false]] as const) {
    app[method]("/rooms/:id/cohosts/:user_id", auth, async (c) => {
      const user = c.get("user");
      const id = roomIdOr404(c.req.param("id"));
      const target = uuidOr404(c.req.param("user_id"), "error.nf.participant");
      await setCohost(sql, livekit, log, id, user.id, target, cohost);
      return c.json(roomView(await getRoom(sql, id), user.id, config.publicUrl));
    });
  }

  // The lobby. Someone not on the list asks to come in: signed in, or a guest by name. The
  // browser keeps a ticket (HttpOnly cookie) that its lobby socket and its way in rely on.
  app.post("/rooms/:id/knock", maybeUser, jsonBody(knockSchema), async (c) => {
    const id = roomIdOr404(c.req.param("id"));
    await enforceLimits(sql, [{
      key: `knock:addr:${clientAddress(c, config)}`,
      ...deps.limits.knocksPerAddress,
    }], "limit.knocks");
    const user = c.get("user") as AppEnv["Variables"]["user"] | undefined;
    const name = c.req.valid("json").display_name;
    if (!user && !name) {
      throw new AppError(400, "invalid_request", "error.invalid_request.knockName", {
        fields: [{ field: "display_name", text: "issue.knockName" }],
      });
    }
    const held = parseTicket(getCookie(c, knockCookieName(id)));
    const { knock: made, ticket } = await knock(
      sql,
      id,
      user ? { userId: user.id, displayName: user.display_name } : { guestName: name! },
      held,
      config.knockSeconds,
    );
    setCookie(
      c,
      knockCookieName(id),
      formatTicket(ticket),
      cookieOptions(config.knockSeconds + ADMITTED_TICKET_SECONDS),
    );
    return c.json(await knockState(sql, made.id), 201);
  });

  app.get("/rooms/:id/knock", async (c) => {
    const id = roomIdOr404(c.req.param("id"));
    const k = await knockForTicket(sql, id, parseTicket(getCookie(c, knockCookieName(id))));
    return c.json(await knockState(sql, k.id));
  });

  app.delete("/rooms/:id/knock", async (c) => {
    const id = roomIdOr404(c.req.param("id"));
    await cancelKnock(sql, id, parseTicket(getCookie(c, knockCookieName(id))));
    deleteCookie(c, knockCookieName(id), { path: "/", secure: config.secureCookies });
    return c.body(null, 204);
  });

  // Admitted: the waiting browser trades its ticket for a token, without leaving the page.
  app.post("/rooms/:id/knock/enter", maybeUser, async (c) => {
    const id = roomIdOr404(c.req.param("id"));
    const ticket = parseTicket(getCookie(c, knockCookieName(id)));
    const user = c.get("user") as AppEnv["Variables"]["user"] | undefined;
    const entry = await enterWithTicket(sql, id, ticket, user?.id ?? null);
    deleteCookie(c, knockCookieName(id), { path: "/", secure: config.secureCookies });
    if (entry.kind === "guest") {
      setCookie(
        c,
        guestCookieName(id),
        formatGuestPass({ identity: entry.identity, secret: ticket!.secret }),
        cookieOptions(GUEST_PASS_SECONDS),
      );
      return c.json(await guestToken(id, entry));
    }
    await joinRoom(sql, id, user!.id);
    return c.json(await memberToken(c, id));
  });

  // Hosts and co-hosts answer.
  app.get("/rooms/:id/lobby", auth, async (c) => {
    const id = roomIdOr404(c.req.param("id"));
    await requireModerator(sql, id, c.get("user").id, "act.lobby", { ended: true });
    const [lobby] = await lobbies(sql, [id]);
    return c.json(lobby?.waiting ?? []);
  });

  app.post("/rooms/:id/knocks/admit-all", auth, async (c) => {
    const id = roomIdOr404(c.req.param("id"));
    return c.json({ admitted: await admitAll(sql, id, c.get("user").id) });
  });

  for (const decision of ["admit", "deny"] as const) {
    app.post(`/rooms/:id/knocks/:knock/${decision}`, auth, async (c) => {
      const id = roomIdOr404(c.req.param("id"));
      const knockId = uuidOr404(c.req.param("knock"), "error.nf.knock");
      const status = await answerKnock(sql, id, knockId, c.get("user").id, decision);
      return c.json({ id: knockId, status });
    });
  }

  // Raised hands: one's own, as a member (session) or a guest (pass). The sender is who the
  // credentials say, and the queue's order is this server's clock.
  app.post("/rooms/:id/hand", jsonBody(handSchema), async (c) => {
    const id = roomIdOr404(c.req.param("id"));
    const identity = await callerIdentity(c, id);
    await enforceLimits(
      sql,
      [{ key: `hand:${identity}`, ...deps.limits.handsPerPerson }],
      "limit.hands",
    );
    const { raised } = c.req.valid("json");
    await setHand(livekit, id, identity, raised);
    return c.json({ raised });
  });

  app.delete("/rooms/:id/hands", auth, async (c) => {
    const id = roomIdOr404(c.req.param("id"));
    const user = c.get("user");
    return c.json({
      lowered: await lowerHands(sql, livekit, id, user.id, undefined, moderationLimit(user.id)),
    });
  });

  app.delete("/rooms/:id/participants/:identity/hand", auth, async (c) => {
    const id = roomIdOr404(c.req.param("id"));
    const identity = identityOr404(c.req.param("identity"));
    const user = c.get("user");
    return c.json({
      lowered: await lowerHands(sql, livekit, id, user.id, identity, moderationLimit(user.id)),
    });
  });

  app.post("/rooms/:id/mute-all", auth, async (c) => {
    const id = roomIdOr404(c.req.param("id"));
    const user = c.get("user");
    return c.json({
      muted: await muteEveryone(sql, livekit, id, user.id, moderationLimit(user.id)),
    });
  });

  /** Who is asking, in a room: a member by their session, a guest by their pass. */
  async function callerIdentity(c: Context<AppEnv>, roomId: string): Promise<string> {
    const cred = credentials(c);
    if (!cred) {
      return (await guestForPass(
        sql,
        roomId,
        parseGuestPass(getCookie(c, guestCookieName(roomId))),
      ))
        .identity;
    }
    const claims = sessions.verify(cred.token);
    if (!claims) throw unauthorized();
    return (await tokenContext(sql, claims, roomId)).user.id;
  }

  // LiveKit's events, signed with our API secret: presence stays true when a tab dies.
  app.post("/webhook", async (c) => {
    const body = await c.req.text();
    const event = await livekit.receiveWebhook(body, c.req.header("Authorization"));
    if (!event) {
      throw new AppError(401, "invalid_signature", "error.invalid_signature");
    }
    if (!event.id || !event.event) {
      throw new AppError(400, "invalid_event", "error.invalid_event");
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
    }], "limit.checks");
    const { token, room } = await livekit.mintCheckToken(user.id, user.display_name);
    deps.metrics.tokens.inc({ who: "check" });
    return c.json({ token, url: livekit.url, room_name: room });
  });

  // The deployment doctor makes a room named doctor-… in LiveKit and asks here whether LiveKit's
  // room_started event for it arrived (verified like every event). Says nothing else.
  app.get("/webhook/probe/:name", async (c) => {
    const name = c.req.param("name");
    if (!/^doctor-[0-9a-f]{32}$/.test(name)) {
      throw new AppError(400, "invalid_probe", "error.invalid_probe");
    }
    await enforceLimits(sql, [{
      key: `probe:addr:${clientAddress(c, config)}`,
      ...deps.limits.probesPerAddress,
    }], "limit.probes");
    const [seen] = await sql<{ received_at: Date }[]>`
      select received_at from livekit_events
      where room_id = ${name} and event = 'room_started' limit 1`;
    if (!seen) throw new AppError(404, "not_received", "error.not_received");
    return c.json({ received_at: seen.received_at.toISOString() });
  });

  app.delete("/rooms/:id", auth, async (c) => {
    const id = roomIdOr404(c.req.param("id"));
    if (await endRoom(sql, id, c.get("user").id)) await closeLiveKitRoom(id);
    return c.body(null, 204);
  });

  /** A member's token for the room (role and call type as the app has them now). */
  async function memberToken(c: Context<AppEnv>, id: string) {
    const { user, role, call_type } = await tokenContext(sql, c.get("claims"), id);
    const token = await livekit.mintToken({
      room: id,
      identity: user.id,
      name: user.display_name,
      role,
      callType: call_type,
    });
    deps.metrics.tokens.inc({ who: "member" });
    return { token, url: livekit.url, room_name: id };
  }

  // The session row is checked inside tokenContext's query: one round trip on the hot path.
  app.post("/token", requireClaims(config, sessions), jsonBody(tokenSchema), async (c) => {
    const id = roomIdOr404(c.req.valid("json").room_name);
    const answer = await memberToken(c, id);
    await renewSession(c, config, sessions);
    return c.json(answer);
  });

  // A guest joins through the link: the browser gets a pass for this room (HttpOnly cookie)
  // and a token; later connects trade the pass for a fresh token.
  app.post("/rooms/:id/guest", jsonBody(guestSchema), async (c) => {
    const id = roomIdOr404(c.req.param("id"));
    await enforceLimits(sql, [{
      key: `guest:addr:${clientAddress(c, config)}`,
      max: deps.guestLimits.perAddress,
      windowSeconds: deps.guestLimits.windowSeconds,
    }], "limit.guests");
    const held = parseGuestPass(getCookie(c, guestCookieName(id)));
    const { guest, pass } = await joinAsGuest(sql, id, c.req.valid("json").display_name, held);
    setCookie(c, guestCookieName(id), formatGuestPass(pass), cookieOptions(GUEST_PASS_SECONDS));
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
