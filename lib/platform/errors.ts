import type { Key, Text } from "../../i18n/t.ts";
import { tr } from "../../i18n/server.ts";

/**
 * The one HTTP error type: thrown anywhere, turned into `{"error": {code, message}}` in one
 * place. `text` is the catalog's message, written out in the language of the request that
 * receives it; `message` is its English, for logs.
 */
export class AppError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 405 | 409 | 410 | 413 | 415 | 426 | 429 | 503,
    readonly code: string,
    readonly text: Text,
    readonly extra: { headers?: Record<string, string>; fields?: FieldProblem[] } = {},
  ) {
    super(tr("en", text));
    this.name = "AppError";
  }
}

export interface FieldProblem {
  field: string;
  text: Text;
}

export const unauthorized = () =>
  new AppError(
    401,
    "unauthorized",
    "error.unauthorized",
  );

/** 404, saying what was not found (`error.nf.*`). */
export const notFound = (what: Key) => new AppError(404, "not_found", what);

export const databaseUnavailable = () =>
  new AppError(503, "unavailable", "error.unavailable", {
    headers: { "Retry-After": "5" },
  });

/** The pool stayed full for its whole wait: try again in a moment. */
export const databaseBusy = () =>
  new AppError(503, "busy", "error.busy", { headers: { "Retry-After": "1" } });

/** True when every database connection stayed in use (lib/platform/db.ts): overloaded. */
export function isDatabaseBusy(err: unknown): boolean {
  return errorTag(err, "code") === "DB_POOL_BUSY";
}

/** An error's `code` or `name` when it is a string (driver, PostgreSQL and Deno errors). */
function errorTag(err: unknown, key: "code" | "name"): string | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const value = (err as Record<string, unknown>)[key];
  return typeof value === "string" ? value : undefined;
}

// lib/db.ts decides what a driver error means and gives it one of two codes:
// CONNECTION_CLOSED, the connection in hand was lost mid-query (a pooled connection that died
// while idle fails only when next used; a fresh one may well succeed), and DB_CONNECT_FAILED,
// no connection could be made (its cause says why). A server reply of class 08 (connection
// exception) means the same as the second. All mean "try again later", not a bug.

/** True when an error means PostgreSQL cannot be reached right now. */
export function isDatabaseUnavailable(err: unknown): boolean {
  const code = errorTag(err, "code");
  return code === "CONNECTION_CLOSED" || code === "DB_CONNECT_FAILED" ||
    (code?.startsWith("08") ?? false);
}

/** True when an error means the connection in hand was lost, not that the server is away. */
export function isLostConnection(err: unknown): boolean {
  return errorTag(err, "code") === "CONNECTION_CLOSED";
}

/** True for PostgreSQL's unique_violation. */
export function isUniqueViolation(err: unknown): boolean {
  return errorTag(err, "code") === "23505";
}

/** True for PostgreSQL's data exceptions (class 22), which bad input causes. */
export function isDataException(err: unknown): boolean {
  return errorTag(err, "code")?.startsWith("22") ?? false;
}
