// deno task bench:outage [--rounds=5] [--down=2]
//
// How long service takes to come back after PostgreSQL goes away, measured on the app as it
// runs in production (main.ts, its own process) beside a bare node-postgres pool (the floor:
// how soon PostgreSQL itself can be used again), both through one TCP proxy in the same run.
//   restart: the proxy cuts every connection and refuses new ones for --down seconds (what a
//            PostgreSQL restart looks like to its clients), then forwards again.
//   storm:   every backend of the database is terminated at once (pg_terminate_backend)
//            while 8 clients keep reading.
// A probe is a request every 10 ms: GET /api/auth/me (a session read) on the app, `select 1`
// on the bare pool. Printed: time from the database's return (or the storm) to the first
// success, how long a request waited for its 503 while the database was away, failures
// during a storm. Budget: the app back within 1 s of the database.
// @ts-types="@types/pg"
import pg from "pg";
import { migrate } from "../lib/platform/migrate.ts";
import { createDb } from "../lib/platform/db.ts";
import { ADMIN_URL, createTestDatabase, DATABASE_ADDRESS, testEnv } from "../tests/harness.ts";
import { TcpProxy } from "../tests/tcp_proxy.ts";
import { flag, freePort, serve, waitFor } from "./load.ts";

const ROUNDS = flag("rounds", 5);
const DOWN_SECONDS = flag("down", 2);

const db = await createTestDatabase();
const setup = createDb(db.url, { max: 1 });
await migrate(setup);
await setup.end();
const proxy = new TcpProxy(DATABASE_ADDRESS);
proxy.start();
const viaProxy = new URL(db.url);
viaProxy.host = `127.0.0.1:${proxy.port}`;
const port = freePort();
// Errors only: every request that meets the outage would log a warning.
const app = serve("main.ts", { ...testEnv(viaProxy.href), PORT: String(port) }, "error");
const bare = new pg.Pool({ connectionString: viaProxy.href, max: 10 });
bare.on("error", () => {});
const admin = createDb(ADMIN_URL, { max: 1 });
const base = `http://127.0.0.1:${port}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Probe = () => Promise<boolean>;

try {
  await waitFor(`${base}/healthz`);
  const reg = await fetch(`${base}/api/auth/register`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Origin: "http://localhost:8000" },
    body: JSON.stringify({
      email: "outage@example.test",
      password: "outage pass",
      display_name: "O",
    }),
  });
  const { access_token } = await reg.json();
  const appProbe: Probe = async () => {
    const res = await fetch(`${base}/api/auth/me`, {
      headers: { Authorization: `Bearer ${access_token}` },
    }).catch(() => null);
    await res?.body?.cancel();
    return res?.status === 200;
  };
  const bareProbe: Probe = () => bare.query("select 1").then(() => true, () => false);

  /** Probes every 10 ms from now until one succeeds; ms from `from` to that success. */
  const firstSuccess = async (probe: Probe, from: number): Promise<number> => {
    for (;;) {
      if (await probe()) return performance.now() - from;
      await sleep(10);
    }
  };
  /** Probes while `running()`; the time each failed probe took. */
  const failures = async (probe: Probe, running: () => boolean): Promise<number[]> => {
    const waited: number[] = [];
    while (running()) {
      const t0 = performance.now();
      if (!(await probe())) waited.push(performance.now() - t0);
      await sleep(10);
    }
    return waited;
  };

  const restart = { app: [] as number[], bare: [] as number[], wait503: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    await Promise.all([firstSuccess(appProbe, 0), firstSuccess(bareProbe, 0)]);
    proxy.stop();
    let down = true;
    const during = failures(appProbe, () => down);
    await sleep(DOWN_SECONDS * 1000);
    down = false;
    restart.wait503.push(...await during);
    proxy.start();
    const back = performance.now();
    const [a, b] = await Promise.all([firstSuccess(appProbe, back), firstSuccess(bareProbe, back)]);
    restart.app.push(a);
    restart.bare.push(b);
  }

  const storm = { app: [] as number[], bare: [] as number[], failed: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    let reading = true;
    const readers = Array.from({ length: 8 }, () => failures(appProbe, () => reading));
    await sleep(300);
    await admin`select pg_terminate_backend(pid) from pg_stat_activity
      where datname = ${db.name} and pid <> pg_backend_pid()`;
    const at = performance.now();
    const [a, b] = await Promise.all([firstSuccess(appProbe, at), firstSuccess(bareProbe, at)]);
    await sleep(500);
    reading = false;
    storm.failed.push((await Promise.all(readers)).flat().length);
    storm.app.push(a);
    storm.bare.push(b);
  }

  const p = (xs: number[], q: number) => {
    const s = [...xs].sort((x, y) => x - y);
    return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
  };
  const ms = (x: number) => `${Math.round(x)} ms`;
  const row = (name: string, appMs: number[], bareMs: number[]) =>
    console.log(
      `${name.padEnd(34)} app p50 ${ms(p(appMs, 0.5))}, max ${ms(Math.max(...appMs))}` +
        ` | bare pool p50 ${ms(p(bareMs, 0.5))}, max ${ms(Math.max(...bareMs))}` +
        ` | app − bare (max) ${ms(Math.max(...appMs) - Math.max(...bareMs))}`,
    );
  console.log(`${ROUNDS} rounds each; database away ${DOWN_SECONDS} s per restart`);
  row("back after a restart", restart.app, restart.bare);
  row("back after a connection storm", storm.app, storm.bare);
  console.log(
    `a request while the database was away waited p50 ${ms(p(restart.wait503, 0.5))}, ` +
      `max ${ms(Math.max(...restart.wait503))} for its 503 (${restart.wait503.length} requests)`,
  );
  console.log(
    `failed reads per storm (8 readers): ${storm.failed.join(", ")}`,
  );
  const worst = Math.max(...restart.app, ...storm.app);
  console.log(
    `budget: back within 1 s of the database (${worst <= 1000 ? "met" : "MISSED"}: worst ${
      ms(worst)
    })`,
  );
} finally {
  app.kill("SIGTERM");
  await app.status;
  await bare.end();
  await admin.end();
  proxy.stop();
  await db.drop();
}
