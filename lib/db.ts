import postgres from "postgres";
import { isDatabaseUnavailable } from "./errors.ts";
import { errorFields, type Logger } from "./log.ts";

export type Sql = postgres.Sql;
export type Tx = postgres.TransactionSql;

/** A PostgreSQL pool that fails fast while the server is away and reconnects by itself. */
export function createDb(url: string, options: { max?: number } = {}): Sql {
  const max = options.max ?? 10;
  return postgres(url, {
    max,
    backoff: (failures: number) => reconnectDelaySeconds(failures, max),
    idle_timeout: 30,
    connect_timeout: 5,
    max_lifetime: 60 * 30,
    onnotice: () => {},
    connection: { application_name: "urbania", statement_timeout: 10_000 },
  });
}

/**
 * Seconds before a closed connection reconnects, given the failures the pool has counted
 * since its last successful connection. postgres.js counts every connection that closes
 * with an error, so a restart that drops the whole pool at once counts up to `max`
 * without the server being away: those reconnect at once. Beyond that the server really
 * is unreachable, and attempts back off (with jitter) up to 2 s, so a request waits at
 * most that long before its 503 and service resumes within that long of the server's
 * return. (postgres.js's own backoff reaches 20 s after ten failures.)
 */
export function reconnectDelaySeconds(failures: number, max: number): number {
  if (failures <= max) return 0;
  return Math.min(0.05 * 2 ** (failures - max), 2) * (0.5 + Math.random() / 2);
}

/** Answers true when a trivial query succeeds within `timeoutMs`. */
export async function pingDb(sql: Sql, timeoutMs = 2000): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("database ping timed out")), timeoutMs);
    });
    await Promise.race([sql`select 1`, timeout]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * postgres.js runs a query of its own on every new connection (the array types) and
 * leaves its failure unhandled; a connection cut at that moment (PostgreSQL restarting)
 * would end the process. Such lost-connection rejections are logged instead; any other
 * unhandled rejection still ends the process. Returns the function that removes the guard.
 */
export function absorbLostConnections(log: Logger): () => void {
  const onRejection = (event: PromiseRejectionEvent) => {
    if (!isDatabaseUnavailable(event.reason)) return;
    event.preventDefault();
    log.warn("database connection lost during a driver query", errorFields(event.reason));
  };
  globalThis.addEventListener("unhandledrejection", onRejection);
  return () => globalThis.removeEventListener("unhandledrejection", onRejection);
}
