import { Hono } from "hono";
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import { z } from "zod";
import { notFound, unauthorized } from "../../lib/platform/errors.ts";
import { enforceLimits } from "../../lib/platform/rate_limit.ts";
import { guestCookieName, guestForPass, parseGuestPass } from "../../lib/meetings/guests.ts";
import {
  lowerHands,
  muteEveryone,
  muteTrack,
  removeParticipant,
  setCohost,
  setHand,
  updateEntry,
} from "../../lib/meetings/host_controls.ts";
import { GUEST_IDENTITY, USER_IDENTITY } from "../../lib/meetings/livekit.ts";
import { tokenContext, viewRoom } from "../../lib/meetings/rooms.ts";
import { ENTRY_POLICIES } from "../../protocol/api.ts";
import type { AppEnv, Deps } from "../context.ts";
import { credentials, jsonBody, requireUser } from "../middleware.ts";
import { roomIdOr404, uuidOr404 } from "../schemas.ts";

const entrySchema = z.object({
  entry: z.enum(ENTRY_POLICIES).optional(),
  locked: z.boolean().optional(),
}).refine((v) => v.entry !== undefined || v.locked !== undefined, {
  message: "issue.entryOrLock",
});
const handSchema = z.object({ raised: z.boolean() });
const muteSchema = z.object({
  track_sid: z.string().regex(/^TR_[A-Za-z0-9]{1,40}$/, "Not a track id"),
});

/** A participant identity as the app mints them (user id or guest id); anything else: 404. */
function identityOr404(raw: string | undefined): string {
  if (raw === undefined || !(USER_IDENTITY.test(raw) || GUEST_IDENTITY.test(raw))) {
    throw notFound("error.nf.participant");
  }
  return raw;
}

/**
 * /api/livekit/rooms/:id/…: what hosts and co-hosts do in a call (remove, mute, who may enter,
 * co-hosts, hands, mute everyone), and raising one's own hand. LiveKit is told with server
 * credentials; no browser's token has roomAdmin.
 */
export function moderationRoutes(deps: Deps) {
  const { config, sql, sessions, livekit, log } = deps;
  const app = new Hono<AppEnv>();
  const auth = requireUser(config, sessions);
  const view = (id: string, userId: string) => viewRoom(sql, id, userId, config.publicUrl);

  /** Counts one moderation act that costs LiveKit calls (run once the role is checked). */
  const moderationLimit = (userId: string) => () =>
    enforceLimits(sql, [{
      key: `moderate:${userId}`,
      ...deps.limits.moderationPerPerson,
    }], "limit.moderation");

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
    return c.json(await view(id, user.id));
  });

  // The host names co-hosts and takes the role back.
  for (const [method, cohost] of [["put", true], ["delete", false]] as const) {
    app[method]("/rooms/:id/cohosts/:user_id", auth, async (c) => {
      const user = c.get("user");
      const id = roomIdOr404(c.req.param("id"));
      const target = uuidOr404(c.req.param("user_id"), "error.nf.participant");
      await setCohost(sql, livekit, log, id, user.id, target, cohost);
      return c.json(await view(id, user.id));
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

  // Every hand, or one person's (hosts and co-hosts).
  for (const path of ["/rooms/:id/hands", "/rooms/:id/participants/:identity/hand"]) {
    app.delete(path, auth, async (c) => {
      const id = roomIdOr404(c.req.param("id"));
      const raw = c.req.param("identity");
      const identity = raw === undefined ? undefined : identityOr404(raw);
      const user = c.get("user");
      return c.json({
        lowered: await lowerHands(sql, livekit, id, user.id, identity, moderationLimit(user.id)),
      });
    });
  }

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
      const pass = parseGuestPass(getCookie(c, guestCookieName(roomId)));
      return (await guestForPass(sql, roomId, pass)).identity;
    }
    const claims = sessions.verify(cred.token);
    if (!claims) throw unauthorized();
    return (await tokenContext(sql, claims, roomId)).user.id;
  }

  return app;
}
