import { createHash, timingSafeEqual } from "node:crypto";
import { Hono } from "hono";
import type { MiddlewareHandler } from "hono";
import { getConnInfo } from "hono/deno";
import { routePath } from "hono/route";
import type { Metrics } from "../lib/server/metrics.ts";
import type { AppEnv, Deps } from "./context.ts";

/** The instance's gauges: open sockets, the database pool, memory. */
export function watchInstance(deps: Deps) {
  const { metrics, realtime, sql } = deps;
  metrics.gauge(
    "urbania_websockets_open",
    "Real-time sockets open on this instance.",
    () => [{ labels: {}, value: realtime.socketCount }],
  );
  metrics.gauge(
    "urbania_db_pool_connections",
    "PostgreSQL pool connections, by state (total, idle, waiting requests).",
    () => {
      const s = sql.stats();
      return [
        { labels: { state: "total" }, value: s.total },
        { labels: { state: "idle" }, value: s.idle },
        { labels: { state: "waiting" }, value: s.waiting },
      ];
    },
  );
  metrics.gauge(
    "urbania_process_resident_memory_bytes",
    "Resident memory of this process.",
    () => [{ labels: {}, value: Deno.memoryUsage().rss }],
  );
}

/** The methods counted by name; any other (a client may send any token) counts as "other". */
const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/**
 * Times every API request, labelled by its route pattern (unmatched paths count as one) and a
 * method of a fixed set: no request can make a new series.
 */
export function timeRequests(metrics: Metrics): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const start = performance.now();
    try {
      await next();
    } finally {
      const status = c.res.status;
      const route = status === 404 || status === 405 ? "unmatched" : routePath(c, -1);
      metrics.requests.observe(
        {
          method: METHODS.has(c.req.method) ? c.req.method : "other",
          route,
          status: `${Math.floor(status / 100)}xx`,
        },
        (performance.now() - start) / 1000,
      );
    }
  };
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;
const PROXY_HEADERS = ["X-Forwarded-For", "Forwarded", "X-Real-IP", "X-Forwarded-Host"];

/**
 * GET /metrics: for this machine (a connection from loopback that no proxy forwarded), or for
 * whoever holds METRICS_TOKEN as a bearer token. Anyone else gets the plain 404 of a path that
 * does not exist.
 */
export function metricsRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.get("/metrics", async (c, next) => {
    const token = deps.config.metricsToken;
    const bearer = c.req.header("Authorization")?.match(/^Bearer (.+)$/)?.[1];
    let peer = "";
    try {
      peer = getConnInfo(c).remote.address ?? "";
    } catch {
      // No connection information (a request made in-process): not the machine's own.
    }
    // Whatever header a proxy uses to say it forwards someone else's request.
    const forwarded = PROXY_HEADERS.some((h) => c.req.header(h) !== undefined);
    const local = LOOPBACK.test(peer) && !forwarded;
    const allowed = local || (token !== "" && bearer !== undefined && same(bearer, token));
    if (!allowed) return await next();
    return c.text(deps.metrics.render(), 200, {
      "Content-Type": "text/plain; version=0.0.4; charset=utf-8",
      "Cache-Control": "no-store",
    });
  });
  return app;
}

const digest = (s: string) => createHash("sha256").update(s).digest();
const same = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));
