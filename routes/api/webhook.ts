import { Hono } from "hono";
import { AppError } from "../../lib/platform/errors.ts";
import { enforceLimits } from "../../lib/platform/rate_limit.ts";
import { applyWebhook, enforceOutcome, probeReceivedAt } from "../../lib/meetings/presence.ts";
import { WEBHOOK_EVENTS } from "../../lib/server/metrics.ts";
import type { AppEnv, Deps } from "../context.ts";
import { clientAddress } from "../middleware.ts";

/** LiveKit webhook bodies are small; this bounds one generously. */
export const MAX_WEBHOOK_BYTES = 64 * 1024;

/** /api/livekit/webhook: LiveKit's events, signed with our API secret, and the doctor's probe. */
export function webhookRoutes(deps: Deps) {
  const { config, sql, livekit, log } = deps;
  const app = new Hono<AppEnv>();

  // Presence stays true when a tab dies.
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
    await enforceOutcome(livekit, log, outcome);
    return c.json({ result: outcome.result });
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
    const seen = await probeReceivedAt(sql, name);
    if (!seen) throw new AppError(404, "not_received", "error.not_received");
    return c.json({ received_at: seen.toISOString() });
  });

  return app;
}
