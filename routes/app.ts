import { Hono } from "hono";
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import type { Assets } from "../lib/server/assets.ts";
import type { Config } from "../lib/platform/config.ts";
import type { Sql } from "../lib/platform/db.ts";
import {
  AppError,
  databaseBusy,
  databaseUnavailable,
  isDatabaseBusy,
  isDatabaseUnavailable,
  isDataException,
  isLostConnection,
} from "../lib/platform/errors.ts";
import { errorFields, type Logger } from "../lib/platform/log.ts";
import { LiveKit } from "../lib/meetings/livekit.ts";
import type { Realtime } from "../lib/realtime/realtime.ts";
import { SessionStore } from "../lib/accounts/sessions.ts";
import { authRoutes } from "./api/auth.ts";
import { contactRoutes } from "./api/contacts.ts";
import { inviteRoutes } from "./api/invites.ts";
import { connectionCheckRoutes } from "./api/connection_check.ts";
import { guestRoutes } from "./api/guests.ts";
import { lobbyRoutes } from "./api/lobby.ts";
import { moderationRoutes } from "./api/moderation.ts";
import { roomRoutes } from "./api/rooms.ts";
import { tokenRoutes } from "./api/tokens.ts";
import { MAX_WEBHOOK_BYTES, webhookRoutes } from "./api/webhook.ts";
import type { AppEnv, Deps, GuestLimits, Limits, LoginLimits } from "./context.ts";
import { healthRoutes } from "./health.ts";
import { metricsRoutes, timeRequests, watchInstance } from "./metrics.ts";
import { Metrics } from "../lib/server/metrics.ts";
import { errorPage, pageRoutes } from "./pages.tsx";
import { staticRoutes } from "./static.ts";
import { wsRoutes } from "./ws.ts";
import { langOf, originGuard, requireJsonBody, securityHeaders } from "./middleware.ts";
import { tr } from "../i18n/server.ts";
import type { Key } from "../i18n/t.ts";

/** JSON bodies the API accepts, at most. */
export const MAX_BODY_BYTES = 16 * 1024;

const DEFAULT_LOGIN_LIMITS: LoginLimits = { perEmail: 10, perAddress: 100, windowSeconds: 15 * 60 };
const DEFAULT_GUEST_LIMITS: GuestLimits = { perAddress: 30, windowSeconds: 10 * 60 };
const TEN_MINUTES = 10 * 60;
export const DEFAULT_LIMITS: Limits = {
  registerPerAddress: { max: 20, windowSeconds: 60 * 60 },
  roomsPerCaller: { max: 60, windowSeconds: TEN_MINUTES },
  ringsPerCaller: { max: 30, windowSeconds: TEN_MINUTES },
  ringsPerPair: { max: 6, windowSeconds: TEN_MINUTES },
  ringsPerPerson: { max: 60, windowSeconds: TEN_MINUTES },
  contactAdds: { max: 60, windowSeconds: TEN_MINUTES },
  probesPerAddress: { max: 60, windowSeconds: TEN_MINUTES },
  connectionChecks: { max: 30, windowSeconds: TEN_MINUTES },
  knocksPerAddress: { max: 30, windowSeconds: TEN_MINUTES },
  handsPerPerson: { max: 60, windowSeconds: TEN_MINUTES },
  moderationPerPerson: { max: 300, windowSeconds: TEN_MINUTES },
};

export interface AppOptions {
  config: Config;
  sql: Sql;
  log: Logger;
  loginLimits?: LoginLimits;
  guestLimits?: GuestLimits;
  /** Rate limits, each replaceable on its own (tests). */
  limits?: Partial<Limits>;
  /** LiveKit token lifetime, shorter than the 10 minutes (tests only). */
  tokenTtlSeconds?: number;
  /** The LiveKit client, when the caller shares it (main.ts's presence clock); else one of its own. */
  livekit?: LiveKit;
  /** The browser bundle (`loadAssets()`); without it, pages answer 503. */
  assets?: Assets | null;
  /** This instance's sockets and event channel, started by the caller (who also stops it). */
  realtime: Realtime;
  /** Counters for GET /metrics (a fresh set when not given). */
  metrics?: Metrics;
}

const STATUS_CODES: Record<number, [string, Key]> = {
  400: ["bad_request", "error.bad_request"],
  404: ["not_found", "error.nothing_here"],
  405: ["method_not_allowed", "error.method_not_allowed"],
  415: ["unsupported_media_type", "error.unsupported_media_type"],
};

/** Browsers asking for a page get an HTML error page; everything else the JSON error. */
function wantsHtml(c: Context): boolean {
  const path = c.req.path;
  if (path.startsWith("/api/") || path.startsWith("/static/")) return false;
  return (c.req.header("Accept") ?? "").includes("text/html");
}

/** The error in the request's language: an HTML page for a browser's page, else JSON. */
function errorJson(c: Context, err: AppError, assets: Assets | null = null) {
  const lang = langOf(c);
  const fields = err.extra.fields?.map((f) => ({ field: f.field, message: tr(lang, f.text) }));
  // A validation failure reads as the list of what to fix, field by field.
  const message = fields && err.text === "issue.fields"
    ? fields.map((f) => f.message).join(" ")
    : tr(lang, err.text);
  if (wantsHtml(c)) {
    return c.html(errorPage(assets, err.status, message, lang), err.status, {
      ...err.extra.headers,
      "Cache-Control": "no-store",
    });
  }
  const body: Record<string, unknown> = { code: err.code, message };
  if (fields) body.fields = fields;
  return c.json({ error: body }, err.status, err.extra.headers);
}

/** Builds the HTTP application from its dependencies. */
export function createApp(options: AppOptions): Hono<AppEnv> {
  const { config, sql, log } = options;
  const deps: Deps = {
    config,
    sql,
    log,
    sessions: new SessionStore(sql, config.sessionSecret),
    loginLimits: options.loginLimits ?? DEFAULT_LOGIN_LIMITS,
    guestLimits: options.guestLimits ?? DEFAULT_GUEST_LIMITS,
    limits: { ...DEFAULT_LIMITS, ...options.limits },
    livekit: options.livekit ??
      new LiveKit(config, { tokenTtlSeconds: options.tokenTtlSeconds }),
    assets: options.assets ?? null,
    realtime: options.realtime,
    metrics: options.metrics ?? new Metrics(),
  };
  watchInstance(deps);
  const app = new Hono<AppEnv>();
  // Reads that met a pooled connection PostgreSQL had already closed: run again on another.
  const lostConnection = new WeakSet<Request>();

  app.onError((err, c) => {
    if (err instanceof AppError) return errorJson(c, err, deps.assets);
    if (err instanceof HTTPException && err.status < 500) {
      const [code, text] = err.message === "Malformed JSON in request body"
        ? ["invalid_json", "error.invalid_json" as const]
        : STATUS_CODES[err.status] ?? STATUS_CODES[400];
      return errorJson(c, new AppError(err.status as 400, code, text), deps.assets);
    }
    if (isDataException(err)) {
      // Input PostgreSQL could not take (class 22: data exception): the client's to fix.
      return errorJson(
        c,
        new AppError(400, "invalid_request", "error.invalid_request.stored"),
        deps.assets,
      );
    }
    if (isLostConnection(err) && (c.req.method === "GET" || c.req.method === "HEAD")) {
      lostConnection.add(c.req.raw);
    }
    if (isDatabaseBusy(err)) {
      log.warn("database pool busy", { path: c.req.path, ...errorFields(err) });
      return errorJson(c, databaseBusy(), deps.assets);
    }
    if (isDatabaseUnavailable(err)) {
      log.warn("database unavailable", { path: c.req.path, ...errorFields(err) });
      return errorJson(c, databaseUnavailable(), deps.assets);
    }
    log.error("unhandled error", {
      method: c.req.method,
      path: c.req.path,
      ...errorFields(err),
      stack: err instanceof Error ? err.stack : undefined,
    });
    const lang = langOf(c);
    const message = tr(lang, "error.internal");
    if (wantsHtml(c)) return c.html(errorPage(deps.assets, 500, message, lang), 500);
    return c.json({ error: { code: "internal", message } }, 500);
  });

  app.use("/api/*", timeRequests(deps.metrics));
  app.use(securityHeaders(config));
  app.use(originGuard(config));
  const tooLarge = (max: number) => () => {
    throw new AppError(413, "payload_too_large", ["error.payload_too_large", { max: String(max) }]);
  };
  const webhookLimit = bodyLimit({
    maxSize: MAX_WEBHOOK_BYTES,
    onError: tooLarge(MAX_WEBHOOK_BYTES),
  });
  const apiLimit = bodyLimit({ maxSize: MAX_BODY_BYTES, onError: tooLarge(MAX_BODY_BYTES) });
  app.use((c, next) =>
    c.req.path === "/api/livekit/webhook" ? webhookLimit(c, next) : apiLimit(c, next)
  );
  app.use("/api/*", requireJsonBody);

  app.route("/", healthRoutes(deps));
  app.route("/", metricsRoutes(deps));
  app.route("/api/auth", authRoutes(deps));
  app.route("/api/contacts", contactRoutes(deps));
  // /api/livekit, one module per resource.
  for (
    const routes of [
      roomRoutes,
      moderationRoutes,
      lobbyRoutes,
      guestRoutes,
      tokenRoutes,
      webhookRoutes,
      connectionCheckRoutes,
    ]
  ) app.route("/api/livekit", routes(deps));
  app.route("/api/invites", inviteRoutes(deps));
  app.route("/", wsRoutes(deps));
  app.route("/static", staticRoutes(deps));
  app.route("/", pageRoutes(deps));

  app.notFound((c) => {
    const allowed = methodsFor(app, c.req.path).filter((m) => m !== c.req.method);
    if (allowed.length > 0) {
      return errorJson(
        c,
        new AppError(405, "method_not_allowed", [
          "error.method_not_allowed.use",
          { methods: allowed.join(", ") },
        ], {
          headers: { Allow: allowed.join(", ") },
        }),
        deps.assets,
      );
    }
    return errorJson(c, new AppError(404, ...STATUS_CODES[404]), deps.assets);
  });

  // After PostgreSQL restarts, every idle pooled connection is dead and only fails when
  // used. A read that failed that way is retried (a few times at most: the pool drops each
  // dead connection as it fails) instead of answering 503 while the server is back.
  const handle = app.fetch;
  app.fetch = async (request, env, ctx) => {
    let res = await handle(request, env, ctx);
    for (let retry = 0; retry < MAX_READ_RETRIES && lostConnection.has(request); retry++) {
      lostConnection.delete(request);
      await res.body?.cancel();
      res = await handle(request, env, ctx);
    }
    lostConnection.delete(request);
    return res;
  };
  return app;
}

const MAX_READ_RETRIES = 3;

/** Methods that some route serves at this path (for 405 answers). */
function methodsFor(app: Hono<AppEnv>, path: string): string[] {
  const methods = new Set<string>();
  for (const route of app.routes) {
    if (route.method === "ALL") continue;
    const pattern = "^" + route.path.replace(/\/:[^/]+/g, "/[^/]+").replace(/\/\*$/, "(/.*)?") +
      "/?$";
    if (new RegExp(pattern).test(path)) methods.add(route.method);
  }
  return [...methods];
}
