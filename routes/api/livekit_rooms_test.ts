import assert from "node:assert/strict";
import { TokenVerifier } from "livekit-server-sdk";
import { ROOM_ID_PATTERN } from "../../lib/meetings/rooms.ts";
import { call, ORIGIN, TEST_LIVEKIT_KEY, TEST_LIVEKIT_SECRET } from "../../tests/harness.ts";
import { createRoom, withRooms } from "../../tests/rooms_fixture.ts";
import { connects, deliver } from "../../tests/livekit_webhook.ts";

Deno.test("rooms - create with contacts: the full room, host first", () =>
  withRooms(async ({ app, host, friends }) => {
    const res = await call(app, "POST", "/api/livekit/rooms", {
      token: host.token,
      json: {
        room_name: "  Weekly sync ",
        call_type: "audio",
        participants: [friends[0].id, friends[1].id, friends[0].id, host.id],
        allow_guests: false,
      },
    });
    assert.equal(res.status, 201);
    const room = res.body;
    assert.match(room.id, ROOM_ID_PATTERN);
    assert.equal(room.room_name, "Weekly sync");
    assert.equal(room.call_type, "audio");
    assert.equal(room.status, "waiting");
    assert.equal(room.allow_guests, false);
    assert.deepEqual(room.created_by, { id: host.id, display_name: "Hana Host" });
    assert.equal(room.invite_url, `${ORIGIN}/meeting/invite?room=${room.id}`);
    assert.ok(!Number.isNaN(Date.parse(room.created_at)));
    // The host first, then invitees by name; each invitee's call is ringing.
    const ringing = (id: string) => ({
      id: room.participants.find((p: { id: string }) => p.id === id)?.invite?.id,
      status: "pending",
    });
    assert.deepEqual(room.participants, [
      { id: host.id, display_name: "Hana Host", role: "host", in_call: false, invite: null },
      {
        id: friends[1].id,
        display_name: "Fiona",
        role: "member",
        in_call: false,
        invite: ringing(friends[1].id),
      },
      {
        id: friends[0].id,
        display_name: "Fred",
        role: "member",
        in_call: false,
        invite: ringing(friends[0].id),
      },
    ]);
    assert.equal(room.in_call_count, 0);
    assert.ok(!JSON.stringify(room).includes("@"), "no emails in a room");
  }));

Deno.test("rooms - guests are allowed unless the host says otherwise", () =>
  withRooms(async ({ app, host }) => {
    assert.equal((await createRoom(app, host)).allow_guests, true);
  }));

Deno.test("rooms - only contacts can be invited: 400 names the others and nothing is stored", () =>
  withRooms(async ({ app, host, friends, stranger }) => {
    const unknown = crypto.randomUUID();
    const res = await call(app, "POST", "/api/livekit/rooms", {
      token: host.token,
      json: {
        room_name: "x",
        call_type: "video",
        participants: [friends[0].id, stranger.id, unknown],
      },
    });
    assert.equal(res.status, 400);
    assert.equal(res.body.error.code, "not_contacts");
    assert.match(res.body.error.message, new RegExp(stranger.id));
    assert.match(res.body.error.message, new RegExp(unknown));
    assert.doesNotMatch(res.body.error.message, new RegExp(friends[0].id));
    const [{ count }] = await app.sql`select count(*)::int from rooms`;
    assert.equal(count, 0);
  }));

Deno.test("rooms - bad create bodies get 400", () =>
  withRooms(async ({ app, host }) => {
    const base = { room_name: "ok", call_type: "video" };
    const bodies = [
      {},
      { ...base, room_name: "   " },
      { ...base, room_name: "t".repeat(101) },
      { ...base, room_name: 7 },
      { ...base, call_type: "hologram" },
      { room_name: "no type" },
      { ...base, participants: "everyone" },
      { ...base, participants: ["not-a-uuid"] },
      { ...base, participants: Array.from({ length: 51 }, () => crypto.randomUUID()) },
      { ...base, allow_guests: "yes" },
    ];
    for (const json of bodies) {
      const res = await call(app, "POST", "/api/livekit/rooms", { token: host.token, json });
      assert.equal(res.status, 400, JSON.stringify(json).slice(0, 80));
      assert.equal(res.body.error.code, "invalid_request");
    }
    const ok = await call(app, "POST", "/api/livekit/rooms", {
      token: host.token,
      json: { ...base, room_name: "t".repeat(100) },
    });
    assert.equal(ok.status, 201, "100 characters is the limit, inclusive");
  }));

Deno.test("rooms - list: rooms I created or was invited to, newest first", () =>
  withRooms(async ({ app, host, friends, stranger }) => {
    const a = await createRoom(app, host, { room_name: "A", participants: [friends[0].id] });
    const b = await createRoom(app, host, { room_name: "B" });
    const own = await call(app, "GET", "/api/livekit/rooms", { token: host.token });
    assert.deepEqual(own.body.map((r: { id: string }) => r.id), [b.id, a.id]);
    const invited = await call(app, "GET", "/api/livekit/rooms", { token: friends[0].token });
    assert.deepEqual(invited.body.map((r: { id: string }) => r.id), [a.id]);
    assert.equal(invited.body[0].participants.length, 2);
    const none = await call(app, "GET", "/api/livekit/rooms", { token: stranger.token });
    assert.deepEqual(none.body, []);
  }));

Deno.test("rooms - a holder of the link sees a summary without anyone's details", () =>
  withRooms(async ({ app, host, friends, stranger }) => {
    const room = await createRoom(app, host, { participants: [friends[0].id] });
    await call(app, "POST", `/api/livekit/rooms/${room.id}/join`, { token: friends[0].token });
    await connects(app, room.id, friends[0].id);
    const res = await call(app, "GET", `/api/livekit/rooms/${room.id}`, { token: stranger.token });
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys(res.body).sort(), [
      "allow_guests",
      "call_type",
      "created_at",
      "created_by",
      "entry",
      "id",
      "in_call_count",
      "invite_url",
      "locked",
      "room_name",
      "status",
    ]);
    assert.deepEqual(res.body.created_by, { display_name: "Hana Host" });
    assert.equal(res.body.in_call_count, 1);
    assert.equal(res.body.status, "active");

    const member = await call(app, "GET", `/api/livekit/rooms/${room.id}`, {
      token: friends[0].token,
    });
    assert.equal(member.body.participants.length, 2);
    const missing = await call(app, "GET", "/api/livekit/rooms/aaaa-bbbb-cccc", {
      token: host.token,
    });
    assert.equal(missing.status, 404);
  }));

Deno.test("rooms - lifecycle: joining is an intent; LiveKit's reports make it active and end it", () =>
  withRooms(async ({ app, livekit, host, friends, stranger }) => {
    const room = await createRoom(app, host, { participants: [friends[0].id] });
    const path = `/api/livekit/rooms/${room.id}`;
    const status = async () => (await call(app, "GET", path, { token: host.token })).body;
    const me = (r: { participants: { id: string; in_call: boolean }[] }, id: string) =>
      r.participants.find((p) => p.id === id)!;

    // An invitee leaving a room nobody has joined does not end it.
    assert.equal(
      (await call(app, "POST", `${path}/leave`, { token: friends[0].token })).status,
      200,
    );
    assert.equal((await status()).status, "waiting");

    // Joining says "I am coming": nobody is in the call until LiveKit reports a connection.
    // The answer carries the token to connect with: one round trip from Join to LiveKit.
    const joined = await call(app, "POST", `${path}/join`, { token: host.token });
    assert.equal(joined.status, 200);
    const { token: joinToken, ...joinAnswer } = joined.body;
    assert.deepEqual(joinAnswer, {
      message: "Joined the meeting.",
      room_name: room.id,
      url: "ws://127.0.0.1:7880",
    });
    const claims = await new TokenVerifier(TEST_LIVEKIT_KEY, TEST_LIVEKIT_SECRET).verify(
      joinToken,
    );
    assert.equal(claims.sub, host.id);
    assert.equal(claims.video?.room, room.id);
    assert.deepEqual(JSON.parse(claims.metadata!), { role: "host" });
    let now = await status();
    assert.equal(now.status, "waiting");
    assert.equal(now.in_call_count, 0);
    assert.equal(me(now, host.id).in_call, false);

    await connects(app, room.id, host.id);
    now = await status();
    assert.equal(now.status, "active");
    assert.equal(me(now, host.id).in_call, true);

    // Someone with the link joins and becomes a participant; in the call once connected.
    assert.equal((await call(app, "POST", `${path}/join`, { token: stranger.token })).status, 200);
    assert.deepEqual(
      me(await status(), stranger.id),
      { id: stranger.id, display_name: "Stan", role: "member", in_call: false, invite: null },
    );
    await connects(app, room.id, stranger.id);
    now = await status();
    assert.equal(now.in_call_count, 2);
    assert.equal(me(now, stranger.id).in_call, true);

    // Leaving takes one out at once; the last one out does not end the meeting by itself, so
    // "Rejoin" right after works.
    assert.equal((await call(app, "POST", `${path}/leave`, { token: host.token })).status, 200);
    assert.equal(me(await status(), host.id).in_call, false);
    const lastLeaves = await call(app, "POST", `${path}/leave`, { token: stranger.token });
    assert.equal(lastLeaves.status, 200);
    now = await status();
    assert.equal(now.status, "active");
    assert.equal(now.in_call_count, 0);
    const rejoin = await call(app, "POST", `${path}/join`, { token: stranger.token });
    assert.equal(rejoin.status, 200);
    assert.equal(livekit.calls.length, 0, "LiveKit's room is LiveKit's to close");

    // LiveKit closes its emptied room after its departure timeout: the meeting ends.
    const finished = await deliver(app, { event: "room_finished", room: room.id });
    assert.equal(finished.status, 200);
    assert.equal((await status()).status, "ended");

    const late = await call(app, "POST", `${path}/join`, { token: friends[0].token });
    assert.equal(late.status, 410);
    assert.equal(late.body.error.code, "room_ended");
    const token = await call(app, "POST", "/api/livekit/token", {
      token: host.token,
      json: { room_name: room.id },
    });
    assert.equal(token.status, 410);
  }));

Deno.test("rooms - the creator ends the meeting for everyone; LiveKit's room is deleted", () =>
  withRooms(async ({ app, livekit, host, friends }) => {
    const room = await createRoom(app, host, { participants: [friends[0].id] });
    const path = `/api/livekit/rooms/${room.id}`;
    await call(app, "POST", `${path}/join`, { token: friends[0].token });

    const byMember = await call(app, "DELETE", path, { token: friends[0].token });
    assert.equal(byMember.status, 403);
    assert.equal(byMember.body.error.code, "not_host");

    const ended = await call(app, "DELETE", path, { token: host.token });
    assert.equal(ended.status, 204);
    const after = await call(app, "GET", path, { token: friends[0].token });
    assert.equal(after.body.status, "ended");
    assert.ok(after.body.participants.every((p: { in_call: boolean }) => !p.in_call));
    assert.equal(livekit.calls.length, 1);
    assert.equal(livekit.calls[0].method, "DeleteRoom");
    assert.equal(livekit.calls[0].body.room, room.id);
    assert.equal(livekit.calls[0].grants.video?.roomCreate, true);
    assert.equal(livekit.refused.length, 0);

    assert.equal(
      (await call(app, "DELETE", path, { token: host.token })).status,
      204,
      "idempotent",
    );
    assert.equal(livekit.calls.length, 1, "LiveKit is not asked twice");
  }));

Deno.test("rooms - with LiveKit down the meeting still ends here and the failure is logged", () =>
  withRooms(async ({ app, host }) => {
    const room = await createRoom(app, host);
    const res = await call(app, "DELETE", `/api/livekit/rooms/${room.id}`, { token: host.token });
    assert.equal(res.status, 204);
    const after = await call(app, "GET", `/api/livekit/rooms/${room.id}`, { token: host.token });
    assert.equal(after.body.status, "ended");
    assert.ok(app.logs.some((l) => l.includes("livekit room not deleted") && l.includes(room.id)));
  }, { env: { LIVEKIT_API_URL: "http://127.0.0.1:9" } }));
