import { Hono } from "hono";
import { pingDb } from "../lib/db.ts";
import type { AppEnv, Deps } from "./context.ts";

/** Liveness and readiness probes. */
export function healthRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    const database = (await pingDb(deps.sql)) ? "ok" : "unavailable";
    if (database === "ok") return c.json({ status: "ok", checks: { database } });
    return c.json({
      status: "unavailable",
      checks: { database },
      error: { code: "unavailable", message: "The database is unavailable." },
    }, 503);
  });
  return app;
}
