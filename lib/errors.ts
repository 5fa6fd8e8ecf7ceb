/** The one HTTP error type: thrown anywhere, turned into `{"error": {code, message}}` in one place. */
export class AppError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 405 | 409 | 410 | 413 | 415 | 426 | 429 | 503,
    readonly code: string,
    message: string,
    readonly extra: { headers?: Record<string, string>; fields?: FieldProblem[] } = {},
  ) {
    super(message);
    this.name = "AppError";
  }
}

export interface FieldProblem {
  field: string;
  message: string;
}

export const unauthorized = () =>
  new AppError(
    401,
    "unauthorized",
    "Sign in to continue: the session is missing, invalid or expired.",
  );

export const notFound = (what: string) => new AppError(404, "not_found", `${what} was not found.`);

export const databaseUnavailable = () =>
  new AppError(503, "unavailable", "The database is unavailable; try again shortly.", {
    headers: { "Retry-After": "5" },
  });

/** An error's `code` or `name` when it is a string (driver, PostgreSQL and Deno errors). */
function errorTag(err: unknown, key: "code" | "name"): string | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const value = (err as Record<string, unknown>)[key];
  return typeof value === "string" ? value : undefined;
}

// A pooled connection that died while idle (the server restarted, or an administrator
// ended it) fails only when next used; a fresh connection may well succeed.
const LOST_CONNECTION_CODES = new Set([
  "CONNECTION_CLOSED", // lib/db.ts: the connection in use was lost mid-query
  "ECONNRESET",
  "EPIPE",
  "57P01", // admin_shutdown (pg_terminate_backend)
  "57P02", // crash_shutdown
]);

// Those, plus lib/db.ts's and PostgreSQL's codes for a server that is away or refusing
// connections: all mean "try again later", not a bug.
const CONNECTION_CODES = new Set([
  ...LOST_CONNECTION_CODES,
  "DB_CONNECT_FAILED", // lib/db.ts: no connection could be made (its cause says why)
  "ECONNREFUSED",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "57P03", // cannot_connect_now
  "53300", // too_many_connections
]);

/** True when an error means PostgreSQL cannot be reached right now. */
export function isDatabaseUnavailable(err: unknown): boolean {
  const code = errorTag(err, "code");
  if (code !== undefined && (CONNECTION_CODES.has(code) || code.startsWith("08"))) return true;
  // Deno's node:net reports refused connections as errors whose name carries the cause.
  const name = errorTag(err, "name");
  return name === "ConnectionRefused" || name === "ConnectionReset" || name === "TimedOut";
}

/** True when an error means the connection in hand was lost, not that the server is away. */
export function isLostConnection(err: unknown): boolean {
  const code = errorTag(err, "code");
  return (code !== undefined && LOST_CONNECTION_CODES.has(code)) ||
    errorTag(err, "name") === "ConnectionReset";
}

/** True for PostgreSQL's unique_violation. */
export function isUniqueViolation(err: unknown): boolean {
  return errorTag(err, "code") === "23505";
}

/** True for PostgreSQL's data exceptions (class 22), which bad input causes. */
export function isDataException(err: unknown): boolean {
  return errorTag(err, "code")?.startsWith("22") ?? false;
}
