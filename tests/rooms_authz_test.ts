// Every room, token and invite route × every kind of caller → the status the contract gives.
// Each cell runs on a room of its own, so no cell's change of state leaks into another.
import assert from "node:assert/strict";
import { call, type TestUser } from "./harness.ts";
import { createRoom, withRooms } from "./rooms_fixture.ts";

type Caller = "anonymous" | "stranger" | "participant" | "creator";
const CALLERS: Caller[] = ["anonymous", "stranger", "participant", "creator"];

interface Cell {
  id: string;
  invite: string;
  /** The invited participant (connected to LiveKit's room, publishing TR_cell). */
  member: string;
  /** A contact of the host who is not in the room yet. */
  other: string;
}

interface Route {
  method: string;
  /** Builds the path from the cell's room, the call ringing its participant, another contact. */
  path: (r: Cell) => string;
  body?: (r: Cell) => unknown;
  expect: Record<Caller, number>;
}

const ROUTES: Route[] = [
  {
    method: "POST",
    path: () => "/api/livekit/rooms",
    body: () => ({ room_name: "Mine", call_type: "video" }),
    expect: { anonymous: 401, stranger: 201, participant: 201, creator: 201 },
  },
  {
    method: "GET",
    path: () => "/api/livekit/rooms",
    expect: { anonymous: 401, stranger: 200, participant: 200, creator: 200 },
  },
  {
    method: "GET",
    path: ({ id }) => `/api/livekit/rooms/${id}`,
    expect: { anonymous: 401, stranger: 200, participant: 200, creator: 200 },
  },
  {
    method: "POST",
    path: ({ id }) => `/api/livekit/rooms/${id}/join`,
    expect: { anonymous: 401, stranger: 200, participant: 200, creator: 200 },
  },
  {
    method: "POST",
    path: ({ id }) => `/api/livekit/rooms/${id}/leave`,
    expect: { anonymous: 401, stranger: 403, participant: 200, creator: 200 },
  },
  {
    method: "DELETE",
    path: ({ id }) => `/api/livekit/rooms/${id}`,
    expect: { anonymous: 401, stranger: 403, participant: 403, creator: 204 },
  },
  {
    method: "POST",
    path: () => "/api/livekit/token",
    body: ({ id }) => ({ room_name: id }),
    expect: { anonymous: 401, stranger: 403, participant: 200, creator: 200 },
  },
  {
    method: "POST",
    path: ({ id }) => `/api/livekit/rooms/${id}/guest`,
    body: () => ({ display_name: "Guest" }),
    expect: { anonymous: 200, stranger: 200, participant: 200, creator: 200 },
  },
  // Only a guest pass for this room gets a guest token (tests/guests_test.ts); sessions do not.
  {
    method: "POST",
    path: ({ id }) => `/api/livekit/rooms/${id}/guest/token`,
    expect: { anonymous: 401, stranger: 401, participant: 401, creator: 401 },
  },
  {
    method: "POST",
    path: ({ id }) => `/api/livekit/rooms/${id}/invite`,
    body: ({ other }) => ({ participants: [other] }),
    expect: { anonymous: 401, stranger: 403, participant: 403, creator: 200 },
  },
  {
    method: "GET",
    path: () => "/api/invites",
    expect: { anonymous: 401, stranger: 200, participant: 200, creator: 200 },
  },
  {
    method: "DELETE",
    path: ({ id, member }) => `/api/livekit/rooms/${id}/participants/${member}`,
    expect: { anonymous: 401, stranger: 403, participant: 403, creator: 204 },
  },
  {
    method: "POST",
    path: ({ id, member }) => `/api/livekit/rooms/${id}/participants/${member}/mute`,
    body: () => ({ track_sid: "TR_cell" }),
    expect: { anonymous: 401, stranger: 403, participant: 403, creator: 200 },
  },
  // Someone else's call is not found, whoever asks.
  {
    method: "POST",
    path: ({ invite }) => `/api/invites/${invite}/accept`,
    expect: { anonymous: 401, stranger: 404, participant: 200, creator: 404 },
  },
  {
    method: "POST",
    path: ({ invite }) => `/api/invites/${invite}/decline`,
    expect: { anonymous: 401, stranger: 404, participant: 200, creator: 404 },
  },
  {
    method: "POST",
    path: ({ invite }) => `/api/invites/${invite}/cancel`,
    expect: { anonymous: 401, stranger: 404, participant: 404, creator: 200 },
  },
];

Deno.test("authorization - every room and token route for every kind of caller", () =>
  withRooms(async ({ app, host, friends, stranger, livekit }) => {
    const who: Record<Caller, TestUser | null> = {
      anonymous: null,
      stranger,
      participant: friends[0],
      creator: host,
    };
    const failures: string[] = [];
    for (const route of ROUTES) {
      for (const caller of CALLERS) {
        const room = await createRoom(app, host, { participants: [friends[0].id] });
        const [{ invite }] = await app.sql<{ invite: string }[]>`
          select id::text as invite from invites where room_id = ${room.id}`;
        livekit.connect(room.id, friends[0].id, ["TR_cell"]);
        const cell = { id: room.id, invite, member: friends[0].id, other: friends[1].id };
        const user = who[caller];
        const res = await call(app, route.method, route.path(cell), {
          token: user?.token,
          json: route.body?.(cell),
        });
        const want = route.expect[caller];
        if (res.status !== want) {
          failures.push(
            `${route.method} ${
              route.path({ id: ":id", invite: ":invite", member: ":member", other: "" })
            } as ${caller}: ${res.status}, want ${want}`,
          );
        }
        if (res.status >= 400) assert.equal(typeof res.body.error.code, "string");
      }
    }
    assert.deepEqual(failures, []);
  }, {
    // A meeting per case, each ringing the same friend: about authorization, not throttles.
    limits: {
      ringsPerPair: { max: 1000, windowSeconds: 600 },
      ringsPerPerson: { max: 1000, windowSeconds: 600 },
      ringsPerCaller: { max: 1000, windowSeconds: 600 },
      roomsPerCaller: { max: 1000, windowSeconds: 600 },
    },
  }));
