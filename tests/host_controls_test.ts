// Host controls through the API: only the host may remove someone or mute their track; LiveKit
// is called with server credentials carrying roomAdmin for that room (checked by the double),
// and the database follows. When LiveKit cannot be reached nothing changes.
import assert from "node:assert/strict";
import { TokenVerifier } from "livekit-server-sdk";
import { call, TEST_LIVEKIT_KEY, TEST_LIVEKIT_SECRET } from "./harness.ts";
import { connects, deliver, guestJoins } from "./livekit_webhook.ts";
import { createRoom, withRooms } from "./rooms_fixture.ts";

const remove = (room: string, identity: string) =>
  `/api/livekit/rooms/${room}/participants/${identity}`;
const mute = (room: string, identity: string) => `${remove(room, identity)}/mute`;

Deno.test("host controls - the host removes a member: disconnected, no token, no way back until invited", () =>
  withRooms(async ({ app, host, friends, livekit }) => {
    const [fred, fiona] = friends;
    const room = await createRoom(app, host, { participants: [fred.id, fiona.id] });
    for (const u of [host, fred]) {
      await call(app, "POST", `/api/livekit/rooms/${room.id}/join`, { token: u.token });
      await connects(app, room.id, u.id);
    }
    livekit.connect(room.id, fred.id);

    const res = await call(app, "DELETE", remove(room.id, fred.id), { token: host.token });
    assert.equal(res.status, 204, JSON.stringify(res.body));
    const [kick] = livekit.calls.filter((c) => c.method === "RemoveParticipant");
    assert.deepEqual(kick.body, { room: room.id, identity: fred.id });
    assert.equal(kick.grants.video?.roomAdmin, true, "server credentials with roomAdmin");
    assert.equal(kick.grants.video?.room, room.id, "for this room only");

    const view = await call(app, "GET", `/api/livekit/rooms/${room.id}`, { token: host.token });
    assert.deepEqual(view.body.participants.map((p: { id: string }) => p.id), [host.id, fiona.id]);
    assert.equal(view.body.in_call_count, 1);
    const token = await call(app, "POST", "/api/livekit/token", {
      token: fred.token,
      json: { room_name: room.id },
    });
    assert.equal(token.status, 403);
    assert.equal(token.body.error.code, "removed");
    const join = await call(app, "POST", `/api/livekit/rooms/${room.id}/join`, {
      token: fred.token,
    });
    assert.equal(join.status, 403);
    assert.equal(join.body.error.code, "removed");
    const list = await call(app, "GET", "/api/livekit/rooms", { token: fred.token });
    assert.deepEqual(list.body, [], "the meeting is gone from Fred's list");

    // Invited again by the host, Fred may come back.
    const again = await call(app, "POST", `/api/livekit/rooms/${room.id}/invite`, {
      token: host.token,
      json: { participants: [fred.id] },
    });
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.rung, 1);
    const back = await call(app, "POST", `/api/livekit/rooms/${room.id}/join`, {
      token: fred.token,
    });
    assert.equal(back.status, 200);
  }));

Deno.test("host controls - removing someone still ringing stops the call; removing a guest", () =>
  withRooms(async ({ app, host, friends, livekit }) => {
    const [fred] = friends;
    const room = await createRoom(app, host, { participants: [fred.id] });
    // Fred is ringing and not connected to LiveKit: the app's own removal is all it takes.
    const res = await call(app, "DELETE", remove(room.id, fred.id), { token: host.token });
    assert.equal(res.status, 204);
    const invites = await call(app, "GET", "/api/invites", { token: fred.token });
    assert.ok(
      invites.body.every((i: { status: string }) => i.status !== "pending"),
      JSON.stringify(invites.body),
    );
    // A guest LiveKit has in the call.
    const visitor = await guestJoins(app, room.id);
    livekit.connect(room.id, visitor.identity);
    const guest = await call(app, "DELETE", remove(room.id, visitor.identity), {
      token: host.token,
    });
    assert.equal(guest.status, 204);
    // The removal lasts: the guest's pass gets no token, the same browser cannot join as a
    // guest again, and a token saved from before is turned away when it connects.
    const pass = { cookie: visitor.cookie };
    const refused = await call(app, "POST", `/api/livekit/rooms/${room.id}/guest/token`, pass);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, "removed");
    const again = await call(app, "POST", `/api/livekit/rooms/${room.id}/guest`, {
      ...pass,
      json: { display_name: "Visitor again" },
    });
    assert.equal(again.status, 403);
    assert.equal(again.body.error.code, "removed");
    const saved = await deliver(app, {
      event: "participant_joined",
      room: room.id,
      participant: { sid: "PA_saved", identity: visitor.identity },
    });
    assert.deepEqual(saved.body, { result: "evict" });
    // Nobody by that identity, here or in LiveKit.
    const nobody = await call(app, "DELETE", remove(room.id, "guest-aaaaaaaaaaaaaaaa"), {
      token: host.token,
    });
    assert.equal(nobody.status, 404);
    const self = await call(app, "DELETE", remove(room.id, host.id), { token: host.token });
    assert.equal(self.status, 400);
    assert.equal(self.body.error.code, "cannot_remove_self");
    const junk = await call(app, "DELETE", remove(room.id, "not-an-identity"), {
      token: host.token,
    });
    assert.equal(junk.status, 404);
  }));

Deno.test("host controls - the host mutes a participant's track", () =>
  withRooms(async ({ app, host, friends, livekit }) => {
    const [fred] = friends;
    const room = await createRoom(app, host, { participants: [fred.id] });
    livekit.connect(room.id, fred.id, ["TR_fredmic"]);
    const res = await call(app, "POST", mute(room.id, fred.id), {
      token: host.token,
      json: { track_sid: "TR_fredmic" },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body, { muted: true, track_sid: "TR_fredmic" });
    const [muted] = livekit.calls.filter((c) => c.method === "MutePublishedTrack");
    assert.deepEqual(muted.body, {
      room: room.id,
      identity: fred.id,
      trackSid: "TR_fredmic",
      muted: true,
    });
    assert.equal(muted.grants.video?.roomAdmin, true);

    const unknown = await call(app, "POST", mute(room.id, fred.id), {
      token: host.token,
      json: { track_sid: "TR_nothere" },
    });
    assert.equal(unknown.status, 404);
    for (const body of [{}, { track_sid: "" }, { track_sid: "mic" }, { track_sid: 7 }]) {
      const bad = await call(app, "POST", mute(room.id, fred.id), {
        token: host.token,
        json: body,
      });
      assert.equal(bad.status, 400, JSON.stringify(body));
      assert.equal(bad.body.error.code, "invalid_request");
    }
  }));

Deno.test("host controls - only the host: members, strangers and anonymous callers are refused", () =>
  withRooms(async ({ app, host, friends, stranger, livekit }) => {
    const [fred, fiona] = friends;
    const room = await createRoom(app, host, { participants: [fred.id, fiona.id] });
    livekit.connect(room.id, fiona.id, ["TR_fi"]);
    for (const who of [fred, stranger]) {
      const r = await call(app, "DELETE", remove(room.id, fiona.id), { token: who.token });
      assert.equal(r.status, 403);
      assert.equal(r.body.error.code, "not_host");
      const m = await call(app, "POST", mute(room.id, fiona.id), {
        token: who.token,
        json: { track_sid: "TR_fi" },
      });
      assert.equal(m.status, 403);
    }
    const anon = await call(app, "DELETE", remove(room.id, fiona.id));
    assert.equal(anon.status, 401);
    const foreign = await call(app, "DELETE", remove(room.id, fiona.id), {
      cookie: host.cookie,
      origin: "https://evil.example",
    });
    assert.equal(foreign.status, 403);
    assert.equal(foreign.body.error.code, "forbidden_origin");
    assert.equal(livekit.calls.length, 0, "LiveKit was never asked");
    // An ended meeting has nobody left to act on.
    await call(app, "DELETE", `/api/livekit/rooms/${room.id}`, { token: host.token });
    const late = await call(app, "DELETE", remove(room.id, fiona.id), { token: host.token });
    assert.equal(late.status, 410);
  }));

Deno.test("host controls - a co-host mutes members, never the host or another co-host", () =>
  withRooms(async ({ app, host, friends, livekit }) => {
    const [fred, fiona] = friends;
    const room = await createRoom(app, host, { participants: [fred.id, fiona.id] });
    for (const who of [fred, fiona]) {
      const named = await call(app, "PUT", `/api/livekit/rooms/${room.id}/cohosts/${who.id}`, {
        token: host.token,
      });
      assert.equal(named.status, 200);
    }
    livekit.connect(room.id, host.id, ["TR_h"]);
    livekit.connect(room.id, fiona.id, ["TR_fi"]);
    const muteAs = (who: typeof fred, target: string, sid: string) =>
      call(app, "POST", mute(room.id, target), { token: who.token, json: { track_sid: sid } });
    for (const [target, sid] of [[host.id, "TR_h"], [fiona.id, "TR_fi"]]) {
      const refused = await muteAs(fred, target, sid);
      assert.equal(refused.status, 403, JSON.stringify(refused.body));
    }
    assert.equal(livekit.calls.filter((c) => c.method === "MutePublishedTrack").length, 0);
    // The host mutes a co-host; once a member again, a co-host may mute her.
    assert.equal((await muteAs(host, fiona.id, "TR_fi")).status, 200);
    await call(app, "DELETE", `/api/livekit/rooms/${room.id}/cohosts/${fiona.id}`, {
      token: host.token,
    });
    assert.equal((await muteAs(fred, fiona.id, "TR_fi")).status, 200);
    assert.equal(livekit.calls.filter((c) => c.method === "MutePublishedTrack").length, 2);
  }));

Deno.test("host controls - mute everyone spares the host and every co-host, mutes the rest", () =>
  withRooms(async ({ app, host, friends, livekit }) => {
    const [fred, fiona] = friends;
    const room = await createRoom(app, host, { participants: [fred.id, fiona.id] });
    await call(app, "PUT", `/api/livekit/rooms/${room.id}/cohosts/${fiona.id}`, {
      token: host.token,
    });
    livekit.connect(room.id, host.id, ["TR_h"]);
    livekit.connect(room.id, fiona.id, ["TR_fi"]);
    livekit.connect(room.id, fred.id, ["TR_fr"]);
    // Fiona, a co-host, asks: she is spared, and so is the host.
    const res = await call(app, "POST", `/api/livekit/rooms/${room.id}/mute-all`, {
      token: fiona.token,
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const muted = livekit.calls.filter((c) => c.method === "MutePublishedTrack")
      .map((c) => c.body.identity);
    assert.deepEqual(muted, [fred.id]);
  }));

Deno.test("host controls - LiveKit away: 503, and the removal is not half made", () =>
  withRooms(async ({ app, host, friends, livekit }) => {
    const [fred] = friends;
    const room = await createRoom(app, host, { participants: [fred.id] });
    await call(app, "POST", `/api/livekit/rooms/${room.id}/join`, { token: fred.token });
    livekit.connect(room.id, fred.id, ["TR_f"]);
    livekit.away = true;
    const res = await call(app, "DELETE", remove(room.id, fred.id), { token: host.token });
    assert.equal(res.status, 503);
    assert.equal(res.body.error.code, "livekit_unavailable");
    assert.equal(res.headers.get("Retry-After"), "5");
    const m = await call(app, "POST", mute(room.id, fred.id), {
      token: host.token,
      json: { track_sid: "TR_f" },
    });
    assert.equal(m.status, 503);
    // Fred is still in, and may still get a token.
    const token = await call(app, "POST", "/api/livekit/token", {
      token: fred.token,
      json: { room_name: room.id },
    });
    assert.equal(token.status, 200);
    livekit.away = false;
    assert.equal(
      (await call(app, "DELETE", remove(room.id, fred.id), { token: host.token })).status,
      204,
      "works once LiveKit is back",
    );
  }));

Deno.test("host controls - the host's own LiveKit token never carries roomAdmin", () =>
  withRooms(async ({ app, host }) => {
    const room = await createRoom(app, host);
    await call(app, "POST", `/api/livekit/rooms/${room.id}/join`, { token: host.token });
    const res = await call(app, "POST", "/api/livekit/token", {
      token: host.token,
      json: { room_name: room.id },
    });
    const grants = await new TokenVerifier(TEST_LIVEKIT_KEY, TEST_LIVEKIT_SECRET).verify(
      res.body.token,
    );
    assert.equal(JSON.parse(grants.metadata ?? "{}").role, "host");
    assert.notEqual(grants.video?.roomAdmin, true);
  }));
