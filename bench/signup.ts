// deno task bench:signup [--seconds=5] [--clients=8]
//
// What sign-ups cost everyone else. The app (main.ts, real database, behind a "trusted proxy"
// so that each sign-up can come from an address of its own, as from a botnet the per-address
// limit does not stop) is probed with GET /api/auth/me (4 connections) for --seconds alone
// (the baseline, same run), then again while --clients clients sign up as fast as they are
// answered, each sign-up an argon2id hash. Printed: the probe's p50 and p99 both times, their
// ratio, and sign-ups per second. Budget: the probe's p99 under load stays under 100 ms.
import { createTestDatabase, testEnv } from "../tests/harness.ts";
import { flag, freePort, load, serve, waitFor } from "./load.ts";

const seconds = flag("seconds", 5);
const clients = flag("clients", 8);

const db = await createTestDatabase();
const port = freePort();
const app = serve("main.ts", { ...testEnv(db.url), PORT: String(port), TRUST_PROXY: "true" });
const base = `http://127.0.0.1:${port}`;
try {
  await waitFor(`${base}/healthz`);
  const reg = await fetch(`${base}/api/auth/register`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Forwarded-For": "192.0.2.1" },
    body: JSON.stringify({
      email: "probe@example.test",
      password: "probe pass",
      display_name: "P",
    }),
  });
  const { access_token } = await reg.json();
  const probe = () =>
    new Request(`${base}/api/auth/me`, { headers: { Authorization: `Bearer ${access_token}` } });

  const alone = await load(probe, { connections: 4, seconds });

  let n = 0;
  let signedUp = 0;
  let refused = 0;
  let running = true;
  const signups = Array.from({ length: clients }, async () => {
    while (running) {
      const i = n++;
      const res = await fetch(`${base}/api/auth/register`, {
        method: "POST",
        headers: {
          "Content-Type": "application/json",
          "X-Forwarded-For": `198.18.${(i >> 8) & 255}.${i & 255}`,
        },
        body: JSON.stringify({
          email: `signup${i}@example.test`,
          password: "a password",
          display_name: "S",
        }),
      });
      await res.body?.cancel();
      if (res.status === 201) signedUp++;
      else refused++;
    }
  });
  const started = performance.now();
  const loaded = await load(probe, { connections: 4, seconds });
  running = false;
  await Promise.all(signups);
  const rate = signedUp / ((performance.now() - started) / 1000);

  const row = (name: string, r: typeof alone) =>
    console.log(
      `${name.padEnd(28)} ${Math.round(r.rps).toString().padStart(6)} req/s   p50 ${
        r.p50.toFixed(2).padStart(6)
      } ms   p99 ${r.p99.toFixed(2).padStart(7)} ms   errors ${r.errors}`,
    );
  console.log(
    `bench:signup — ${clients} sign-up clients, ${seconds} s each, ${navigator.hardwareConcurrency} cores`,
  );
  row("GET /api/auth/me alone", alone);
  row(`… with ${clients} signing up`, loaded);
  console.log(
    `sign-ups: ${rate.toFixed(1)}/s (${refused} refused)   p99 ratio loaded/alone: ${
      (loaded.p99 / alone.p99).toFixed(1)
    }`,
  );
  console.log(
    `budget: probe p99 under load < 100 ms (${loaded.p99 < 100 ? "met" : "MISSED"})`,
  );
} finally {
  app.kill("SIGTERM");
  await app.status;
  await db.drop();
}
