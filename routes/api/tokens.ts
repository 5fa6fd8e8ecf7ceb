import { Hono } from "hono";
import type { Context } from "hono";
import { z } from "zod";
import type { Guest } from "../../lib/meetings/guests.ts";
import { tokenContext } from "../../lib/meetings/rooms.ts";
import type { AppEnv, Deps } from "../context.ts";
import { jsonBody, renewSession, requireClaims } from "../middleware.ts";
import { roomIdOr404 } from "../schemas.ts";

// The seed's body also carried user_id and username: identity comes from the session only.
const tokenSchema = z.object({ room_name: z.string().min(1).max(64) });

/** LiveKit tokens for a member (from the session) and for a guest (from their pass). */
export function tokenMinter(deps: Deps) {
  const { sql, livekit, metrics } = deps;
  return {
    /** A member's token for the room (role and call type as the app has them now). */
    async member(c: Context<AppEnv>, room: string) {
      const { user, role, call_type } = await tokenContext(sql, c.get("claims"), room);
      const token = await livekit.mintToken({
        room,
        identity: user.id,
        name: user.display_name,
        role,
        callType: call_type,
      });
      metrics.tokens.inc({ who: "member" });
      return { token, url: livekit.url, room_name: room };
    },
    async guest(room: string, guest: Guest) {
      const token = await livekit.mintToken({
        room,
        identity: guest.identity,
        name: guest.display_name,
        role: "guest",
        callType: guest.call_type,
      });
      metrics.tokens.inc({ who: "guest" });
      return { token, url: livekit.url, room_name: room };
    },
  };
}

/** POST /api/livekit/token: a member's LiveKit token. */
export function tokenRoutes(deps: Deps) {
  const { config, sessions } = deps;
  const app = new Hono<AppEnv>();
  const mint = tokenMinter(deps);

  // The session row is checked inside tokenContext's query: one round trip on the hot path.
  app.post("/token", requireClaims(config, sessions), jsonBody(tokenSchema), async (c) => {
    const id = roomIdOr404(c.req.valid("json").room_name);
    const answer = await mint.member(c, id);
    await renewSession(c, config, sessions);
    return c.json(answer);
  });

  return app;
}
