import assert from "node:assert/strict";
import { TokenVerifier } from "livekit-server-sdk";
import { decodeJwt, SignJWT } from "jose";
import {
  call,
  TEST_LIVEKIT_KEY,
  TEST_LIVEKIT_SECRET,
  TEST_SESSION_SECRET,
} from "../../tests/harness.ts";
import { createRoom, withRooms } from "../../tests/rooms_fixture.ts";

const verifier = new TokenVerifier(TEST_LIVEKIT_KEY, TEST_LIVEKIT_SECRET);

Deno.test("token - claims come from the session: identity, name, role, room, grants, expiry", () =>
  withRooms(async ({ app, host, friends }) => {
    const room = await createRoom(app, host, { participants: [friends[0].id] });
    for (
      const [user, role, name] of [[host, "host", "Hana Host"], [
        friends[0],
        "member",
        "Fred",
      ]] as const
    ) {
      const res = await call(app, "POST", "/api/livekit/token", {
        token: user.token,
        // The seed's body named the user: that must change nothing.
        json: {
          room_name: room.id,
          user_id: friends[1].id,
          identity: "admin",
          username: "Mallory",
        },
      });
      assert.equal(res.status, 200);
      assert.deepEqual(Object.keys(res.body).sort(), ["room_name", "token", "url"]);
      assert.equal(res.body.url, "ws://127.0.0.1:7880");
      assert.equal(res.body.room_name, room.id);
      const claims = await verifier.verify(res.body.token);
      assert.equal(claims.sub, user.id, "identity is the user id");
      assert.equal(claims.name, name);
      assert.deepEqual(JSON.parse(claims.metadata!), { role });
      assert.deepEqual(claims.video, {
        roomJoin: true,
        room: room.id,
        canPublish: true,
        canSubscribe: true,
        canPublishData: true,
      });
      const lifetime = claims.exp! - claims.nbf!;
      assert.ok(lifetime > 0 && lifetime <= 600, `lifetime ${lifetime}s`);
      assert.ok(claims.exp! - Date.now() / 1000 <= 600);
    }
  }));

Deno.test("token - an audio call may publish the microphone only", () =>
  withRooms(async ({ app, host }) => {
    const room = await createRoom(app, host, { call_type: "audio" });
    const res = await call(app, "POST", "/api/livekit/token", {
      token: host.token,
      json: { room_name: room.id },
    });
    const claims = await verifier.verify(res.body.token);
    assert.deepEqual(claims.video?.canPublishSources, ["microphone"]);
    assert.equal(claims.video?.roomAdmin, undefined);
  }));

Deno.test("token - not a participant 403 until they join; unknown room 404; bad body 400", () =>
  withRooms(async ({ app, host, stranger }) => {
    const room = await createRoom(app, host);
    const ask = () =>
      call(app, "POST", "/api/livekit/token", {
        token: stranger.token,
        json: { room_name: room.id },
      });
    const before = await ask();
    assert.equal(before.status, 403);
    assert.equal(before.body.error.code, "not_participant");
    await call(app, "POST", `/api/livekit/rooms/${room.id}/join`, { token: stranger.token });
    const after = await ask();
    assert.equal(after.status, 200);
    assert.deepEqual(JSON.parse((await verifier.verify(after.body.token)).metadata!), {
      role: "member",
    });

    const unknown = await call(app, "POST", "/api/livekit/token", {
      token: stranger.token,
      json: { room_name: "zzzz-zzzz-zzzz" },
    });
    assert.equal(unknown.status, 404);
    for (const json of [{}, { room_name: "" }, { room_name: 5 }, { room_name: "x".repeat(65) }]) {
      const res = await call(app, "POST", "/api/livekit/token", { token: stranger.token, json });
      assert.equal(res.status, 400, JSON.stringify(json));
    }
  }));

Deno.test("guest - a guest token by display name, when the room allows guests", () =>
  withRooms(async ({ app, host }) => {
    const room = await createRoom(app, host, { call_type: "audio" });
    const res = await call(app, "POST", `/api/livekit/rooms/${room.id}/guest`, {
      json: { display_name: "  Gus  " },
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.room_name, room.id);
    const claims = await verifier.verify(res.body.token);
    assert.match(claims.sub!, /^guest-[0-9a-f]{16}$/);
    assert.equal(claims.name, "Gus");
    assert.deepEqual(JSON.parse(claims.metadata!), { role: "guest" });
    assert.equal(claims.video?.room, room.id);
    assert.equal(claims.video?.roomJoin, true);
    assert.deepEqual(claims.video?.canPublishSources, ["microphone"]);
    assert.equal(claims.video?.roomAdmin, undefined);

    const again = await call(app, "POST", `/api/livekit/rooms/${room.id}/guest`, {
      json: { display_name: "Gus" },
    });
    assert.notEqual((await verifier.verify(again.body.token)).sub, claims.sub, "each guest is new");
  }));

Deno.test("guest - refused when guests are off, the room ended or unknown, or the name is bad", () =>
  withRooms(async ({ app, host }) => {
    const closed = await createRoom(app, host, { allow_guests: false });
    const res = await call(app, "POST", `/api/livekit/rooms/${closed.id}/guest`, {
      json: { display_name: "Gus" },
    });
    assert.equal(res.status, 403);
    assert.equal(res.body.error.code, "guests_not_allowed");

    const open = await createRoom(app, host);
    for (
      const json of [{}, { display_name: "  " }, { display_name: "g".repeat(65) }, {
        display_name: 1,
      }]
    ) {
      const bad = await call(app, "POST", `/api/livekit/rooms/${open.id}/guest`, { json });
      assert.equal(bad.status, 400, JSON.stringify(json));
    }
    await call(app, "DELETE", `/api/livekit/rooms/${open.id}`, { token: host.token });
    const ended = await call(app, "POST", `/api/livekit/rooms/${open.id}/guest`, {
      json: { display_name: "Gus" },
    });
    assert.equal(ended.status, 410);
    const unknown = await call(app, "POST", "/api/livekit/rooms/zzzz-zzzz-zzzz/guest", {
      json: { display_name: "Gus" },
    });
    assert.equal(unknown.status, 404);
  }));

Deno.test("guest - joins are rate-limited per client address", () =>
  withRooms(async ({ app, host }) => {
    const room = await createRoom(app, host);
    const join = () =>
      call(app, "POST", `/api/livekit/rooms/${room.id}/guest`, { json: { display_name: "G" } });
    for (let i = 0; i < 3; i++) assert.equal((await join()).status, 200);
    const limited = await join();
    assert.equal(limited.status, 429);
    assert.equal(limited.body.error.code, "rate_limited");
    assert.ok(Number(limited.headers.get("Retry-After")) > 0);
  }, { guestLimits: { perAddress: 3, windowSeconds: 60 } }));

Deno.test("token - a revoked session gets 401, and an aging one is renewed", () =>
  withRooms(async ({ app, host }) => {
    const room = await createRoom(app, host);
    const now = Math.floor(Date.now() / 1000);
    const claims = decodeJwt(host.token);
    const aging = await new SignJWT({ sid: claims.sid })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(host.id).setIssuer("urbania").setIssuedAt(now - 1500).setExpirationTime(now + 300)
      .sign(new TextEncoder().encode(TEST_SESSION_SECRET));
    const renewed = await call(app, "POST", "/api/livekit/token", {
      token: aging,
      json: { room_name: room.id },
    });
    assert.equal(renewed.status, 200);
    assert.ok(decodeJwt(renewed.headers.get("X-Access-Token")!).exp! > now + 1700);

    await call(app, "POST", "/api/auth/logout", { token: host.token });
    const revoked = await call(app, "POST", "/api/livekit/token", {
      token: host.token,
      json: { room_name: room.id },
    });
    assert.equal(revoked.status, 401);
    assert.equal(revoked.body.error.code, "unauthorized");
  }));
