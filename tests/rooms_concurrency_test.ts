// Concurrent joins and leaves on one room: no participant lost, never a wrong status.
import assert from "node:assert/strict";
import { call, createUsersQuickly } from "./harness.ts";
import { createRoom, withRooms } from "./rooms_fixture.ts";

Deno.test("concurrency - 100 simultaneous joins and leaves on one room add up", () =>
  withRooms(async ({ app, livekit, host }) => {
    const crowd = await createUsersQuickly(app, 100);
    const [early, late] = [crowd.slice(0, 50), crowd.slice(50)];
    const room = await createRoom(app, host);
    const path = `/api/livekit/rooms/${room.id}`;
    const get = async () => (await call(app, "GET", path, { token: host.token })).body;
    await call(app, "POST", `${path}/join`, { token: host.token });

    const joins = await Promise.all(
      early.map((u) => call(app, "POST", `${path}/join`, { token: u.token })),
    );
    assert.deepEqual(new Set(joins.map((r) => r.status)), new Set([200]));

    // The early half leaves while the late half joins: 100 requests at once.
    const mixed = await Promise.all([
      ...early.map((u) => call(app, "POST", `${path}/leave`, { token: u.token })),
      ...late.map((u) => call(app, "POST", `${path}/join`, { token: u.token })),
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

    // Everyone still in the call leaves at once: exactly one of them ends the meeting.
    const leaves = await Promise.all(
      [host, ...late].map((u) => call(app, "POST", `${path}/leave`, { token: u.token })),
    );
    assert.deepEqual(new Set(leaves.map((r) => r.status)), new Set([200]));
    assert.equal(leaves.filter((r) => /ended/.test(r.body.message)).length, 1);
    now = await get();
    assert.equal(now.status, "ended");
    assert.equal(now.in_call_count, 0);
    assert.equal(livekit.calls.filter((c) => c.method === "DeleteRoom").length, 1);
  }));

Deno.test("concurrency - joins racing the last leave: ended exactly when no join got in", () =>
  withRooms(async ({ app, host }) => {
    const crowd = await createUsersQuickly(app, 30);
    for (let round = 0; round < 5; round++) {
      const room = await createRoom(app, host);
      const path = `/api/livekit/rooms/${room.id}`;
      await call(app, "POST", `${path}/join`, { token: host.token });
      const [leave, ...joins] = await Promise.all([
        call(app, "POST", `${path}/leave`, { token: host.token }),
        ...crowd.map((u) => call(app, "POST", `${path}/join`, { token: u.token })),
      ]);
      assert.equal(leave.status, 200);
      const admitted = joins.filter((r) => r.status === 200).length;
      assert.ok(joins.every((r) => r.status === 200 || r.status === 410));
      const now = (await call(app, "GET", path, { token: host.token })).body;
      assert.equal(now.in_call_count, admitted);
      assert.equal(
        now.status,
        admitted === 0 ? "ended" : "active",
        `round ${round}: ${admitted} admitted`,
      );
    }
  }));
