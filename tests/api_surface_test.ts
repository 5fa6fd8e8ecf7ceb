// The API's shared behaviour: authorization on every route, the one error shape, headers.
import assert from "node:assert/strict";
import {
  call,
  freePort,
  registerUser,
  TEST_LIVEKIT_KEY,
  TEST_LIVEKIT_SECRET,
  withApp,
} from "./harness.ts";
import { RoomServiceDouble } from "./livekit_double.ts";

const protectedRoutes: [string, string][] = [
  ["POST", "/api/auth/logout"],
  ["GET", "/api/auth/me"],
  ["GET", "/api/contacts"],
  ["POST", "/api/contacts"],
  ["DELETE", `/api/contacts/${crypto.randomUUID()}`],
  ["GET", "/api/invites"],
  ["POST", `/api/invites/${crypto.randomUUID()}/accept`],
  ["POST", `/api/invites/${crypto.randomUUID()}/decline`],
  ["POST", `/api/invites/${crypto.randomUUID()}/cancel`],
  ["POST", `/api/invites/${crypto.randomUUID()}/dismiss`],
  ["DELETE", "/api/livekit/rooms/history"],
];

Deno.test("api - every signed-in route refuses a request without credentials", () =>
  withApp(async (app) => {
    for (const [method, path] of protectedRoutes) {
      const res = await call(
        app,
        method,
        path,
        method === "POST" ? { json: { email: "a@b.test" } } : {},
      );
      assert.equal(res.status, 401, `${method} ${path}`);
      assert.deepEqual(Object.keys(res.body.error).sort(), ["code", "message"]);
      assert.equal(res.body.error.code, "unauthorized");
    }
    // Credentials are checked before the body: no validation detail leaks to strangers.
    const res = await call(app, "POST", "/api/contacts", { json: { nope: true } });
    assert.equal(res.status, 401);
  }));

Deno.test("api - unknown routes and wrong methods get the error shape", () =>
  withApp(async (app) => {
    const u = await registerUser(app);
    const missing = await call(app, "GET", "/api/nothing-here", { token: u.token });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, "not_found");

    for (
      const [method, path, allow] of [
        ["PUT", "/api/contacts", "GET, POST"],
        ["GET", "/api/auth/login", "POST"],
        ["PATCH", `/api/contacts/${crypto.randomUUID()}`, "DELETE"],
      ]
    ) {
      const res = await call(app, method, path, { token: u.token });
      assert.equal(res.status, 405, `${method} ${path}`);
      assert.equal(res.body.error.code, "method_not_allowed");
      assert.equal(res.headers.get("Allow"), allow);
    }
  }));

Deno.test("api - security headers on every response, errors included", () =>
  withApp(async (app) => {
    for (const [method, path] of [["GET", "/healthz"], ["GET", "/api/auth/me"], ["GET", "/nope"]]) {
      const res = await call(app, method, path);
      const csp = res.headers.get("Content-Security-Policy") ?? "";
      assert.match(csp, /script-src 'self'/, path);
      assert.match(csp, /frame-ancestors 'none'/, path);
      assert.match(csp, /connect-src 'self' ws:\/\/127\.0\.0\.1:7880/, path);
      assert.equal(res.headers.get("X-Content-Type-Options"), "nosniff", path);
      assert.equal(res.headers.get("Referrer-Policy"), "same-origin", path);
    }
    const api = await call(app, "GET", "/api/auth/me");
    assert.equal(api.headers.get("Cache-Control"), "no-store");
  }));

Deno.test("health - liveness, and readiness with the database and LiveKit", async () => {
  const livekit = new RoomServiceDouble(TEST_LIVEKIT_KEY, TEST_LIVEKIT_SECRET);
  try {
    await withApp(async (app) => {
      const live = await call(app, "GET", "/healthz");
      assert.equal(live.status, 200);
      assert.deepEqual(live.body, { status: "ok" });
      const ready = await call(app, "GET", "/readyz");
      assert.equal(ready.status, 200);
      assert.deepEqual(ready.body, { status: "ok", checks: { database: "ok", livekit: "ok" } });
      const probe = livekit.calls.find((c) => c.method === "ListRooms");
      assert.ok(probe, "a RoomService call, with server credentials (checked by the double)");
    }, { env: { LIVEKIT_API_URL: livekit.url } });
  } finally {
    await livekit.close();
  }
});

Deno.test("health - not ready while LiveKit is closed or does not answer", async () => {
  // Accepts connections and never answers: the probe gives up after its short timeout.
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of silent) held.push(conn);
  })();
  try {
    for (const url of [`http://127.0.0.1:${freePort()}`, `http://127.0.0.1:${silent.addr.port}`]) {
      await withApp(async (app) => {
        const ready = await call(app, "GET", "/readyz");
        assert.equal(ready.status, 503, url);
        assert.deepEqual(ready.body.checks, { database: "ok", livekit: "unavailable" });
        assert.equal(ready.body.error.code, "unavailable");
        assert.match(ready.body.error.message, /media server/);
        assert.equal((await call(app, "GET", "/healthz")).status, 200);
      }, { env: { LIVEKIT_API_URL: url } });
    }
  } finally {
    silent.close();
    for (const c of held) c.close();
    await accepting.catch(() => {});
  }
});

Deno.test("api - an unexpected failure is a 500 that carries no internal text", () =>
  withApp(async (app) => {
    const u = await registerUser(app);
    await app.sql`drop table contacts`;
    const res = await call(app, "GET", "/api/contacts", { token: u.token });
    assert.equal(res.status, 500);
    assert.deepEqual(res.body, {
      error: { code: "internal", message: "Something went wrong on our side." },
    });
    assert.ok(
      app.logs.some((l) => l.includes('"level":"error"') && l.includes("contacts")),
      "logged",
    );
  }));
