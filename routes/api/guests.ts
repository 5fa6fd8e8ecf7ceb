import { Hono } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import { z } from "zod";
import { enforceLimits } from "../../lib/platform/rate_limit.ts";
import {
  formatGuestPass,
  GUEST_PASS_SECONDS,
  guestCookieName,
  guestForPass,
  joinAsGuest,
  parseGuestPass,
} from "../../lib/meetings/guests.ts";
import type { AppEnv, Deps } from "../context.ts";
import { clientAddress, jsonBody, passCookie } from "../middleware.ts";
import { roomIdOr404, text } from "../schemas.ts";
import { tokenMinter } from "./tokens.ts";

const guestSchema = z.object({ display_name: text(1, 64) });

/**
 * /api/livekit/rooms/:id/guest: joining through the link without an account. The browser gets
 * a pass for this room (HttpOnly cookie) and a token; later connects trade the pass for a
 * fresh token.
 */
export function guestRoutes(deps: Deps) {
  const { config, sql } = deps;
  const app = new Hono<AppEnv>();
  const mint = tokenMinter(deps);

  app.post("/rooms/:id/guest", jsonBody(guestSchema), async (c) => {
    const id = roomIdOr404(c.req.param("id"));
    await enforceLimits(sql, [{
      key: `guest:addr:${clientAddress(c, config)}`,
      max: deps.guestLimits.perAddress,
      windowSeconds: deps.guestLimits.windowSeconds,
    }], "limit.guests");
    const held = parseGuestPass(getCookie(c, guestCookieName(id)));
    const { guest, pass } = await joinAsGuest(sql, id, c.req.valid("json").display_name, held);
    setCookie(
      c,
      guestCookieName(id),
      formatGuestPass(pass),
      passCookie(config, GUEST_PASS_SECONDS),
    );
    return c.json(await mint.guest(id, guest));
  });

  app.post("/rooms/:id/guest/token", async (c) => {
    const id = roomIdOr404(c.req.param("id"));
    const pass = parseGuestPass(getCookie(c, guestCookieName(id)));
    return c.json(await mint.guest(id, await guestForPass(sql, id, pass)));
  });

  return app;
}
