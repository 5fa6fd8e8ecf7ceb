// LiveKit webhooks keep presence true: deliveries signed as LiveKit signs them update who is in
// the call, the room's status and counts, and reach dashboards; forged, tampered and replayed
// deliveries change nothing.
import assert from "node:assert/strict";
import { call, type TestApp, type TestUser } from "./harness.ts";
import { connects, deliver, guestJoins, signedWebhook } from "./livekit_webhook.ts";
import { createRoom, withRooms } from "./rooms_fixture.ts";
import { TestSocket } from "./ws_client.ts";

function send(app: TestApp, d: { body: string; headers: Record<string, string> }) {
  return call(app, "POST", "/api/livekit/webhook", { body: d.body, headers: d.headers });
}

async function roomAs(app: TestApp, user: TestUser, id: string) {
  const res = await call(app, "GET", `/api/livekit/rooms/${id}`, { token: user.token });
  assert.equal(res.status, 200);
  return res.body;
}

const inCall = (room: { participants: { id: string; in_call: boolean }[] }, id: string) =>
  room.participants.find((p) => p.id === id)?.in_call;

Deno.test("webhook - joins and departures LiveKit reports keep presence true and reach dashboards", () =>
  withRooms(async ({ app, host, friends }) => {
    const [fred] = friends;
    const room = await createRoom(app, host, { participants: [fred.id] });
    const dashboard = await TestSocket.open(app, { token: host.token });
    try {
      // Fred's browser connected to LiveKit without the app hearing from it (tab reloaded).
      const joined = await deliver(app, {
        event: "participant_joined",
        room: room.id,
        participant: { sid: "PA_fred1", identity: fred.id, name: "Fred" },
      });
      assert.equal(joined.status, 200, JSON.stringify(joined.body));
      assert.deepEqual(joined.body, { result: "applied" });
      let view = await roomAs(app, host, room.id);
      assert.equal(inCall(view, fred.id), true);
      assert.equal(view.status, "active");
      assert.equal(view.in_call_count, 1);
      const pushed = await dashboard.next(
        "room_updated",
        (m) => m.room.id === room.id && m.room.in_call_count === 1,
      );
      assert.equal(pushed.room.status, "active");

      // The tab dies: LiveKit notices and says so; the meeting stays open for a while.
      const left = await deliver(app, {
        event: "participant_left",
        room: room.id,
        participant: { sid: "PA_fred1", identity: fred.id },
      });
      assert.deepEqual(left.body, { result: "applied" });
      view = await roomAs(app, host, room.id);
      assert.equal(inCall(view, fred.id), false);
      assert.equal(view.in_call_count, 0);
      assert.equal(view.status, "active", "LiveKit's room_finished ends it, not one departure");
      await dashboard.next("room_updated", (m) => m.room.in_call_count === 0);

      // The same join delivered again (LiveKit retries) is recognised and changes nothing.
      const replay = await send(app, joined.delivery);
      assert.equal(replay.status, 200);
      assert.deepEqual(replay.body, { result: "duplicate" });
      assert.equal(inCall(await roomAs(app, host, room.id), fred.id), false);
      const [{ n }] = await app.sql<{ n: number }[]>`
        select count(*)::int as n from livekit_events where id = ${joined.delivery.id}`;
      assert.equal(n, 1);
    } finally {
      await dashboard.close();
    }
  }));

Deno.test("webhook - a reconnect is not undone by the old connection's late departure", () =>
  withRooms(async ({ app, host, friends }) => {
    const [fred, fiona] = friends;
    const room = await createRoom(app, host, { participants: [fred.id, fiona.id] });
    const fredOn = (sid: string, event = "participant_joined") =>
      deliver(app, { event, room: room.id, participant: { sid, identity: fred.id } });
    await fredOn("PA_old");
    await fredOn("PA_new");
    const late = await fredOn("PA_old", "participant_left");
    assert.deepEqual(late.body, { result: "ignored" });
    assert.equal(inCall(await roomAs(app, host, room.id), fred.id), true);

    // Out of order: Fiona's departure arrives before her join; the join is stale.
    const fionaOn = (event: string) =>
      deliver(app, { event, room: room.id, participant: { sid: "PA_fi", identity: fiona.id } });
    await fionaOn("participant_left");
    const stale = await fionaOn("participant_joined");
    assert.deepEqual(stale.body, { result: "ignored" });
    assert.equal(inCall(await roomAs(app, host, room.id), fiona.id), false);
  }));

Deno.test("webhook - guests count while LiveKit has them in the call; only guests of the link", () =>
  withRooms(async ({ app, host, stranger }) => {
    const room = await createRoom(app, host);
    await call(app, "POST", `/api/livekit/rooms/${room.id}/join`, { token: host.token });
    await connects(app, room.id, host.id);
    const { identity } = await guestJoins(app, room.id);
    let view = await roomAs(app, host, room.id);
    assert.equal(view.guests_in_call, 0, "not in the call before LiveKit says so");
    const guest = { sid: "PA_g1", identity, name: "Visitor" };
    await deliver(app, { event: "participant_joined", room: room.id, participant: guest });
    view = await roomAs(app, host, room.id);
    assert.equal(view.in_call_count, 2);
    assert.equal(view.guests_in_call, 1);
    const summary = await roomAs(app, stranger, room.id);
    assert.equal(summary.in_call_count, 2, "link holders see the count");
    assert.equal(summary.guests_in_call, undefined, "and nothing more");
    await deliver(app, { event: "participant_left", room: room.id, participant: guest });
    view = await roomAs(app, host, room.id);
    assert.equal(view.in_call_count, 1);
    assert.equal(view.guests_in_call, 0);

    // A guest identity the app never admitted (a token minted elsewhere) is not counted: evicted.
    const unknown = { sid: "PA_g2", identity: "guest-ffffffffffffffff", name: "Nobody" };
    const res = await deliver(app, {
      event: "participant_joined",
      room: room.id,
      participant: unknown,
    });
    assert.deepEqual(res.body, { result: "evict" });
    assert.equal((await roomAs(app, host, room.id)).guests_in_call, 0);
  }));

Deno.test("webhook - room_finished ends a meeting nobody is in, and stops its calls", () =>
  withRooms(async ({ app, host, friends }) => {
    const [fred, fiona] = friends;
    const room = await createRoom(app, host, { participants: [fred.id, fiona.id] });
    // LiveKit had the host in the call, then closed its room (the host's departure was lost).
    await call(app, "POST", `/api/livekit/rooms/${room.id}/join`, { token: host.token });
    await connects(app, room.id, host.id);
    const fionaTab = await TestSocket.open(app, { token: fiona.token });
    try {
      await fionaTab.next("sync");
      const finished = await deliver(app, { event: "room_finished", room: room.id });
      assert.deepEqual(finished.body, { result: "applied" });
      const view = await roomAs(app, host, room.id);
      assert.equal(view.status, "ended");
      assert.equal(view.in_call_count, 0);
      const stopped = await fionaTab.next("invite_cancelled");
      assert.equal(stopped.reason, "ended");
      // Delivered after the meeting ended: nothing more happens.
      const again = await deliver(app, { event: "room_finished", room: room.id });
      assert.deepEqual(again.body, { result: "ignored" });
    } finally {
      await fionaTab.close();
    }
  }));

Deno.test("webhook - room_finished keeps people whose join came after it", () =>
  withRooms(async ({ app, host }) => {
    const room = await createRoom(app, host);
    await call(app, "POST", `/api/livekit/rooms/${room.id}/join`, { token: host.token });
    await connects(app, room.id, host.id);
    // LiveKit's room closed a minute ago (the event was delayed); the host has joined since.
    const res = await deliver(app, {
      event: "room_finished",
      room: room.id,
      createdAt: Math.floor(Date.now() / 1000) - 60,
    });
    assert.deepEqual(res.body, { result: "applied" });
    const view = await roomAs(app, host, room.id);
    assert.equal(view.status, "active");
    assert.equal(inCall(view, host.id), true);
  }));

Deno.test("webhook - a forged, tampered or unsigned delivery is refused and changes nothing", () =>
  withRooms(async ({ app, host, friends }) => {
    const [fred] = friends;
    const room = await createRoom(app, host, { participants: [fred.id] });
    const fields = {
      event: "participant_joined",
      room: room.id,
      participant: { sid: "PA_x", identity: fred.id },
    };
    const wrongKey = await signedWebhook(fields, {
      key: "otherkey",
      secret: "another-secret-0123456789-abcdefghijklmnop",
    });
    const wrongSecret = await signedWebhook(fields, {
      key: "testkey",
      secret: "not-the-secret-0123456789-abcdefghijklmnop",
    });
    const good = await signedWebhook(fields);
    const tampered = {
      body: good.body.replace(fred.id, host.id),
      headers: good.headers,
    };
    const unsigned = { body: good.body, headers: { "Content-Type": "application/webhook+json" } };
    const garbage = { body: good.body, headers: { ...good.headers, Authorization: "nonsense" } };
    for (
      const [label, d] of Object.entries({ wrongKey, wrongSecret, tampered, unsigned, garbage })
    ) {
      const res = await send(app, d);
      assert.equal(res.status, 401, label);
      assert.equal(res.body.error.code, "invalid_signature", label);
    }
    const view = await roomAs(app, host, room.id);
    assert.equal(view.status, "waiting");
    assert.ok(view.participants.every((p: { in_call: boolean }) => !p.in_call));
    const [{ n }] = await app.sql<{ n: number }[]>`select count(*)::int as n from livekit_events`;
    assert.equal(n, 0, "nothing recorded");
    // The authentic delivery still works afterwards.
    assert.deepEqual((await send(app, good)).body, { result: "applied" });
  }));

Deno.test("webhook - events about other rooms are acknowledged and ignored", () =>
  withRooms(async ({ app }) => {
    for (const name of ["not-ours", "abcd-efgh-jkmn"]) {
      const res = await deliver(app, {
        event: "participant_joined",
        room: name,
        participant: { sid: "PA_1", identity: crypto.randomUUID() },
      });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { result: "ignored" });
    }
    const res = await deliver(app, { event: "track_published", room: "abcd-efgh-jkmn" });
    assert.deepEqual(res.body, { result: "ignored" });
  }));

Deno.test("webhook - someone holding a token the app no longer stands behind is disconnected", () =>
  withRooms(async ({ app, host, friends, livekit }) => {
    const [fred] = friends;
    const room = await createRoom(app, host, { participants: [fred.id] });
    await call(app, "POST", `/api/livekit/rooms/${room.id}/join`, { token: host.token });
    livekit.connect(room.id, fred.id);
    const removed = await call(
      app,
      "DELETE",
      `/api/livekit/rooms/${room.id}/participants/${fred.id}`,
      { token: host.token },
    );
    assert.equal(removed.status, 204);
    // Fred's earlier token still lets him reach LiveKit; the join it reports sends him away.
    livekit.connect(room.id, fred.id);
    const back = await deliver(app, {
      event: "participant_joined",
      room: room.id,
      participant: { sid: "PA_again", identity: fred.id },
    });
    assert.equal(back.body.result, "evict");
    const kicks = livekit.calls.filter((c) => c.method === "RemoveParticipant");
    assert.equal(kicks.length, 2);
    assert.deepEqual(kicks[1].body, { room: room.id, identity: fred.id });
    assert.equal(inCall(await roomAs(app, host, room.id), fred.id), undefined, "not listed");

    // A meeting that ended: a connection to it closes LiveKit's room again.
    await call(app, "DELETE", `/api/livekit/rooms/${room.id}`, { token: host.token });
    const deletes = () => livekit.calls.filter((c) => c.method === "DeleteRoom").length;
    const before = deletes();
    const late = await deliver(app, {
      event: "participant_joined",
      room: room.id,
      participant: { sid: "PA_late", identity: host.id },
    });
    assert.equal(late.body.result, "close");
    assert.equal(deletes(), before + 1);
  }));

Deno.test("webhook - the doctor's probe says whether LiveKit's event for its room arrived, and nothing more", async () => {
  const { withApp } = await import("./harness.ts");
  await withApp(async (app) => {
    const name = `doctor-${crypto.randomUUID().replaceAll("-", "")}`;
    const probe = (n: string) => call(app, "GET", `/api/livekit/webhook/probe/${n}`);
    for (const bad of ["doctor-x", "not-a-probe", `doctor-${"g".repeat(32)}`]) {
      const res = await probe(bad);
      assert.equal(res.status, 400, bad);
      assert.equal(res.body.error.code, "invalid_probe");
    }
    assert.equal((await probe(name)).body.error.code, "not_received");
    // An unsigned event does not count.
    const forged = await call(app, "POST", "/api/livekit/webhook", {
      body: JSON.stringify({ event: "room_started", id: "EV_forged", room: { name } }),
      headers: { "Content-Type": "application/webhook+json", Authorization: "forged" },
    });
    assert.equal(forged.status, 401);
    assert.equal((await probe(name)).status, 404);
    // LiveKit's (signed) room_started for that room: seen.
    assert.equal((await deliver(app, { event: "room_started", room: name })).status, 200);
    const seen = await probe(name);
    assert.equal(seen.status, 200);
    assert.ok(!Number.isNaN(Date.parse(seen.body.received_at)));
    // Probes are counted per address (3 here).
    const limited = await probe(name);
    assert.equal(limited.status, 429);
    assert.equal(limited.body.error.code, "rate_limited");
  }, { limits: { probesPerAddress: { max: 3, windowSeconds: 600 } } });
});
