// Concurrent joins, leaves and LiveKit reports on one room: no participant lost, never a wrong
// status, and a join is never refused because the last person just left.
import assert from "node:assert/strict";
import { call, createUsersQuickly } from "./harness.ts";
import { connects } from "./livekit_webhook.ts";
import { createRoom, withRooms } from "./rooms_fixture.ts";

Deno.test("concurrency - 100 simultaneous joins, leaves and LiveKit reports on one room add up", () =>
  withRooms(async ({ app, livekit, host }) => {
    const crowd = await createUsersQuickly(app, 100);
    const [early, late] = [crowd.slice(0, 50), crowd.slice(50)];
    const room = await createRoom(app, host);
    const path = `/api/livekit/rooms/${room.id}`;
    const get = async () => (await call(app, "GET", path, { token: host.token })).body;
    await call(app, "POST", `${path}/join`, { token: host.token });
    await connects(app, room.id, host.id);

    const joins = await Promise.all(
      early.map(async (u) => {
        const res = await call(app, "POST", `${path}/join`, { token: u.token });
        await connects(app, room.id, u.id);
        return res;
      }),
    );
    assert.deepEqual(new Set(joins.map((r) => r.status)), new Set([200]));
    assert.equal((await get()).in_call_count, 51);

    // The early half leaves while the late half joins and connects: 150 requests at once.
    const mixed = await Promise.all([
      ...early.map((u) => call(app, "POST", `${path}/leave`, { token: u.token })),
      ...late.map(async (u) => {
        const res = await call(app, "POST", `${path}/join`, { token: u.token });
        await connects(app, room.id, u.id);
        return res;
      }),
    ]);
    assert.deepEqual(new Set(mixed.map((r) => r.status)), new Set([200]));
    let now = await get();
    assert.equal(now.status, "active");
    assert.equal(now.participants.length, 101, "nobody lost, nobody twice");
    const inCall = new Set(
      now.participants.filter((p: { in_call: boolean }) => p.in_call).map((p: { id: string }) =>
        p.id
      ),
    );
    assert.deepEqual(inCall, new Set([host.id, ...late.map((u) => u.id)]));
    assert.equal(now.in_call_count, 51);

    // Everyone leaves at once: nobody is in the call, and the meeting waits for LiveKit to
    // close its room (a rejoin in the meantime finds it open).
    const leaves = await Promise.all(
      [host, ...late].map((u) => call(app, "POST", `${path}/leave`, { token: u.token })),
    );
    assert.deepEqual(new Set(leaves.map((r) => r.status)), new Set([200]));
    now = await get();
    assert.equal(now.status, "active");
    assert.equal(now.in_call_count, 0);
    assert.equal(livekit.calls.length, 0);
  }));

Deno.test("concurrency - joins racing the last leave are never refused", () =>
  withRooms(async ({ app, host }) => {
    const crowd = await createUsersQuickly(app, 30);
    for (let round = 0; round < 5; round++) {
      const room = await createRoom(app, host);
      const path = `/api/livekit/rooms/${room.id}`;
      await call(app, "POST", `${path}/join`, { token: host.token });
      await connects(app, room.id, host.id);
      const [leave, ...joins] = await Promise.all([
        call(app, "POST", `${path}/leave`, { token: host.token }),
        ...crowd.map((u) => call(app, "POST", `${path}/join`, { token: u.token })),
      ]);
      assert.equal(leave.status, 200);
      assert.deepEqual(new Set(joins.map((r) => r.status)), new Set([200]), `round ${round}`);
      let now = (await call(app, "GET", path, { token: host.token })).body;
      assert.equal(now.status, "active");
      assert.equal(now.in_call_count, 0);
      await Promise.all(crowd.map((u) => connects(app, room.id, u.id)));
      now = (await call(app, "GET", path, { token: host.token })).body;
      assert.equal(now.in_call_count, crowd.length);
    }
  }));
