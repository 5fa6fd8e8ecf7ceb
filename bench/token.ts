// deno task bench:token [--seconds=10] [--connections=32]
//
// Authenticated POST /api/livekit/token against the real app and a real database, beside a
// bare server that mints the same token with no auth and no database, measured in the same run.
// Budget: the app reaches at least 0.5 × the bare server's throughput, with p99 under 25 ms.
import { createTestDatabase, testEnv } from "../tests/harness.ts";
import { flag, freePort, load, type LoadResult, serve, waitFor } from "./load.ts";

const seconds = flag("seconds", 10);
const connections = flag("connections", 32);

const db = await createTestDatabase();
const appPort = freePort();
const barePort = freePort();
const env = testEnv(db.url);
const app = serve("main.ts", { ...env, PORT: String(appPort) });
const bare = serve("bench/bare_token_server.ts", { ...env, PORT: String(barePort) });
try {
  const appUrl = `http://127.0.0.1:${appPort}`;
  const bareUrl = `http://127.0.0.1:${barePort}`;
  await Promise.all([waitFor(`${appUrl}/healthz`), waitFor(bareUrl)]);

  const reg = await fetch(`${appUrl}/api/auth/register`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      email: "bench@example.test",
      password: "bench password",
      display_name: "Bench User",
    }),
  });
  const { access_token } = await reg.json();
  const room = await (await fetch(`${appUrl}/api/livekit/rooms`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${access_token}` },
    body: JSON.stringify({ room_name: "Bench", call_type: "video" }),
  })).json();
  const body = JSON.stringify({ room_name: room.id });

  const appRequest = () =>
    new Request(`${appUrl}/api/livekit/token`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${access_token}` },
      body,
    });
  const bareRequest = () =>
    new Request(bareUrl, { method: "POST", headers: { "Content-Type": "application/json" }, body });

  // Warm both (JIT, connection pools), then measure each in turn.
  await load(appRequest, { connections, seconds: 2 });
  await load(bareRequest, { connections, seconds: 2 });
  const bareResult = await load(bareRequest, { connections, seconds });
  const appResult = await load(appRequest, { connections, seconds });

  const row = (name: string, r: LoadResult) =>
    `${name.padEnd(22)} ${r.rps.toFixed(0).padStart(7)} req/s   p50 ${
      r.p50.toFixed(2).padStart(6)
    } ms   p99 ${r.p99.toFixed(2).padStart(6)} ms   errors ${r.errors}`;
  const ratio = appResult.rps / bareResult.rps;
  console.log(`bench:token — ${connections} connections, ${seconds} s each, ${Deno.build.target}`);
  console.log(row("bare minting server", bareResult));
  console.log(row("app /api/livekit/token", appResult));
  console.log(
    `ratio app/bare: ${ratio.toFixed(2)} (budget ≥ 0.50)   app p99: ${
      appResult.p99.toFixed(2)
    } ms (budget < 25 ms)`,
  );
  const ok = ratio >= 0.5 && appResult.p99 < 25 && appResult.errors === 0;
  console.log(ok ? "within budget" : "OVER BUDGET");
} finally {
  app.kill();
  bare.kill();
  await Promise.all([app.status, bare.status]);
  await db.drop();
}
