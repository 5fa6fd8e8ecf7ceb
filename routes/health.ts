import { Hono } from "hono";
import { pingDb } from "../lib/platform/db.ts";
import type { AppEnv, Deps } from "./context.ts";

/** Liveness, and readiness: the database and LiveKit both answer (503 naming what does not). */
export function healthRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    const [db, lk] = await Promise.all([pingDb(deps.sql), deps.livekit.reachable()]);
    const checks = {
      database: db ? "ok" : "unavailable",
      livekit: lk ? "ok" : "unavailable",
    };
    if (db && lk) return c.json({ status: "ok", checks });
    const down = [db ? null : "the database", lk ? null : "the media server (LiveKit)"]
      .filter(Boolean).join(" and ");
    return c.json({
      status: "unavailable",
      checks,
      error: { code: "unavailable", message: `Not ready: ${down} cannot be reached.` },
    }, 503);
  });
  return app;
}
