import { createMiddleware } from "hono/factory";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { getConnInfo } from "hono/deno";
import type { Context } from "hono";
import { zValidator } from "@hono/zod-validator";
import type { z } from "zod";
import type { Config } from "../lib/platform/config.ts";
import { AppError, type FieldProblem, unauthorized } from "../lib/platform/errors.ts";
import type { Key, Lang, Text } from "../i18n/t.ts";
import { chooseLang, LANG_COOKIE } from "../i18n/server.ts";
import { SESSION_SECONDS, type SessionStore } from "../lib/accounts/sessions.ts";
import { GUEST_COOKIE_PREFIX } from "../lib/meetings/guests.ts";
import { KNOCK_COOKIE_PREFIX } from "../lib/meetings/lobby.ts";
import type { AppEnv } from "./context.ts";

export const SESSION_COOKIE = "urbania_session";
const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** Security headers on every response. */
export function securityHeaders(config: Config) {
  const livekit = new URL(config.livekitUrl);
  const ws = `${
    livekit.protocol.startsWith("https") || livekit.protocol === "wss:" ? "wss" : "ws"
  }://${livekit.host}`;
  const http = ws.replace(/^ws/, "http");
  const csp = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data: blob:",
    "media-src 'self' blob:",
    `connect-src 'self' ${ws} ${http}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "object-src 'none'",
  ].join("; ");
  const headers: [string, string][] = [
    ["Content-Security-Policy", csp],
    ["X-Content-Type-Options", "nosniff"],
    ["Referrer-Policy", "same-origin"],
    ["X-Frame-Options", "DENY"],
    ["Cross-Origin-Opener-Policy", "same-origin"],
    ["Permissions-Policy", "camera=(self), microphone=(self), display-capture=(self)"],
  ];
  if (config.secureCookies) headers.push(["Strict-Transport-Security", "max-age=31536000"]);
  const api: [string, string][] = [...headers, ["Cache-Control", "no-store"]];
  // Set before the handler runs, so every response is built with them (errors included),
  // rather than edited afterwards.
  return createMiddleware(async (c, next) => {
    for (const [name, value] of c.req.path.startsWith("/api/") ? api : headers) {
      c.header(name, value);
    }
    await next();
  });
}

export const foreignOrigin = () => new AppError(403, "forbidden_origin", "error.forbidden_origin");

/**
 * Refuses state-changing requests from another origin. A request that relies on the session
 * cookie (no Authorization header) must name our origin; one without cookie may omit it.
 */
export function originGuard(config: Config) {
  return createMiddleware(async (c, next) => {
    if (UNSAFE.has(c.req.method)) {
      const origin = c.req.header("Origin");
      // The session cookie, a guest's pass for a meeting (urbania_guest_<room>), or a
      // ticket for its lobby (urbania_knock_<room>).
      const cookieAuth = !c.req.header("Authorization") &&
        Object.keys(getCookie(c)).some((n) =>
          n === SESSION_COOKIE || n.startsWith(GUEST_COOKIE_PREFIX) ||
          n.startsWith(KNOCK_COOKIE_PREFIX)
        );
      if (origin !== undefined ? origin !== config.publicUrl : cookieAuth) throw foreignOrigin();
    }
    await next();
  });
}

/**
 * The language a request is answered in: the signed-in account's choice (`user`, or the one the
 * route's middleware loaded), else the language switch's cookie, else Accept-Language.
 */
export function langOf(c: Context, user?: { lang?: string | null } | null): Lang {
  const account = user ?? (c.get("user") as { lang?: string | null } | undefined);
  return chooseLang(account?.lang, getCookie(c, LANG_COOKIE), c.req.header("Accept-Language"));
}

/** 415 for a request body that is not JSON. */
export const requireJsonBody = createMiddleware(async (c, next) => {
  const hasBody = (c.req.header("Content-Length") ?? "0") !== "0" ||
    c.req.header("Transfer-Encoding");
  const type = c.req.header("Content-Type")?.split(";")[0].trim().toLowerCase() ?? "";
  if (
    UNSAFE.has(c.req.method) && hasBody && !(type === "application/json" || type.endsWith("+json"))
  ) {
    throw new AppError(415, "unsupported_media_type", "error.unsupported_media_type");
  }
  await next();
});

/** How a person would name each field the API reads (the catalog's `field.*`). */
const FIELD_NAMES: Record<string, Key> = {
  room_name: "field.room_name",
  display_name: "field.display_name",
  email: "field.email",
  password: "field.password",
  call_type: "field.call_type",
  participants: "field.participants",
  allow_guests: "field.allow_guests",
  entry: "field.entry",
  locked: "field.locked",
  raised: "field.raised",
  user_id: "field.user_id",
  track_sid: "field.track_sid",
  token: "field.token",
  body: "field.body",
};

interface Issue {
  code?: string;
  path: readonly PropertyKey[];
  message: string;
  minimum?: number | bigint;
  maximum?: number | bigint;
  origin?: string;
  format?: string;
  values?: readonly unknown[];
  keys?: readonly string[];
  input?: unknown;
}

/**
 * A validation problem in words a person can act on (never the validator's own text): what is
 * wrong with which field, and what to do.
 */
export function humanIssue(issue: Issue): Text {
  const top = issue.path.find((p) => typeof p === "string") as string | undefined;
  const known = FIELD_NAMES[top ?? "body"];
  // The field, as the sentence's subject ("The name is empty") or inside it.
  const field = known ? { t: known } : top ?? "";
  const v = (extra: Record<string, string | number> = {}) => ({ field, ...extra });
  const list = issue.origin === "array";
  switch (issue.code) {
    case "too_small":
      if (list) return ["issue.tooFew", v({ n: Number(issue.minimum) })];
      return Number(issue.minimum) <= 1
        ? ["issue.empty", v()]
        : ["issue.tooShort", v({ n: Number(issue.minimum) })];
    case "too_big":
      return list
        ? ["issue.tooMany", v({ n: Number(issue.maximum) })]
        : ["issue.tooLong", v({ n: Number(issue.maximum) })];
    case "invalid_type":
      return issue.input === undefined ? ["issue.missing", v()] : ["issue.wrongForm", v()];
    case "invalid_format":
      if (issue.format === "email") return "issue.email";
      return ["issue.invalid", v()];
    case "invalid_value":
      return ["issue.oneOf", v({ values: (issue.values ?? []).map(String).join(", ") })];
    case "unrecognized_keys": {
      const keys = issue.keys ?? [];
      return [keys.length === 1 ? "issue.unknownKey" : "issue.unknownKeys", {
        keys: keys.map((k) => `“${k}”`).join(", "),
      }];
    }
    default:
      // A check written for the app names its sentence in the catalog.
      return issue.code === "custom" && isCatalogKey(issue.message)
        ? issue.message
        : ["issue.notValid", v()];
  }
}

/** The app's own checks give a catalog key as their message. */
const isCatalogKey = (s: string): s is Key => /^issue\.[a-zA-Z.]+$/.test(s);

/** One problem per field of a failed validation: the first, which is the one to fix first. */
export function fieldProblems(error: { issues: readonly Issue[] }): FieldProblem[] {
  const byField = new Map<string, Text>();
  for (const issue of error.issues) {
    const field = issue.path.map(String).join(".") || "body";
    if (!byField.has(field)) byField.set(field, humanIssue(issue));
  }
  return [...byField].map(([field, text]) => ({ field, text }));
}

/** Validates a JSON body; a failure is a 400 naming each field. */
export function jsonBody<T extends z.ZodType>(schema: T) {
  return zValidator("json", schema, (result) => {
    if (!result.success) {
      const fields = fieldProblems(result.error);
      throw new AppError(
        400,
        "invalid_request",
        "issue.fields",
        { fields },
      );
    }
  });
}

/** Validates a path parameter. */
export function param<T extends z.ZodType>(name: string, schema: T) {
  return zValidator("param", schema, (result) => {
    if (!result.success) {
      throw new AppError(
        400,
        "invalid_request",
        humanIssue({
          ...result.error.issues[0],
          path: [name],
        }),
      );
    }
  });
}

/** Sets the session cookie. */
export function setSessionCookie(c: Context, config: Config, token: string) {
  setCookie(c, SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: "Lax",
    secure: config.secureCookies,
    path: "/",
    maxAge: SESSION_SECONDS,
  });
}

export function clearSessionCookie(c: Context, config: Config) {
  deleteCookie(c, SESSION_COOKIE, { path: "/", secure: config.secureCookies });
}

/** The session's token from `Authorization: Bearer` or the cookie, and which carried it. */
export function credentials(c: Context): { token: string; via: "bearer" | "cookie" } | null {
  const header = c.req.header("Authorization");
  if (header !== undefined) {
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(header.trim());
    return match ? { token: match[1], via: "bearer" } : null;
  }
  const cookie = getCookie(c, SESSION_COOKIE);
  return cookie ? { token: cookie, via: "cookie" } : null;
}

/**
 * Requires an authentic session token and sets `claims`, without asking the database: a route
 * using this alone must confirm the session row in its own query (see `requireUser`).
 */
export function requireClaims(config: Config, sessions: SessionStore) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const cred = credentials(c);
    const claims = cred ? sessions.verify(cred.token) : null;
    if (!cred || !claims) {
      if (cred?.via === "cookie") clearSessionCookie(c, config);
      throw unauthorized();
    }
    c.set("claims", claims);
    c.set("authVia", cred.via);
    await next();
  });
}

/**
 * A live session when the request carries one (sets `claims` and `user`); nothing when it
 * carries none. 401 for credentials that do not hold: someone who means to act as a user is
 * never quietly taken for a stranger.
 */
export function optionalUser(config: Config, sessions: SessionStore) {
  const required = requireUser(config, sessions);
  return createMiddleware<AppEnv>((c, next) => credentials(c) ? required(c, next) : next());
}

/** Requires a live session; sets `claims` and `user`, and renews the token while it is in use. */
export function requireUser(config: Config, sessions: SessionStore) {
  const authentic = requireClaims(config, sessions);
  return createMiddleware<AppEnv>((c, next) =>
    authentic(c, async () => {
      const user = await sessions.load(c.get("claims"));
      if (!user) {
        if (c.get("authVia") === "cookie") clearSessionCookie(c, config);
        throw unauthorized();
      }
      c.set("user", user);
      await next();
      await renewSession(c, config, sessions);
    })
  );
}

/** Sends a renewed token when the session is past half its life: a cookie, or a header for Bearer clients. */
export async function renewSession(c: Context<AppEnv>, config: Config, sessions: SessionStore) {
  const renewed = await sessions.renewIfDue(c.get("claims"));
  if (!renewed) return;
  if (c.get("authVia") === "cookie") setSessionCookie(c, config, renewed.token);
  else c.header("X-Access-Token", renewed.token);
}

/** The client's address: the socket peer, or the last proxy hop when TRUST_PROXY is set. */
export function clientAddress(c: Context, config: Config): string {
  if (config.trustProxy) {
    const hops = c.req.header("X-Forwarded-For")?.split(",").map((s) => s.trim()).filter(Boolean);
    if (hops && hops.length > 0) return hops[hops.length - 1];
  }
  try {
    return getConnInfo(c).remote.address ?? "unknown";
  } catch {
    return "unknown";
  }
}

/** Options of the HttpOnly cookies that hold a guest's pass or a lobby ticket. */
export const passCookie = (config: Config, maxAge: number) => ({
  httpOnly: true,
  sameSite: "Lax" as const,
  secure: config.secureCookies,
  path: "/",
  maxAge,
});
