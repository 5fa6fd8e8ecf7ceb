// The real-time channel's defences: who may open a socket, what a client may send, and what
// happens to sockets that stop answering, stop reading, or outlive their session or the
// database connection.
import assert from "node:assert/strict";
import { publish } from "../lib/platform/events.ts";
import {
  addContacts,
  call,
  createUsersQuickly,
  DATABASE_ADDRESS,
  registerUser,
  startApp,
  type TestApp,
  withApp,
} from "./harness.ts";
import { TcpProxy } from "./tcp_proxy.ts";
import { rawUpgrade, TestSocket } from "./ws_client.ts";
import { CLOSE_SIGNED_OUT } from "../protocol/ws.ts";

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

Deno.test("ws - only a signed-in user from our own pages may open the channel", () =>
  withApp(async (app) => {
    const u = await registerUser(app);
    const refusals: [string, Parameters<typeof rawUpgrade>[1], number, string][] = [
      ["no credentials", {}, 401, "unauthorized"],
      ["a forged token", { token: u.token.slice(0, -4) + "AAAA" }, 401, "unauthorized"],
      [
        "a cookie from another site",
        { cookie: u.cookie, origin: "https://evil.test" },
        403,
        "forbidden_origin",
      ],
      ["a cookie without Origin", { cookie: u.cookie, origin: null }, 403, "forbidden_origin"],
    ];
    for (const [what, auth, status, code] of refusals) {
      const res = await rawUpgrade(app, auth);
      assert.equal(res.status, status, what);
      assert.equal(JSON.parse(res.body).error.code, code, what);
    }
    // A plain GET is told to upgrade.
    const plain = await call(app, "GET", "/ws", { token: u.token });
    assert.equal(plain.status, 426);
    assert.equal(plain.body.error.code, "upgrade_required");
    // Our own origin with the cookie, or a Bearer token from anywhere, is let in.
    for (const auth of [{ cookie: u.cookie }, { token: u.token, origin: "https://tool.test" }]) {
      const ok = await rawUpgrade(app, auth);
      assert.equal(ok.status, 101);
      ok.conn.close();
    }
    // After signing out, the same token is refused.
    await call(app, "POST", "/api/auth/logout", { token: u.token });
    assert.equal((await rawUpgrade(app, { token: u.token })).status, 401);
    assert.equal(app.realtime.socketCount, 0);
  }));

Deno.test("ws - bad frames get an error frame; a flood closes only the flooder", () =>
  withApp(async (app) => {
    const [mallory, alice, host] = await createUsersQuickly(app, 3);
    const bad = await TestSocket.open(app, { token: mallory.token });
    const good = await TestSocket.open(app, { token: alice.token });
    await bad.next("sync");
    await good.next("sync");

    const cases: [string | Uint8Array, string][] = [
      ["x".repeat(5000), "frame_too_large"],
      ["{not json", "invalid_json"],
      [JSON.stringify({ type: "subscribe", room: "*" }), "unknown_type"],
      ["[]", "unknown_type"],
      [new Uint8Array([1, 2, 3]), "unsupported_frame"],
    ];
    for (const [frame, code] of cases) {
      bad.send(frame);
      assert.equal((await bad.next("error")).code, code);
    }
    bad.send(JSON.stringify({ type: "ping" }));
    await bad.next("pong");

    // Far more frames than the allowance: rate-limit errors, then the socket is closed.
    for (let i = 0; i < 100 && bad.ws.readyState === WebSocket.OPEN; i++) {
      bad.send(JSON.stringify({ type: "ping" }));
    }
    assert.equal((await bad.next("error")).code, "rate_limited");
    // (The flooder's own close event may be abnormal: it was still sending when closed.)
    await bad.closed;
    assert.ok(app.logs.some((l) => l.includes("flooding socket closed")));

    // Everyone else is untouched: the other socket still answers and still rings.
    good.send(JSON.stringify({ type: "ping" }));
    await good.next("pong");
    await app.sql`insert into contacts (owner_id, contact_id) values (${host.id}, ${alice.id})`;
    const res = await call(app, "POST", "/api/livekit/rooms", {
      token: host.token,
      json: { room_name: "Still here", call_type: "audio", participants: [alice.id] },
    });
    assert.equal(res.status, 201);
    assert.equal((await good.next("invite")).invite.room_name, "Still here");
    await good.close();
    assert.deepEqual(app.logs.filter((l) => l.includes('"level":"error"')), []);
  }, { realtime: { frameBurst: 10, framesPerSecond: 1 } }));

Deno.test("ws - a client that stops answering pings is closed", () =>
  withApp(async (app) => {
    const u = await registerUser(app);
    // The raw connection completes the handshake, then never answers anything.
    const { status, conn } = await rawUpgrade(app, { token: u.token });
    assert.equal(status, 101);
    await until("the socket is registered", () => app.realtime.socketCount === 1);
    // The server pings after a second of silence and gives up when no pong comes back.
    await until("the dead socket is closed", () => app.realtime.socketCount === 0, 15_000);
    // The TCP connection ends too.
    const buf = new Uint8Array(4096);
    let n: number | null = 0;
    while (n !== null) n = await conn.read(buf).catch(() => null);
    conn.close();
  }, { realtime: { idleTimeoutSeconds: 1 } }));

Deno.test("ws - a socket that stops reading is closed once its queue is full; others go on", async () => {
  // The app's own send queue is under test: with the connection guard's relay in between,
  // a few more megabytes of kernel buffers would fill first, how many depending on the
  // kernel's tuning of the moment.
  const app = await startApp({ realtime: { maxBufferedBytes: 32 * 1024 }, guard: false });
  try {
    const [host, ...crowd] = await createUsersQuickly(app, 40);
    // A big room: every update about it is a few kilobytes.
    await app.sql`update users set display_name = repeat('n', 60) || id::text`;
    await app.sql`insert into contacts (owner_id, contact_id)
      select ${host.id}, unnest(${crowd.map((c) => c.id)}::uuid[])`;
    const res = await call(app, "POST", "/api/livekit/rooms", {
      token: host.token,
      json: { room_name: "Crowd", call_type: "audio", participants: crowd.map((c) => c.id) },
    });
    assert.equal(res.status, 201);
    const roomId = res.body.id;
    const reader = await TestSocket.open(app, { token: crowd[0].token });
    const stalled = await rawUpgrade(app, { token: crowd[1].token });
    assert.equal(stalled.status, 101);
    await until("both sockets are registered", () => app.realtime.socketCount === 2);

    let sent = 0;
    while (app.realtime.socketCount === 2 && sent < 5000) {
      await publish(app.sql, { e: "room", room_id: roomId });
      sent++;
    }
    await until("the stalled socket is dropped", () => app.realtime.socketCount === 1);
    assert.ok(app.logs.some((l) => l.includes("slow socket closed")));
    // The one that reads received every update and is still open.
    await until(
      "the reader has every update",
      () => reader.received.filter((m) => m.type === "room_updated").length >= sent,
    );
    assert.equal(reader.ws.readyState, WebSocket.OPEN);
    stalled.conn.close();
    await reader.close();
  } finally {
    await app.stop();
  }
});

Deno.test("ws - signing out closes that session's sockets, not the others", () =>
  withApp(async (app) => {
    const u = await registerUser(app);
    const other = await call(app, "POST", "/api/auth/login", {
      json: { email: u.email, password: u.password },
    });
    const leaving = await TestSocket.open(app, { token: u.token });
    const staying = await TestSocket.open(app, { token: other.body.access_token });
    await leaving.next("sync");
    await staying.next("sync");
    assert.equal((await call(app, "POST", "/api/auth/logout", { token: u.token })).status, 204);
    assert.equal((await leaving.closed).code, CLOSE_SIGNED_OUT);
    staying.send(JSON.stringify({ type: "ping" }));
    await staying.next("pong");
    await staying.close();
  }));

Deno.test("ws - after the database comes back, sockets are resynced and calls ring again", async () => {
  const proxy = new TcpProxy(DATABASE_ADDRESS);
  proxy.start();
  const app: TestApp = await startApp({
    databaseUrl: (db) => {
      const url = new URL(db.url);
      url.host = `127.0.0.1:${proxy.port}`;
      return url.href;
    },
  });
  try {
    const ada = await registerUser(app, { display_name: "Ada" });
    const bob = await registerUser(app, { display_name: "Bob" });
    await addContacts(app, ada, [bob]);
    const bobTab = await TestSocket.open(app, { token: bob.token });
    await bobTab.next("sync");

    proxy.stop();
    // Long enough for reconnection attempts to fail while it is away.
    await new Promise((r) => setTimeout(r, 2500));
    proxy.start();
    // The socket stayed open and is sent a fresh snapshot once the channel is back.
    await bobTab.next("sync", () => true, 20_000);
    const res = await call(app, "POST", "/api/livekit/rooms", {
      token: ada.token,
      json: { room_name: "After the outage", call_type: "audio", participants: [bob.id] },
    });
    assert.equal(res.status, 201);
    assert.equal((await bobTab.next("invite")).invite.room_name, "After the outage");
    await bobTab.close();
  } finally {
    await app.stop();
    proxy.stop();
  }
});

Deno.test("ws - one account holds at most its share of sockets, even when they all arrive at once", async () => {
  const app = await startApp({ realtime: { maxSocketsPerUser: 4 } });
  try {
    const [ada, bob] = await createUsersQuickly(app, 2);
    // Twelve upgrades at once: exactly four open; the rest are told why, with Retry-After.
    const tries = await Promise.all(
      Array.from({ length: 12 }, () => rawUpgrade(app, { token: ada.token })),
    );
    const opened = tries.filter((t) => t.status === 101);
    const refused = tries.filter((t) => t.status !== 101);
    assert.equal(opened.length, 4);
    for (const r of refused) {
      assert.equal(r.status, 429);
      assert.equal(JSON.parse(r.body).error.code, "too_many_sockets");
    }
    await until("four sockets counted", () => app.realtime.socketCount === 4);
    // Another account is not affected.
    const bobTab = await TestSocket.open(app, { token: bob.token });
    await bobTab.next("sync");
    assert.equal(app.realtime.socketCount, 5);
    // Closing one gives its place back.
    opened[0].conn.close();
    await until("a place is free", () => app.realtime.socketCount === 4);
    const again = await rawUpgrade(app, { token: ada.token });
    assert.equal(again.status, 101);
    for (const t of [...opened.slice(1), again]) t.conn.close();
    await bobTab.close();
  } finally {
    await app.stop();
  }
});
