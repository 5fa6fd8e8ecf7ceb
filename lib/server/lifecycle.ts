// Starting before the database is up, and stopping without dropping anyone mid-request.
import type { Sql } from "../platform/db.ts";
import { passwordPool } from "../accounts/passwords.ts";
import { isDatabaseUnavailable } from "../platform/errors.ts";
import { errorFields, type Logger } from "../platform/log.ts";
import type { Realtime } from "../realtime/realtime.ts";

/**
 * A database that answers but refuses this app for good: no such role, wrong password, no such
 * database. Waiting will not help; the message says what to create or fix.
 */
export class DatabaseSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DatabaseSetupError";
  }
}

/** The one-line explanation for a connection PostgreSQL refused for good, if it was one. */
function databaseSetupProblem(err: unknown, databaseUrl: string): string | null {
  const code = (err as { cause?: { code?: unknown } })?.cause?.code;
  let role = "?", database = "?", host = "?";
  try {
    const u = new URL(databaseUrl);
    role = decodeURIComponent(u.username) || "(none)";
    database = decodeURIComponent(u.pathname.slice(1)) || role;
    host = u.host;
  } catch {
    // loadConfig checked the URL; the message only loses its names.
  }
  const message = (err as Error)?.cause instanceof Error
    ? (err as Error & { cause: Error }).cause.message
    : "";
  if (code === "28000" && /role .* does not exist/.test(message)) {
    return `PostgreSQL at ${host} has no role "${role}": create it (as a superuser: ` +
      `CREATE ROLE "${role}" LOGIN PASSWORD '…';) or fix the user in DATABASE_URL`;
  }
  if (code === "28000") {
    return `PostgreSQL at ${host} refuses role "${role}" from this address (${message}): ` +
      "allow it in pg_hba.conf or fix DATABASE_URL";
  }
  if (code === "28P01") {
    return `PostgreSQL at ${host} refused the password of role "${role}": fix the password ` +
      "in DATABASE_URL (or the role's, with ALTER ROLE … PASSWORD)";
  }
  if (code === "3D000") {
    return `PostgreSQL at ${host} has no database "${database}": create it (as a superuser: ` +
      `CREATE DATABASE "${database}" OWNER "${role}";) or fix the name in DATABASE_URL`;
  }
  return null;
}

/**
 * Runs `attempt` until PostgreSQL answers (a stack or a VM that boots starts the app before the
 * database is ready), waiting 0.25 s, then twice as long each time up to `maxDelayMs`. Any
 * error other than "cannot reach the database" is thrown at once; one that waiting cannot
 * fix (no such role or database, a wrong password) as a DatabaseSetupError saying what to do.
 */
export async function whenDatabaseAnswers<T>(
  attempt: () => Promise<T>,
  log: Logger,
  options: { maxDelayMs?: number; databaseUrl?: string } = {},
): Promise<T> {
  const { maxDelayMs = 5000, databaseUrl = "" } = options;
  for (let n = 1;; n++) {
    try {
      return await attempt();
    } catch (err) {
      const setup = databaseSetupProblem(err, databaseUrl);
      if (setup) throw new DatabaseSetupError(setup);
      if (!isDatabaseUnavailable(err)) throw err;
      const delay = Math.min(250 * 2 ** (n - 1), maxDelayMs);
      log.warn("database not answering yet", {
        attempt: n,
        retry_in_ms: delay,
        ...errorFields(err),
      });
      await new Promise((next) => setTimeout(next, delay));
    }
  }
}

export interface Running {
  server: { shutdown(): Promise<void> };
  realtime: Realtime;
  sql: Sql;
  log: Logger;
  /** Stops this instance's clocks (they use the pool, so they stop before it closes). */
  clocks?: (() => void)[];
}

/**
 * Stops in order: the listener stops accepting, sockets are told the server is going away
 * (1001, so clients reconnect to another instance, or to this one once it is back), requests in
 * flight finish (for at most `graceMs`), then the pool closes. Resolves when all is done.
 */
export async function shutDown(parts: Running, graceMs = 10_000): Promise<void> {
  const { server, realtime, sql, log } = parts;
  log.info("shutting down");
  const draining = server.shutdown().then(() => "drained" as const);
  for (const stop of parts.clocks ?? []) stop();
  await realtime.stop();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<"timeout">((done) => {
    timer = setTimeout(() => done("timeout"), graceMs);
  });
  const drained = await Promise.race([draining, deadline]);
  clearTimeout(timer);
  if (drained === "timeout") log.warn("requests still running at shutdown", { grace_ms: graceMs });
  passwordPool.close();
  await sql.end({ timeout: 5 });
  log.info("stopped");
}

/** Shuts down once on SIGTERM or SIGINT, then exits 0. */
export function stopOnSignals(parts: Running): void {
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    shutDown(parts).then(
      () => Deno.exit(0),
      (err) => {
        parts.log.error("shutdown failed", errorFields(err));
        Deno.exit(1);
      },
    );
  };
  for (const signal of ["SIGTERM", "SIGINT"] as const) Deno.addSignalListener(signal, stop);
}
