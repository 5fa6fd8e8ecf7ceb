// Run by db_fault_test.ts in a process of its own, so that an exception escaping the driver
// shows as this process dying. Each fault is made to happen, not waited for: a backend is
// terminated while the app holds its connection, then the app uses it, or the pool. Prints one
// JSON line of what each step got; exits 0 when it got this far.
import { createDb } from "../lib/platform/db.ts";

const url = Deno.args[0];
const sql = createDb(url, { max: 2, connectTimeoutMs: 3000 });
const killer = createDb(url, { max: 1 });
const code = (err: unknown) => (err as { code?: string }).code ?? String(err);

/** Terminates a backend and waits until PostgreSQL no longer lists it. */
async function terminate(pid: number): Promise<void> {
  await killer`select pg_terminate_backend(${pid})`;
  while ((await killer`select 1 from pg_stat_activity where pid = ${pid}`).length > 0) {
    await new Promise((r) => setTimeout(r, 10));
  }
}

const report: Record<string, unknown> = {};

// 1. The backend dies while a query of the transaction is running: the driver's own ROLLBACK
//    path (where postgres.js writes to a closed socket from a setImmediate).
let pid: number | null = null;
const inFlight = sql.begin(async (tx) => {
  [{ pid }] = await tx<{ pid: number }[]>`select pg_backend_pid() as pid`;
  await tx`select pg_sleep(30)`;
}).then(() => "committed", code);
while (pid === null) await new Promise((r) => setTimeout(r, 5));
await terminate(pid);
report.in_flight = await inFlight;

// 2. The backend dies between two queries of a transaction; the next one is written to it.
report.between = await sql.begin(async (tx) => {
  const [{ pid }] = await tx<{ pid: number }[]>`select pg_backend_pid() as pid`;
  await terminate(pid);
  await tx`insert into fault_log (note) values ('never')`;
}).then(() => "committed", code);

// 3. Small writes queued on connections that die at once (every backend of the pool).
const [a, b] = await Promise.all([
  sql<{ pid: number }[]>`select pg_backend_pid() as pid, pg_sleep(0.2)`,
  sql<{ pid: number }[]>`select pg_backend_pid() as pid, pg_sleep(0.2)`,
]);
const queued = Promise.allSettled(
  Array.from({ length: 20 }, (_, i) => sql`insert into fault_log (note) values (${`q${i}`})`),
);
await Promise.all([terminate(a[0].pid), terminate(b[0].pid)]);
report.queued = (await queued).map((r) => r.status === "fulfilled" ? "ok" : code(r.reason));

// After all that, the pool answers at once on fresh connections (no connection is left
// unable to send, waiting out its connect timeout), and nothing of transaction 2 was kept.
report.after = await Promise.all(
  [1, 2, 3, 4].map((n) => sql<{ n: number }[]>`select ${n}::int as n`.then((r) => r[0].n, code)),
);
report.never = (await sql`select 1 from fault_log where note = 'never'`).length;
await new Promise((r) => setTimeout(r, 100)); // any late immediate or event would run here
await sql.end();
await killer.end();
console.log(JSON.stringify(report));
