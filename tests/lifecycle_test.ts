// The server process as it runs in production (main.ts): it waits for a database that is not
// up yet and migrates when it comes, and on SIGTERM it stops accepting, closes sockets as going
// away, closes its pool and exits 0.
import assert from "node:assert/strict";
import {
  createTestDatabase,
  DATABASE_ADDRESS,
  freePort,
  registerUser,
  testEnv,
} from "./harness.ts";
import { TcpProxy } from "./tcp_proxy.ts";
import { TestSocket } from "./ws_client.ts";
import { Output } from "./server_process.ts";

Deno.test("lifecycle - waits for the database, migrates, and shuts down gracefully on SIGTERM", async () => {
  const db = await createTestDatabase();
  const proxy = new TcpProxy(DATABASE_ADDRESS);
  proxy.start();
  proxy.stop(); // the port is kept; nothing answers on it yet
  const port = freePort();
  const url = new URL(db.url);
  url.host = `127.0.0.1:${proxy.port}`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", "--allow-read=.", "main.ts"],
    env: { ...testEnv(url.href), PORT: String(port), LOG_LEVEL: "info", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = new Output(child.stdout);
  const err = new Output(child.stderr);
  const base = `http://127.0.0.1:${port}`;
  try {
    await err.waitFor(/database not answering yet/);
    proxy.start();
    await out.waitFor(/"msg":"listening"/);
    assert.ok(out.lines.some((l) => /migrations applied/.test(l)), "migrated on start");
    assert.equal((await fetch(`${base}/healthz`).then((r) => r.json())).status, "ok");

    const app = { base, config: { publicUrl: "http://localhost:8000" } };
    const user = await registerUser(app);
    const socket = await TestSocket.open(app, { token: user.token });
    await socket.next("sync");

    child.kill("SIGTERM");
    const closed = await socket.closed;
    assert.equal(closed.code, 1001, "going away");
    const status = await child.status;
    assert.equal(status.code, 0);
    await out.waitFor(/"msg":"stopped"/);
    await assert.rejects(fetch(`${base}/healthz`), "no longer accepting");
    assert.ok(!err.lines.some((l) => /"level":"error"/.test(l)), err.lines.join("\n"));
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // already exited
    }
    await child.status;
    proxy.stop();
    await db.drop();
  }
});
