// PostgreSQL going away: the app answers 503 JSON while it is gone and recovers by itself.
import assert from "node:assert/strict";
import {
  addContacts,
  ADMIN_URL,
  call,
  createTestDatabase,
  DATABASE_ADDRESS,
  registerUser,
  startApp,
  TEST_LIVEKIT_KEY,
  TEST_LIVEKIT_SECRET,
} from "./harness.ts";
import { RoomServiceDouble } from "./livekit_double.ts";
import { TcpProxy } from "./tcp_proxy.ts";
import { createDb } from "../lib/platform/db.ts";
import { migrate } from "../lib/platform/migrate.ts";
import { spawnServer } from "./server_process.ts";

Deno.test("outage - a stopped database gives 503 JSON, then recovery without a restart", async () => {
  const proxy = new TcpProxy(DATABASE_ADDRESS);
  proxy.start();
  // LiveKit answers throughout, so readiness is about the database alone.
  const livekit = new RoomServiceDouble(TEST_LIVEKIT_KEY, TEST_LIVEKIT_SECRET);
  const app = await startApp({
    databaseUrl: (db) => {
      const url = new URL(db.url);
      url.host = `127.0.0.1:${proxy.port}`;
      return url.href;
    },
    env: { LIVEKIT_API_URL: livekit.url },
  });
  try {
    const u = await registerUser(app);
    assert.equal((await call(app, "GET", "/api/auth/me", { token: u.token })).status, 200);

    proxy.stop();
    const down = [
      await call(app, "GET", "/api/auth/me", { token: u.token }),
      await call(app, "GET", "/api/contacts", { token: u.token }),
      await call(app, "POST", "/api/auth/login", {
        json: { email: u.email, password: u.password },
      }),
      await call(app, "POST", "/api/auth/register", {
        json: { email: "late@example.test", password: "password1", display_name: "L" },
      }),
    ];
    for (const res of down) {
      assert.equal(res.status, 503, JSON.stringify(res.body));
      assert.equal(res.body.error.code, "unavailable");
      assert.equal(res.headers.get("Retry-After"), "5");
    }
    // A page says so in HTML, with the same Retry-After.
    const page = await call(app, "GET", "/dashboard", {
      cookie: u.cookie,
      headers: { Accept: "text/html" },
    });
    assert.equal(page.status, 503);
    assert.match(page.headers.get("Content-Type") ?? "", /text\/html/);
    assert.equal(page.headers.get("Retry-After"), "5");
    assert.match(page.body, /role="alert"/);
    const ready = await call(app, "GET", "/readyz");
    assert.equal(ready.status, 503);
    assert.equal(ready.body.checks.database, "unavailable");
    assert.equal((await call(app, "GET", "/healthz")).status, 200, "the process itself is alive");

    proxy.start();
    const me = await call(app, "GET", "/api/auth/me", { token: u.token });
    assert.equal(me.status, 200, JSON.stringify(me.body));
    const back = await call(app, "GET", "/dashboard", { cookie: u.cookie });
    assert.equal(back.status, 200);
    assert.equal((await call(app, "GET", "/readyz")).status, 200);
    const reg = await call(app, "POST", "/api/auth/register", {
      json: { email: "late@example.test", password: "password1", display_name: "L" },
    });
    assert.equal(reg.status, 201, "nothing half-written by the failed attempt");
    assert.ok(!app.logs.some((l) => l.includes('"level":"error"')), "no unhandled errors logged");
  } finally {
    proxy.stop();
    await app.stop();
    await livekit.close();
  }
});

Deno.test("outage - terminated backends are replaced; reads retry on a fresh connection", async () => {
  const app = await startApp();
  const admin = createDb(ADMIN_URL, { max: 1 });
  try {
    const u = await registerUser(app);
    for (let round = 0; round < 3; round++) {
      // Warm several pooled connections, then kill every one of them (the event listener's
      // and the invite clock's too): PostgreSQL restarting looks like this to the app.
      await Promise.all(
        Array.from({ length: 6 }, () => call(app, "GET", "/api/auth/me", { token: u.token })),
      );
      const killed = await admin`select pg_terminate_backend(pid) from pg_stat_activity
        where datname = ${app.db.name} and pid <> pg_backend_pid()`;
      assert.ok(killed.length > 0, "there were connections to terminate");
      const replies = await Promise.all(
        Array.from({ length: 6 }, () => call(app, "GET", "/api/auth/me", { token: u.token })),
      );
      // Each read met a dead connection and was answered from a fresh one.
      assert.deepEqual(replies.map((r) => r.status), Array(6).fill(200), `round ${round}`);
    }
    // A write that meets a dead connection is not repeated (it may have been applied):
    // 503 at worst, never a 500. Once the pool has seen the closes, writes go through.
    await Promise.all(
      Array.from({ length: 4 }, () => call(app, "GET", "/api/contacts", { token: u.token })),
    );
    await admin`select pg_terminate_backend(pid) from pg_stat_activity
      where datname = ${app.db.name} and pid <> pg_backend_pid()`;
    const raced = await call(app, "POST", "/api/auth/register", {
      json: { email: "raced@example.test", password: "password1", display_name: "R" },
    });
    assert.ok(raced.status === 201 || raced.status === 503, `status ${raced.status}`);
    if (raced.status === 503) assert.equal(raced.body.error.code, "unavailable");
    await new Promise((settle) => setTimeout(settle, 300));
    const write = await call(app, "POST", "/api/auth/register", {
      json: { email: "after@example.test", password: "password1", display_name: "A" },
    });
    assert.equal(write.status, 201, JSON.stringify(write.body));
    assert.ok(!app.logs.some((l) => l.includes('"level":"error"')), "no unhandled errors logged");
  } finally {
    await admin.end();
    await app.stop();
  }
});

Deno.test("outage - rounds of terminated connections under write load never end the process", async () => {
  const db = await createTestDatabase();
  const setup = createDb(db.url, { max: 1 });
  await migrate(setup);
  await setup.end();
  const server = spawnServer(db.url);
  const admin = createDb(ADMIN_URL, { max: 1 });
  try {
    await server.out.waitFor(/"msg":"listening"/);
    const app = { base: server.base };
    const ada = await registerUser(app, { display_name: "Ada" });
    const bob = await registerUser(app, { display_name: "Bob" });
    await addContacts(app, ada, [bob]);
    const created = await call(app, "POST", "/api/livekit/rooms", {
      token: ada.token,
      json: { room_name: "Under load", call_type: "audio", participants: [bob.id] },
    });
    assert.equal(created.status, 201);
    const room = created.body.room_id ?? created.body.id;

    // Writers: each joins and leaves the meeting, and reads, as fast as it is answered.
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    let writing = true;
    const writer = async (who: typeof ada) => {
      for (let i = 0; writing; i++) {
        const path = `/api/livekit/rooms/${room}/${i % 2 ? "leave" : "join"}`;
        for (const [method, url] of [["POST", path], ["GET", `/api/livekit/rooms/${room}`]]) {
          try {
            const res = await call(app, method, url, { token: who.token });
            statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
            if (res.status >= 500 && res.body?.error?.code !== "unavailable") {
              failures.push(`${method} ${url}: ${res.status} ${JSON.stringify(res.body)}`);
            }
          } catch (err) {
            failures.push(`${method} ${url}: ${err}`); // the server stopped answering
          }
        }
      }
    };
    const writers = [ada, bob, ada, bob].map(writer);
    // Six rounds, 1.5 s apart: every connection the server holds is terminated.
    let terminated = 0;
    for (let round = 0; round < 6; round++) {
      await new Promise((r) => setTimeout(r, 1500));
      terminated += (await admin`select pg_terminate_backend(pid) from pg_stat_activity
        where datname = ${db.name} and pid <> pg_backend_pid()`).length;
    }
    writing = false;
    await Promise.all(writers);
    assert.equal(server.exited(), null, server.err.lines.join("\n"));
    assert.ok(terminated >= 6, `${terminated} connections terminated`);
    assert.deepEqual(failures, []);
    assert.ok(
      (statuses.get(200) ?? 0) + (statuses.get(204) ?? 0) > 50,
      JSON.stringify([...statuses]),
    );
    // Afterwards a write goes through on fresh connections.
    const after = await call(app, "POST", `/api/livekit/rooms/${room}/join`, { token: bob.token });
    assert.ok(after.status < 300, JSON.stringify(after.body));
    assert.ok(
      !server.err.lines.some((l) => /Uncaught|"level":"error"/.test(l)),
      server.err.lines.join("\n"),
    );
  } finally {
    await admin.end();
    await server.kill();
    await db.drop();
  }
});
