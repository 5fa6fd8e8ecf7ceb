// What a stranger, or one account, can make the server do is bounded: sign-ups per address,
// meetings and rings per caller, rings per person, contact lookups; a retried meeting creation
// rings nobody twice; a signed webhook with an impossible time is refused.
import assert from "node:assert/strict";
import { addContacts, call, registerUser, withApp } from "./harness.ts";
import { deliver } from "./livekit_webhook.ts";
import { withRooms } from "./rooms_fixture.ts";
import { TestSocket } from "./ws_client.ts";

const signUp = (app: { base: string }, email: string, forwarded?: string) =>
  call(app, "POST", "/api/auth/register", {
    json: { email, password: "long enough", display_name: "S" },
    headers: forwarded ? { "X-Forwarded-For": forwarded } : {},
  });

Deno.test("abuse - sign-ups are counted per address, taken emails included, with Retry-After", () =>
  withApp(async (app) => {
    assert.equal((await signUp(app, "a@example.test", "198.51.100.1")).status, 201);
    // A taken email costs a hash all the same: it counts.
    assert.equal((await signUp(app, "a@example.test", "198.51.100.1")).status, 409);
    assert.equal((await signUp(app, "b@example.test", "198.51.100.1")).status, 201);
    const refused = await signUp(app, "c@example.test", "198.51.100.1");
    assert.equal(refused.status, 429);
    assert.equal(refused.body.error.code, "rate_limited");
    assert.ok(Number(refused.headers.get("Retry-After")) > 0);
    assert.equal(
      (await signUp(app, "c@example.test", "198.51.100.2")).status,
      201,
      "another address",
    );
    // The form is counted the same way.
    const form = await call(app, "POST", "/register", {
      body: new URLSearchParams({
        email: "d@example.test",
        password: "long enough",
        display_name: "D",
      })
        .toString(),
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Forwarded-For": "198.51.100.1",
        Accept: "text/html",
      },
    });
    assert.equal(form.status, 429);
  }, {
    env: { TRUST_PROXY: "true" },
    limits: { registerPerAddress: { max: 3, windowSeconds: 600 } },
  }));

Deno.test("abuse - one caller rings the same person a few times, then is told to wait; nobody is rung meanwhile", () =>
  withRooms(async ({ app, host, friends }) => {
    const [fred, fiona] = friends;
    const fredTab = await TestSocket.open(app, { token: fred.token });
    await fredTab.next("sync");
    try {
      const create = (participants: string[]) =>
        call(app, "POST", "/api/livekit/rooms", {
          token: host.token,
          json: { room_name: "Again", call_type: "audio", participants },
        });
      assert.equal((await create([fred.id])).status, 201);
      assert.equal((await create([fred.id])).status, 201);
      await fredTab.next("invite");
      await fredTab.next("invite");
      const third = await create([fred.id]);
      assert.equal(third.status, 429);
      assert.ok(Number(third.headers.get("Retry-After")) > 0);
      // Refused as a whole: no meeting was created, Fred was not rung again.
      const rooms = await call(app, "GET", "/api/livekit/rooms", { token: host.token });
      assert.equal(rooms.body.length, 2);
      // Others can still be rung, and meetings without invitees still be created.
      assert.equal((await create([fiona.id])).status, 201);
      assert.equal((await create([])).status, 201);
      // Inviting more into a meeting counts the same way.
      const more = await call(app, "POST", `/api/livekit/rooms/${rooms.body[0].id}/invite`, {
        token: host.token,
        json: { participants: [fred.id] },
      });
      assert.equal(more.status, 429);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(fredTab.received.filter((m) => m.type === "invite").length, 0);
    } finally {
      await fredTab.close();
    }
  }, { limits: { ringsPerPair: { max: 2, windowSeconds: 600 } } }));

Deno.test("abuse - a person is rung only so often by anyone; a caller only so often in all", () =>
  withRooms(async ({ app, host, friends, stranger }) => {
    const [fred, fiona] = friends;
    await addContacts(app, stranger, [fred]);
    const ring = (caller: typeof host, who: string) =>
      call(app, "POST", "/api/livekit/rooms", {
        token: caller.token,
        json: { room_name: "Ring", call_type: "audio", participants: [who] },
      });
    assert.equal((await ring(host, fred.id)).status, 201);
    assert.equal((await ring(stranger, fred.id)).status, 201);
    assert.equal((await ring(stranger, fred.id)).status, 429, "Fred has been rung enough");
    assert.equal((await ring(host, fiona.id)).status, 201);
    assert.equal((await ring(host, fiona.id)).status, 429, "the host has rung enough");
  }, {
    limits: {
      ringsPerPerson: { max: 2, windowSeconds: 600 },
      ringsPerCaller: { max: 2, windowSeconds: 600 },
    },
  }));

Deno.test("abuse - meetings per caller are bounded", () =>
  withRooms(async ({ app, host }) => {
    const create = () =>
      call(app, "POST", "/api/livekit/rooms", {
        token: host.token,
        json: { room_name: "Many", call_type: "video" },
      });
    for (let i = 0; i < 3; i++) assert.equal((await create()).status, 201);
    const refused = await create();
    assert.equal(refused.status, 429);
    assert.match(refused.body.error.message, /new meetings/);
  }, { limits: { roomsPerCaller: { max: 3, windowSeconds: 600 } } }));

Deno.test("abuse - a meeting created again with the same Idempotency-Key is the same meeting, rung once", () =>
  withRooms(async ({ app, host, friends }) => {
    const [fred] = friends;
    const fredTab = await TestSocket.open(app, { token: fred.token });
    await fredTab.next("sync");
    try {
      const create = (key: string) =>
        call(app, "POST", "/api/livekit/rooms", {
          token: host.token,
          json: { room_name: "Once", call_type: "audio", participants: [fred.id] },
          headers: { "Idempotency-Key": key },
        });
      const first = await create("key-0001-abcdef");
      assert.equal(first.status, 201);
      const again = await create("key-0001-abcdef");
      assert.equal(again.status, 200);
      assert.equal(again.body.id, first.body.id);
      // Two at once with a fresh key: still one meeting.
      const [x, y] = await Promise.all([create("key-0002-abcdef"), create("key-0002-abcdef")]);
      assert.deepEqual([x.status, y.status].sort(), [200, 201]);
      assert.equal(x.body.id, y.body.id);
      await fredTab.next("invite", (m) => m.invite.room_id === first.body.id);
      await fredTab.next("invite", (m) => m.invite.room_id === x.body.id);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(fredTab.received.filter((m) => m.type === "invite").length, 0, "rung once each");
      const rooms = await call(app, "GET", "/api/livekit/rooms", { token: host.token });
      assert.equal(rooms.body.length, 2);
      // Another person's key is theirs alone.
      const fredRoom = await call(app, "POST", "/api/livekit/rooms", {
        token: fred.token,
        json: { room_name: "Fred's", call_type: "audio" },
        headers: { "Idempotency-Key": "key-0001-abcdef" },
      });
      assert.equal(fredRoom.status, 201);
      assert.notEqual(fredRoom.body.id, first.body.id);
      const bad = await create("no spaces allowed");
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.code, "invalid_idempotency_key");
    } finally {
      await fredTab.close();
    }
  }));

Deno.test("abuse - contact lookups are counted per person", () =>
  withApp(async (app) => {
    const ada = await registerUser(app);
    const add = (email: string) =>
      call(app, "POST", "/api/contacts", { token: ada.token, json: { email } });
    assert.equal((await add("nobody1@example.test")).status, 202);
    assert.equal((await add("nobody2@example.test")).status, 202);
    const refused = await add("nobody3@example.test");
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get("Retry-After")) > 0);
  }, { limits: { contactAdds: { max: 2, windowSeconds: 600 } } }));

Deno.test("abuse - a signed webhook whose time is impossible is refused and changes nothing", () =>
  withRooms(async ({ app, host, friends }) => {
    const [fred] = friends;
    const room = await call(app, "POST", "/api/livekit/rooms", {
      token: host.token,
      json: { room_name: "Hooked", call_type: "audio", participants: [fred.id] },
    });
    for (const createdAt of [1e15, 2 * 10 ** 12, Math.floor(Date.now() / 1000) - 3 * 86400]) {
      const res = await deliver(app, {
        event: "participant_joined",
        room: room.body.id,
        participant: { sid: "PA_x", identity: fred.id },
        createdAt,
      });
      assert.equal(res.status, 400, `${createdAt}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, "invalid_event");
    }
    const view = await call(app, "GET", `/api/livekit/rooms/${room.body.id}`, {
      token: host.token,
    });
    assert.equal(view.body.in_call_count, 0);
    const [{ n }] = await app.sql`select count(*)::int as n from livekit_events`;
    assert.equal(n, 0);
  }));
