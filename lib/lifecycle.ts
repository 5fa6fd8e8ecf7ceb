// Starting before the database is up, and stopping without dropping anyone mid-request.
import type { Sql } from "./db.ts";
import { passwordPool } from "./passwords.ts";
import { isDatabaseUnavailable } from "./errors.ts";
import { errorFields, type Logger } from "./log.ts";
import type { Realtime } from "./realtime.ts";

/**
 * Runs `attempt` until PostgreSQL answers (a stack or a VM that boots starts the app before the
 * database is ready), waiting 0.25 s, then twice as long each time up to `maxDelayMs`. Any
 * error other than "cannot reach the database" is thrown at once.
 */
export async function whenDatabaseAnswers<T>(
  attempt: () => Promise<T>,
  log: Logger,
  maxDelayMs = 5000,
): Promise<T> {
  for (let n = 1;; n++) {
    try {
      return await attempt();
    } catch (err) {
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
