// POST /api/livekit/connection-check: a LiveKit token for the connection test, for signed-in
// people only, for a throwaway room of its own (never a meeting's), publishing a microphone at
// most, short-lived, and counted per person.
import assert from "node:assert/strict";
import { decodeJwt } from "jose";
import { call, registerUser, withApp } from "./harness.ts";

Deno.test("connection check - a short token for a room of its own, for signed-in people, rate limited", async () => {
  await withApp(async (app) => {
    const anonymous = await call(app, "POST", "/api/livekit/connection-check", { json: {} });
    assert.equal(anonymous.status, 401);
    const ada = await registerUser(app);
    const first = await call(app, "POST", "/api/livekit/connection-check", {
      token: ada.token,
      json: {},
    });
    assert.equal(first.status, 200);
    assert.match(first.body.room_name, /^check-[0-9a-f]{32}$/);
    const claims = decodeJwt(first.body.token) as {
      sub: string;
      exp: number;
      nbf: number;
      video: Record<string, unknown>;
    };
    assert.equal(claims.sub, ada.id);
    assert.equal(claims.video.room, first.body.room_name);
    assert.deepEqual(claims.video.canPublishSources, ["microphone"]);
    assert.equal(claims.video.canSubscribe, false);
    assert.ok(!claims.video.roomAdmin && !claims.video.roomCreate);
    assert.ok(claims.exp - claims.nbf <= 120, "two minutes at most");
    // Each test gets a room of its own.
    const second = await call(app, "POST", "/api/livekit/connection-check", {
      token: ada.token,
      json: {},
    });
    assert.notEqual(second.body.room_name, first.body.room_name);
    const third = await call(app, "POST", "/api/livekit/connection-check", {
      token: ada.token,
      json: {},
    });
    assert.equal(third.status, 429);
    assert.equal(third.body.error.code, "rate_limited");
    // Someone else is counted apart.
    const bob = await registerUser(app);
    assert.equal(
      (await call(app, "POST", "/api/livekit/connection-check", { token: bob.token, json: {} }))
        .status,
      200,
    );
  }, { limits: { connectionChecks: { max: 2, windowSeconds: 600 } } });
});
