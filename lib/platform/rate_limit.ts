import type { Key } from "../../i18n/t.ts";
import type { Sql, Tx } from "./db.ts";
import { AppError } from "./errors.ts";

export interface Limit {
  key: string;
  max: number;
  windowSeconds: number;
}

/**
 * Counts one hit against each limit in one round trip (fixed windows kept in PostgreSQL, so
 * every instance shares them). Returns the seconds to wait when any limit is exceeded, else 0.
 */
export async function hit(sql: Sql | Tx, limits: Limit[]): Promise<number> {
  if (limits.length === 0) return 0;
  // Rows are locked in one order whoever counts, so two transactions cannot deadlock on them.
  limits = [...limits].sort((a, b) => a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  const keys = limits.map((l) => l.key);
  const windows = limits.map((l) => l.windowSeconds);
  const rows = await sql<{ key: string; hits: number; retry_after: number }[]>`
    insert into rate_limits as r (key, window_start, window_seconds, hits)
    select key, now(), seconds, 1 from unnest(${keys}::text[], ${windows}::int[]) as t(key, seconds)
    on conflict (key) do update set
      hits = case when r.window_start <= now() - make_interval(secs => excluded.window_seconds)
        then 1 else r.hits + 1 end,
      window_start = case when r.window_start <= now() - make_interval(secs => excluded.window_seconds)
        then now() else r.window_start end,
      window_seconds = excluded.window_seconds
    returning r.key, r.hits,
      ceil(extract(epoch from r.window_start + make_interval(secs => r.window_seconds) - now()))::int
        as retry_after`;
  // Expired windows are pruned now and then, off the request's path (never inside a
  // transaction, whose fate it would share).
  if ("begin" in sql && Math.random() < 0.01) {
    sql`delete from rate_limits where window_start < now() - interval '1 day'`.catch(() => {});
  }
  let wait = 0;
  for (const row of rows) {
    const limit = limits.find((l) => l.key === row.key)!;
    if (row.hits > limit.max) wait = Math.max(wait, Math.max(1, row.retry_after));
  }
  return wait;
}

/** Counts one hit against each limit; 429 with Retry-After, naming `what`, once any is exceeded. */
export async function enforceLimits(
  sql: Sql | Tx,
  limits: Limit[],
  what: Key,
): Promise<void> {
  const wait = await hit(sql, limits);
  if (wait > 0) {
    throw new AppError(429, "rate_limited", ["error.rate_limited", {
      what: { t: what },
      wait: String(wait),
    }], {
      headers: { "Retry-After": String(wait) },
    });
  }
}

/** Forgets a counter (a successful login clears its email's failures). */
export async function resetLimit(sql: Sql, key: string): Promise<void> {
  await sql`delete from rate_limits where key = ${key}`;
}
