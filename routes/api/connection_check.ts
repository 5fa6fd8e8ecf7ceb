import { Hono } from "hono";
import { enforceLimits } from "../../lib/platform/rate_limit.ts";
import type { AppEnv, Deps } from "../context.ts";
import { requireUser } from "../middleware.ts";

/** POST /api/livekit/connection-check: a token for a throwaway room of one's own. */
export function connectionCheckRoutes(deps: Deps) {
  const { config, sql, sessions, livekit } = deps;
  const app = new Hono<AppEnv>();

  // The connection test (its page, and pre-join).
  app.post("/connection-check", requireUser(config, sessions), async (c) => {
    const user = c.get("user");
    await enforceLimits(sql, [{
      key: `check:user:${user.id}`,
      ...deps.limits.connectionChecks,
    }], "limit.checks");
    const { token, room } = await livekit.mintCheckToken(user.id, user.display_name);
    deps.metrics.tokens.inc({ who: "check" });
    return c.json({ token, url: livekit.url, room_name: room });
  });

  return app;
}
