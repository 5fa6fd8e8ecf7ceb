// Every route of the lobby, roles, hands and moderation × every kind of caller → the status the
// contract gives. Each cell has a meeting of its own (knock), with a member (Fred) and a
// co-host (Fiona) connected, and a guest waiting in its lobby; the guest caller holds that
// waiting browser's ticket.
import assert from "node:assert/strict";
import { call, type TestUser } from "./harness.ts";
import { createRoom, withRooms } from "./rooms_fixture.ts";

type Caller = "anonymous" | "stranger" | "guest" | "member" | "cohost" | "host";
const CALLERS: Caller[] = ["anonymous", "stranger", "guest", "member", "cohost", "host"];

interface Cell {
  id: string;
  /** The waiting guest's knock. */
  knock: string;
  member: string;
  cohost: string;
}

interface Route {
  method: string;
  path: (c: Cell) => string;
  body?: unknown;
  expect: Record<Caller, number>;
}

const MODERATORS = { anonymous: 401, stranger: 403, guest: 401, member: 403 };

const ROUTES: Route[] = [
  {
    method: "PATCH",
    path: ({ id }) => `/api/livekit/rooms/${id}`,
    body: { locked: true },
    expect: { ...MODERATORS, cohost: 200, host: 200 },
  },
  {
    method: "PUT",
    path: ({ id, member }) => `/api/livekit/rooms/${id}/cohosts/${member}`,
    expect: { ...MODERATORS, cohost: 403, host: 200 },
  },
  {
    method: "DELETE",
    path: ({ id, cohost }) => `/api/livekit/rooms/${id}/cohosts/${cohost}`,
    expect: { ...MODERATORS, cohost: 403, host: 200 },
  },
  // Anyone not on the list may ask (a guest by name); those on it need not.
  {
    method: "POST",
    path: ({ id }) => `/api/livekit/rooms/${id}/knock`,
    body: { display_name: "Someone" },
    expect: { anonymous: 201, stranger: 201, guest: 201, member: 409, cohost: 409, host: 409 },
  },
  // A knock is its browser's alone: only the ticket reads, withdraws or uses it.
  {
    method: "GET",
    path: ({ id }) => `/api/livekit/rooms/${id}/knock`,
    expect: { anonymous: 401, stranger: 401, guest: 200, member: 401, cohost: 401, host: 401 },
  },
  {
    method: "DELETE",
    path: ({ id }) => `/api/livekit/rooms/${id}/knock`,
    expect: { anonymous: 401, stranger: 401, guest: 204, member: 401, cohost: 401, host: 401 },
  },
  {
    method: "POST",
    path: ({ id }) => `/api/livekit/rooms/${id}/knock/enter`,
    expect: { anonymous: 401, stranger: 401, guest: 409, member: 401, cohost: 401, host: 401 },
  },
  {
    method: "GET",
    path: ({ id }) => `/api/livekit/rooms/${id}/lobby`,
    expect: { ...MODERATORS, cohost: 200, host: 200 },
  },
  {
    method: "POST",
    path: ({ id, knock }) => `/api/livekit/rooms/${id}/knocks/${knock}/admit`,
    expect: { ...MODERATORS, cohost: 200, host: 200 },
  },
  {
    method: "POST",
    path: ({ id, knock }) => `/api/livekit/rooms/${id}/knocks/${knock}/deny`,
    expect: { ...MODERATORS, cohost: 200, host: 200 },
  },
  {
    method: "POST",
    path: ({ id }) => `/api/livekit/rooms/${id}/knocks/admit-all`,
    expect: { ...MODERATORS, cohost: 200, host: 200 },
  },
  // One's own hand, when in the call: a waiting guest is not.
  {
    method: "POST",
    path: ({ id }) => `/api/livekit/rooms/${id}/hand`,
    body: { raised: true },
    expect: { anonymous: 401, stranger: 403, guest: 401, member: 200, cohost: 200, host: 200 },
  },
  {
    method: "DELETE",
    path: ({ id }) => `/api/livekit/rooms/${id}/hands`,
    expect: { ...MODERATORS, cohost: 200, host: 200 },
  },
  {
    method: "DELETE",
    path: ({ id, member }) => `/api/livekit/rooms/${id}/participants/${member}/hand`,
    expect: { ...MODERATORS, cohost: 200, host: 200 },
  },
  {
    method: "POST",
    path: ({ id }) => `/api/livekit/rooms/${id}/mute-all`,
    expect: { ...MODERATORS, cohost: 200, host: 200 },
  },
  {
    method: "DELETE",
    path: ({ id, member }) => `/api/livekit/rooms/${id}/participants/${member}`,
    expect: { ...MODERATORS, cohost: 204, host: 204 },
  },
  {
    method: "POST",
    path: ({ id, member }) => `/api/livekit/rooms/${id}/participants/${member}/mute`,
    body: { track_sid: "TR_cell" },
    expect: { ...MODERATORS, cohost: 200, host: 200 },
  },
  // Ending for everyone stays the creator's.
  {
    method: "DELETE",
    path: ({ id }) => `/api/livekit/rooms/${id}`,
    expect: { ...MODERATORS, cohost: 403, host: 204 },
  },
  // Contacts: the signed-in person's own; a guest's ticket is no account.
  {
    method: "GET",
    path: () => "/api/contacts/requests",
    expect: { anonymous: 401, stranger: 200, guest: 401, member: 200, cohost: 200, host: 200 },
  },
  {
    method: "POST",
    path: () => "/api/contacts",
    body: { email: "someone@example.test" },
    expect: { anonymous: 401, stranger: 202, guest: 401, member: 202, cohost: 202, host: 202 },
  },
  {
    method: "GET",
    path: () => "/api/contacts/blocks",
    expect: { anonymous: 401, stranger: 200, guest: 401, member: 200, cohost: 200, host: 200 },
  },
];

Deno.test("authorization - every lobby, role, hand and moderation route for every kind of caller", () =>
  withRooms(async ({ app, host, friends, stranger, livekit }) => {
    const [fred, fiona] = friends;
    const failures: string[] = [];
    for (const route of ROUTES) {
      for (const caller of CALLERS) {
        const room = await createRoom(app, host, {
          entry: "knock",
          participants: [fred.id, fiona.id],
        });
        await call(app, "PUT", `/api/livekit/rooms/${room.id}/cohosts/${fiona.id}`, {
          token: host.token,
        });
        for (const who of [host, fred, fiona]) livekit.connect(room.id, who.id, ["TR_cell"]);
        const knocked = await call(app, "POST", `/api/livekit/rooms/${room.id}/knock`, {
          json: { display_name: "Waiting guest" },
        });
        const ticket = knocked.headers.getSetCookie()[0].split(";")[0];
        const cell = { id: room.id, knock: knocked.body.id, member: fred.id, cohost: fiona.id };
        const users: Record<Caller, TestUser | null> = {
          anonymous: null,
          stranger,
          guest: null,
          member: fred,
          cohost: fiona,
          host,
        };
        const res = await call(app, route.method, route.path(cell), {
          token: users[caller]?.token,
          cookie: caller === "guest" ? ticket : undefined,
          json: route.body,
        });
        const want = route.expect[caller];
        if (res.status !== want) {
          const shown = route.path({ id: ":id", knock: ":knock", member: ":fred", cohost: ":fi" });
          failures.push(
            `${route.method} ${shown} as ${caller}: ${res.status} ${
              JSON.stringify(res.body?.error?.code ?? "")
            }, want ${want}`,
          );
        }
        if (res.status >= 400) assert.equal(typeof res.body.error.code, "string");
      }
    }
    assert.deepEqual(failures, []);
  }, {
    limits: {
      roomsPerCaller: { max: 10_000, windowSeconds: 600 },
      ringsPerPair: { max: 10_000, windowSeconds: 600 },
      ringsPerPerson: { max: 10_000, windowSeconds: 600 },
      ringsPerCaller: { max: 10_000, windowSeconds: 600 },
      knocksPerAddress: { max: 10_000, windowSeconds: 600 },
      contactAdds: { max: 10_000, windowSeconds: 600 },
    },
  }));
