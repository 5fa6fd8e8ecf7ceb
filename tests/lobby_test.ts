// The lobby, entry policies, the lock and co-hosts, through the API and the sockets: who may
// enter how, what every host's tab and the waiting browser hear, and the races between them.
import assert from "node:assert/strict";
import { decodeJwt } from "jose";
import { call, startApp, type TestApp, type TestUser, waitersOnLock } from "./harness.ts";
import { createRoom, withRooms } from "./rooms_fixture.ts";
import { rawUpgrade, TestSocket } from "./ws_client.ts";
import type { LobbyMessage } from "../protocol/ws.ts";
import { knock as knockLib, MAX_WAITING_PER_MEETING } from "../lib/meetings/lobby.ts";
import { MAX_WAITING_TABS } from "../lib/realtime/lobby_sockets.ts";

/** The `name=value` of a cookie a response set. */
function cookieOf(headers: Headers, prefix: string): string {
  const set = headers.getSetCookie().find((c) => c.startsWith(prefix));
  if (!set) throw new Error(`no ${prefix} cookie was set`);
  return set.split(";")[0];
}

async function guestKnocks(app: TestApp, room: string, name: string) {
  const res = await call(app, "POST", `/api/livekit/rooms/${room}/knock`, {
    json: { display_name: name },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { knock: res.body, cookie: cookieOf(res.headers, `urbania_knock_${room}=`) };
}

/** The waiting browser's channel. */
const lobbySocket = (app: TestApp, room: string, cookie: string) =>
  TestSocket.open(app, { cookie }, `/ws/lobby?room=${room}`);

type KnockMessage = Extract<LobbyMessage, { type: "knock" }>;
const knockIs = (socket: TestSocket, status: string) =>
  socket.next("knock", (m) => (m as KnockMessage).knock.status === status) as Promise<
    KnockMessage
  >;

const promote = (app: TestApp, host: TestUser, room: string, who: string) =>
  call(app, "PUT", `/api/livekit/rooms/${room}/cohosts/${who}`, { token: host.token });

Deno.test("lobby - a guest knocks, every host tab hears it, admission lets them in without a reload", () =>
  withRooms(async ({ app, host }) => {
    const room = await createRoom(app, host, { entry: "knock" });
    assert.equal(room.entry, "knock");
    const tabs = [
      await TestSocket.open(app, { token: host.token }),
      await TestSocket.open(app, { token: host.token }),
    ];
    try {
      for (const tab of tabs) assert.deepEqual((await tab.next("sync")).lobbies, []);
      // The link alone no longer lets a guest in.
      const direct = await call(app, "POST", `/api/livekit/rooms/${room.id}/guest`, {
        json: { display_name: "Gus" },
      });
      assert.equal(direct.status, 403);
      assert.equal(direct.body.error.code, "knock_required");

      const { knock, cookie } = await guestKnocks(app, room.id, "Gus");
      assert.equal(knock.status, "waiting");
      assert.equal(knock.host_present, false);
      for (const tab of tabs) {
        const m = await tab.next("lobby");
        assert.deepEqual(m.lobby.waiting.map((k) => [k.display_name, k.guest]), [["Gus", true]]);
      }
      const waiting = await lobbySocket(app, room.id, cookie);
      try {
        assert.equal((await knockIs(waiting, "waiting")).knock.room_name, "Standup");
        // Not in yet: the ticket gets no token.
        const early = await call(app, "POST", `/api/livekit/rooms/${room.id}/knock/enter`, {
          cookie,
        });
        assert.equal(early.status, 409);
        assert.equal(early.body.error.code, "not_admitted");

        const admitted = await call(
          app,
          "POST",
          `/api/livekit/rooms/${room.id}/knocks/${knock.id}/admit`,
          { token: host.token },
        );
        assert.deepEqual(admitted.body, { id: knock.id, status: "admitted" });
        await knockIs(waiting, "admitted");
        for (const tab of tabs) {
          assert.deepEqual(
            (await tab.next("lobby", (m) => m.lobby.waiting.length === 0))
              .lobby.waiting,
            [],
          );
        }
        const entered = await call(app, "POST", `/api/livekit/rooms/${room.id}/knock/enter`, {
          cookie,
        });
        assert.equal(entered.status, 200);
        const claims = decodeJwt(entered.body.token) as { sub: string; metadata: string };
        assert.match(claims.sub, /^guest-[0-9a-f]{16}$/);
        assert.equal(JSON.parse(claims.metadata).role, "guest");
        // From now on the browser is a guest of the meeting: its pass gets fresh tokens.
        const pass = cookieOf(entered.headers, `urbania_guest_${room.id}=`);
        const again = await call(app, "POST", `/api/livekit/rooms/${room.id}/guest/token`, {
          cookie: pass,
        });
        assert.equal(again.status, 200);
        assert.equal((decodeJwt(again.body.token) as { sub: string }).sub, claims.sub);
      } finally {
        await waiting.close();
      }
    } finally {
      for (const tab of tabs) await tab.close();
    }
  }));

Deno.test("lobby - deny, expiry and giving up each reach the waiting browser", () =>
  withRooms(async ({ app, host }) => {
    const room = await createRoom(app, host, { entry: "knock" });
    const hostTab = await TestSocket.open(app, { token: host.token });
    try {
      await hostTab.next("sync");
      // Denied: told so, no way in, and the same browser cannot ask again.
      const denied = await guestKnocks(app, room.id, "Dan");
      const dan = await lobbySocket(app, room.id, denied.cookie);
      await knockIs(dan, "waiting");
      await call(app, "POST", `/api/livekit/rooms/${room.id}/knocks/${denied.knock.id}/deny`, {
        token: host.token,
      });
      await knockIs(dan, "denied");
      await dan.close();
      const enter = await call(app, "POST", `/api/livekit/rooms/${room.id}/knock/enter`, {
        cookie: denied.cookie,
      });
      assert.equal(enter.body.error.code, "not_admitted");
      const retry = await call(app, "POST", `/api/livekit/rooms/${room.id}/knock`, {
        cookie: denied.cookie,
        json: { display_name: "Dan" },
      });
      assert.equal(retry.status, 403);
      assert.equal(retry.body.error.code, "denied");
      // A second answer to a closed knock: 409.
      const late = await call(
        app,
        "POST",
        `/api/livekit/rooms/${room.id}/knocks/${denied.knock.id}/admit`,
        { token: host.token },
      );
      assert.equal(late.status, 409);
      assert.equal(late.body.error.code, "knock_closed");

      // Giving up: the host's lobby empties (an empty list from an earlier step does not count).
      const gave = await guestKnocks(app, room.id, "Gil");
      await hostTab.next("lobby", (m) => m.lobby.waiting.some((k) => k.id === gave.knock.id));
      hostTab.forget();
      const stop = await call(app, "DELETE", `/api/livekit/rooms/${room.id}/knock`, {
        cookie: gave.cookie,
      });
      assert.equal(stop.status, 204);
      await hostTab.next("lobby", (m) => m.lobby.waiting.length === 0);
    } finally {
      await hostTab.close();
    }
  }));

Deno.test("lobby - ending the meeting closes its lobby: the waiting browser is told, the hosts' alert goes", () =>
  withRooms(async ({ app, host }) => {
    const room = await createRoom(app, host, { entry: "knock" });
    const hostTab = await TestSocket.open(app, { token: host.token });
    try {
      await hostTab.next("sync");
      const { knock, cookie } = await guestKnocks(app, room.id, "Eve");
      await hostTab.next("lobby", (m) => m.lobby.waiting.some((k) => k.id === knock.id));
      const waiting = await lobbySocket(app, room.id, cookie);
      try {
        await knockIs(waiting, "waiting");
        const ended = await call(app, "DELETE", `/api/livekit/rooms/${room.id}`, {
          token: host.token,
        });
        assert.equal(ended.status, 204);
        await knockIs(waiting, "ended");
        await hostTab.next(
          "lobby",
          (m) => m.lobby.room_id === room.id && m.lobby.waiting.length === 0,
        );
      } finally {
        await waiting.close();
      }
      const state = await call(app, "GET", `/api/livekit/rooms/${room.id}/knock`, { cookie });
      assert.equal(state.body.status, "ended", JSON.stringify(state.body));
      const enter = await call(app, "POST", `/api/livekit/rooms/${room.id}/knock/enter`, {
        cookie,
      });
      assert.notEqual(enter.status, 200);
    } finally {
      await hostTab.close();
    }
  }));

Deno.test("lobby - a waiting socket lives and dies with its knock: closed once answered, refused after", () =>
  withRooms(async ({ app, host }) => {
    const room = await createRoom(app, host, { entry: "knock" });
    const upgrade = (cookie: string) =>
      rawUpgrade(app, { cookie }, {}, `/ws/lobby?room=${room.id}`);
    const cases: [string, (knock: { id: string }, cookie: string) => Promise<unknown>][] = [
      [
        "denied",
        (k) =>
          call(app, "POST", `/api/livekit/rooms/${room.id}/knocks/${k.id}/deny`, {
            token: host.token,
          }),
      ],
      [
        "cancelled",
        (_k, cookie) => call(app, "DELETE", `/api/livekit/rooms/${room.id}/knock`, { cookie }),
      ],
      [
        "admitted",
        (k) =>
          call(app, "POST", `/api/livekit/rooms/${room.id}/knocks/${k.id}/admit`, {
            token: host.token,
          }),
      ],
    ];
    for (const [status, answer] of cases) {
      const { knock, cookie } = await guestKnocks(app, room.id, `Guest ${status}`);
      const tabs = [
        await lobbySocket(app, room.id, cookie),
        await lobbySocket(app, room.id, cookie),
      ];
      for (const tab of tabs) await knockIs(tab, "waiting");
      await answer(knock, cookie);
      for (const tab of tabs) {
        await knockIs(tab, status);
        // The last message, then the server closes it.
        let timer: ReturnType<typeof setTimeout> | undefined;
        const closed = await Promise.race([
          tab.closed,
          new Promise<null>((r) => timer = setTimeout(() => r(null), 15_000)),
        ]);
        clearTimeout(timer);
        assert.equal(closed?.code, 1000, `${status}: the server closes the socket`);
      }
      // A ticket no longer waiting opens no socket.
      const late = await upgrade(cookie);
      assert.equal(late.status, 409, `${status}: ${late.body}`);
      assert.equal(JSON.parse(late.body).error.code, "knock_closed");
    }
  }));

Deno.test("lobby - one meeting's lobby holds a bounded number of people; the next waits for a place", () =>
  withRooms(async ({ app, host }) => {
    const room = await createRoom(app, host, { entry: "knock" });
    const hostTab = await TestSocket.open(app, { token: host.token });
    try {
      await hostTab.next("sync");
      // Filled as guests behind many addresses would (straight through the domain module).
      const first = await knockLib(app.sql, room.id, { guestName: "Guest 0" }, null, 300);
      for (let i = 1; i < MAX_WAITING_PER_MEETING; i++) {
        await knockLib(app.sql, room.id, { guestName: `Guest ${i}` }, null, 300);
      }
      const full = await call(app, "POST", `/api/livekit/rooms/${room.id}/knock`, {
        json: { display_name: "One too many" },
      });
      assert.equal(full.status, 429, JSON.stringify(full.body));
      assert.equal(full.body.error.code, "lobby_full");
      assert.ok(Number(full.headers.get("Retry-After")) > 0);
      const pushed = await hostTab.next(
        "lobby",
        (m) => m.lobby.waiting.length === MAX_WAITING_PER_MEETING,
      );
      assert.equal(pushed.lobby.waiting.length, MAX_WAITING_PER_MEETING);
      // One answered: a place is free again.
      await call(app, "POST", `/api/livekit/rooms/${room.id}/knocks/${first.knock.id}/deny`, {
        token: host.token,
      });
      const next = await call(app, "POST", `/api/livekit/rooms/${room.id}/knock`, {
        json: { display_name: "Next" },
      });
      assert.equal(next.status, 201, JSON.stringify(next.body));
    } finally {
      await hostTab.close();
    }
  }));

Deno.test("lobby - a host answers only knocks of their own meeting", () =>
  withRooms(async ({ app, host, friends }) => {
    const [fred] = friends;
    const mine = await createRoom(app, host, { entry: "knock" });
    const theirs = await createRoom(app, fred, { entry: "knock" });
    const { knock, cookie } = await guestKnocks(app, theirs.id, "Ivy");
    for (const how of ["admit", "deny"]) {
      const res = await call(
        app,
        "POST",
        `/api/livekit/rooms/${mine.id}/knocks/${knock.id}/${how}`,
        { token: host.token },
      );
      assert.equal(res.status, 404, `${how}: ${JSON.stringify(res.body)}`);
    }
    const state = await call(app, "GET", `/api/livekit/rooms/${theirs.id}/knock`, { cookie });
    assert.equal(state.body.status, "waiting", "the other meeting's knock is untouched");
  }));

Deno.test("lobby - an admitted ticket comes in within 15 minutes, not after", () =>
  withRooms(async ({ app, host }) => {
    const room = await createRoom(app, host, { entry: "knock" });
    const enter = (cookie: string) =>
      call(app, "POST", `/api/livekit/rooms/${room.id}/knock/enter`, { cookie });
    const admitted = async (name: string, minutesAgo: number) => {
      const { knock, cookie } = await guestKnocks(app, room.id, name);
      await call(app, "POST", `/api/livekit/rooms/${room.id}/knocks/${knock.id}/admit`, {
        token: host.token,
      });
      await app.sql`update knocks set answered_at = now() - make_interval(mins => ${minutesAgo})
        where id = ${knock.id}`;
      return cookie;
    };
    assert.equal((await enter(await admitted("Early", 14))).status, 200);
    const late = await enter(await admitted("Late", 16));
    assert.equal(late.status, 401, JSON.stringify(late.body));
  }));

Deno.test("lobby - a closed waiting socket gives its place back to its ticket's tabs", () =>
  withRooms(async ({ app, host }) => {
    const room = await createRoom(app, host, { entry: "knock" });
    const { cookie } = await guestKnocks(app, room.id, "Tab");
    const tabs = [];
    for (let i = 0; i < MAX_WAITING_TABS; i++) tabs.push(await lobbySocket(app, room.id, cookie));
    const upgrade = () => rawUpgrade(app, { cookie }, {}, `/ws/lobby?room=${room.id}`);
    const over = await upgrade();
    assert.equal(over.status, 429, over.body);
    await tabs.pop()!.close();
    // Once the server has seen it close, a new tab of the same ticket opens.
    let again = await upgrade();
    for (let i = 0; i < 100 && again.status !== 101; i++) {
      await new Promise((r) => setTimeout(r, 20));
      again = await upgrade();
    }
    assert.equal(again.status, 101, again.body);
    again.conn.close();
    for (const tab of tabs) await tab.close();
  }));

Deno.test("lobby - an unanswered knock expires with a message, and can be made again", async () => {
  const app = await startApp({ env: { KNOCK_SECONDS: "1" }, realtime: { sweepIntervalMs: 200 } });
  try {
    const { registerUser } = await import("./harness.ts");
    const host = await registerUser(app);
    const room = await createRoom(app, host, { entry: "knock" });
    const { knock, cookie } = await guestKnocks(app, room.id, "Eve");
    const eve = await lobbySocket(app, room.id, cookie);
    try {
      await knockIs(eve, "waiting");
      assert.ok(knock.expires_in <= 1);
      await knockIs(eve, "expired");
      const lobby = await call(app, "GET", `/api/livekit/rooms/${room.id}/lobby`, {
        token: host.token,
      });
      assert.deepEqual(lobby.body, []);
      const admit = await call(
        app,
        "POST",
        `/api/livekit/rooms/${room.id}/knocks/${knock.id}/admit`,
        { token: host.token },
      );
      assert.equal(admit.status, 409);
      const again = await call(app, "POST", `/api/livekit/rooms/${room.id}/knock`, {
        cookie,
        json: { display_name: "Eve" },
      });
      assert.equal(again.status, 201);
      assert.notEqual(again.body.id, knock.id);
    } finally {
      await eve.close();
    }
  } finally {
    await app.stop();
  }
});

Deno.test("lobby - a signed-in link holder knocks and, admitted, becomes a member", () =>
  withRooms(async ({ app, host, stranger, friends }) => {
    const room = await createRoom(app, host, { entry: "knock", participants: [friends[0].id] });
    const join = await call(app, "POST", `/api/livekit/rooms/${room.id}/join`, {
      token: stranger.token,
    });
    assert.equal(join.body.error.code, "knock_required");
    // Someone invited goes straight in.
    const invited = await call(app, "POST", `/api/livekit/rooms/${room.id}/join`, {
      token: friends[0].token,
    });
    assert.equal(invited.status, 200);
    const asked = await call(app, "POST", `/api/livekit/rooms/${room.id}/knock`, {
      token: stranger.token,
      json: {},
    });
    assert.equal(asked.status, 201);
    assert.equal(asked.body.display_name, stranger.display_name);
    const cookie = cookieOf(asked.headers, `urbania_knock_${room.id}=`);
    const member = await call(app, "POST", `/api/livekit/rooms/${room.id}/knock`, {
      token: friends[0].token,
      json: {},
    });
    assert.equal(member.body.error.code, "already_member");
    await call(app, "POST", `/api/livekit/rooms/${room.id}/knocks/${asked.body.id}/admit`, {
      token: host.token,
    });
    // The ticket is bound to the account that knocked.
    const wrong = await call(app, "POST", `/api/livekit/rooms/${room.id}/knock/enter`, {
      token: friends[1].token,
      cookie,
    });
    assert.equal(wrong.status, 403);
    assert.equal(wrong.body.error.code, "wrong_account");
    const entered = await call(app, "POST", `/api/livekit/rooms/${room.id}/knock/enter`, {
      token: stranger.token,
      cookie,
    });
    assert.equal(entered.status, 200);
    assert.equal(decodeJwt(entered.body.token).sub, stranger.id);
    const view = await call(app, "GET", `/api/livekit/rooms/${room.id}`, { token: stranger.token });
    assert.ok(view.body.participants.some((p: { id: string }) => p.id === stranger.id));
    // A member now: later connects take the ordinary way.
    const token = await call(app, "POST", "/api/livekit/token", {
      token: stranger.token,
      json: { room_name: room.id },
    });
    assert.equal(token.status, 200);
  }));

Deno.test("lobby - invited-only refuses the link; a lock refuses newcomers but keeps those let in", () =>
  withRooms(async ({ app, host, friends, stranger }) => {
    const closed = await createRoom(app, host, { entry: "invited", participants: [friends[0].id] });
    for (
      const [path, opts] of [
        ["join", { token: stranger.token }],
        ["knock", { token: stranger.token, json: {} }],
        ["guest", { json: { display_name: "G" } }],
        ["knock", { json: { display_name: "G" } }],
      ] as const
    ) {
      const res = await call(app, "POST", `/api/livekit/rooms/${closed.id}/${path}`, opts);
      assert.equal(res.status, 403, path);
      assert.equal(res.body.error.code, "invited_only", path);
    }
    assert.equal(
      (await call(app, "POST", `/api/livekit/rooms/${closed.id}/join`, {
        token: friends[0].token,
      })).status,
      200,
    );

    const room = await createRoom(app, host, { entry: "open", participants: [friends[0].id] });
    const before = await call(app, "POST", `/api/livekit/rooms/${room.id}/guest`, {
      json: { display_name: "Early" },
    });
    const pass = cookieOf(before.headers, `urbania_guest_${room.id}=`);
    const locked = await call(app, "PATCH", `/api/livekit/rooms/${room.id}`, {
      token: host.token,
      json: { locked: true },
    });
    assert.equal(locked.status, 200);
    assert.equal(locked.body.locked, true);
    for (
      const [path, opts] of [
        ["join", { token: stranger.token }],
        ["guest", { json: { display_name: "Late" } }],
      ] as const
    ) {
      const res = await call(app, "POST", `/api/livekit/rooms/${room.id}/${path}`, opts);
      assert.equal(res.body.error.code, "meeting_locked", path);
    }
    // Those already let in still connect.
    assert.equal(
      (await call(app, "POST", `/api/livekit/rooms/${room.id}/guest/token`, { cookie: pass }))
        .status,
      200,
    );
    assert.equal(
      (await call(app, "POST", `/api/livekit/rooms/${room.id}/join`, {
        token: friends[0].token,
      })).status,
      200,
    );
    await call(app, "PATCH", `/api/livekit/rooms/${room.id}`, {
      token: host.token,
      json: { locked: false },
    });
    assert.equal(
      (await call(app, "POST", `/api/livekit/rooms/${room.id}/join`, { token: stranger.token }))
        .status,
      200,
    );

    // Opening a knocking meeting lets in everyone waiting; invited-only turns them away.
    const knocking = await createRoom(app, host, { entry: "knock" });
    const a = await guestKnocks(app, knocking.id, "A");
    await call(app, "PATCH", `/api/livekit/rooms/${knocking.id}`, {
      token: host.token,
      json: { entry: "open" },
    });
    const aState = await call(app, "GET", `/api/livekit/rooms/${knocking.id}/knock`, {
      cookie: a.cookie,
    });
    assert.equal(aState.body.status, "admitted");
    await call(app, "PATCH", `/api/livekit/rooms/${knocking.id}`, {
      token: host.token,
      json: { entry: "knock" },
    });
    const b = await guestKnocks(app, knocking.id, "B");
    await call(app, "PATCH", `/api/livekit/rooms/${knocking.id}`, {
      token: host.token,
      json: { entry: "invited" },
    });
    const bState = await call(app, "GET", `/api/livekit/rooms/${knocking.id}/knock`, {
      cookie: b.cookie,
    });
    assert.equal(bState.body.status, "denied");
  }));

Deno.test("lobby - co-hosts admit and set the policy; only the host names them and ends the meeting", () =>
  withRooms(async ({ app, host, friends }) => {
    const [fred, fiona] = friends;
    const room = await createRoom(app, host, {
      entry: "knock",
      participants: [fred.id, fiona.id],
    });
    const named = await promote(app, host, room.id, fiona.id);
    assert.equal(named.status, 200);
    assert.equal(
      named.body.participants.find((p: { id: string }) => p.id === fiona.id).role,
      "cohost",
    );
    const fionaTab = await TestSocket.open(app, { token: fiona.token });
    try {
      await fionaTab.next("sync");
      const { knock } = await guestKnocks(app, room.id, "Kim");
      await fionaTab.next("lobby", (m) => m.lobby.waiting.some((k) => k.id === knock.id));
      const admitted = await call(
        app,
        "POST",
        `/api/livekit/rooms/${room.id}/knocks/${knock.id}/admit`,
        { token: fiona.token },
      );
      assert.equal(admitted.status, 200);
    } finally {
      await fionaTab.close();
    }
    const token = await call(app, "POST", "/api/livekit/token", {
      token: fiona.token,
      json: { room_name: room.id },
    });
    assert.equal(JSON.parse(decodeJwt(token.body.token).metadata as string).role, "cohost");
    assert.equal(
      (await call(app, "PATCH", `/api/livekit/rooms/${room.id}`, {
        token: fiona.token,
        json: { entry: "open" },
      })).status,
      200,
    );
    const refusals = [
      await promote(app, fiona, room.id, fred.id),
      await call(app, "DELETE", `/api/livekit/rooms/${room.id}`, { token: fiona.token }),
      await call(app, "DELETE", `/api/livekit/rooms/${room.id}/participants/${host.id}`, {
        token: fiona.token,
      }),
      await call(app, "PATCH", `/api/livekit/rooms/${room.id}`, {
        token: fred.token,
        json: { locked: true },
      }),
    ];
    assert.deepEqual(refusals.map((r) => r.status), [403, 403, 403, 403]);
    // Demoted: no more rights.
    await call(app, "DELETE", `/api/livekit/rooms/${room.id}/cohosts/${fiona.id}`, {
      token: host.token,
    });
    const after = await call(app, "PATCH", `/api/livekit/rooms/${room.id}`, {
      token: fiona.token,
      json: { locked: true },
    });
    assert.equal(after.status, 403);
  }));

/**
 * Runs `requests` one after the other while the room's row is held, each queued behind the
 * lock before the next is sent (so their order is known), then lets them all go.
 */
async function queuedBehindRoomLock<T>(
  app: TestApp,
  room: string,
  requests: (() => Promise<T>)[],
): Promise<T[]> {
  let release!: () => void;
  const held = new Promise<void>((r) => release = r);
  let locked!: () => void;
  const isLocked = new Promise<void>((r) => locked = r);
  const holder = app.sql.begin(async (tx) => {
    await tx`select 1 from rooms where id = ${room} for update`;
    locked();
    await held;
  });
  await isLocked;
  const pending: Promise<T>[] = [];
  for (const [i, request] of requests.entries()) {
    pending.push(request());
    await waitersOnLock(app, i + 1);
  }
  release();
  await holder;
  return await Promise.all(pending);
}

Deno.test("races - two hosts admitting one knock at once let them in once", () =>
  withRooms(async ({ app, host, friends }) => {
    const room = await createRoom(app, host, { entry: "knock", participants: [friends[1].id] });
    await promote(app, host, room.id, friends[1].id);
    const { knock } = await guestKnocks(app, room.id, "Twice");
    const admit = (who: TestUser) => () =>
      call(app, "POST", `/api/livekit/rooms/${room.id}/knocks/${knock.id}/admit`, {
        token: who.token,
      });
    const [a, b] = await queuedBehindRoomLock(app, room.id, [admit(host), admit(friends[1])]);
    assert.deepEqual([a.status, b.status], [200, 200]);
    const guests = await app.sql`select identity from room_guests where room_id = ${room.id}`;
    assert.equal(guests.length, 1);
    const [row] = await app.sql`select answered_by::text from knocks where id = ${knock.id}`;
    assert.equal(row.answered_by, host.id, "the first admission stands");
  }));

Deno.test("races - a knock and a lock: whichever commits first decides", () =>
  withRooms(async ({ app, host }) => {
    const lock = (room: string) => () =>
      call(app, "PATCH", `/api/livekit/rooms/${room}`, {
        token: host.token,
        json: { locked: true },
      });
    const knock = (room: string) => () =>
      call(app, "POST", `/api/livekit/rooms/${room}/knock`, { json: { display_name: "Racer" } });

    const first = await createRoom(app, host, { entry: "knock" });
    const [locked, late] = await queuedBehindRoomLock(app, first.id, [
      lock(first.id),
      knock(first.id),
    ]);
    assert.equal(locked.status, 200);
    assert.equal(late.status, 403);
    assert.equal(late.body.error.code, "meeting_locked");

    const second = await createRoom(app, host, { entry: "knock" });
    const [early, locked2] = await queuedBehindRoomLock(app, second.id, [
      knock(second.id),
      lock(second.id),
    ]);
    assert.equal(early.status, 201);
    assert.equal(locked2.status, 200);
    // The lock keeps those already waiting: still in the lobby, and a host can admit them.
    const lobby = await call(app, "GET", `/api/livekit/rooms/${second.id}/lobby`, {
      token: host.token,
    });
    assert.deepEqual(lobby.body.map((k: { id: string }) => k.id), [early.body.id]);
    const admitted = await call(
      app,
      "POST",
      `/api/livekit/rooms/${second.id}/knocks/${early.body.id}/admit`,
      { token: host.token },
    );
    assert.equal(admitted.status, 200);
  }));

Deno.test("races - a promotion and a removal: a removed person is never left a co-host", () =>
  withRooms(async ({ app, host, friends, livekit }) => {
    const [fred] = friends;
    const promoteFred = (room: string) => () => promote(app, host, room, fred.id);
    const removeFred = (room: string) => () =>
      call(app, "DELETE", `/api/livekit/rooms/${room}/participants/${fred.id}`, {
        token: host.token,
      });
    const state = async (room: string) =>
      (await app.sql`select role, removed_at is not null as removed from room_participants
        where room_id = ${room} and user_id = ${fred.id}`)[0];

    const a = await createRoom(app, host, { entry: "knock", participants: [fred.id] });
    livekit.connect(a.id, fred.id);
    const [removed, promoted] = await queuedBehindRoomLock(app, a.id, [
      removeFred(a.id),
      promoteFred(a.id),
    ]);
    assert.equal(removed.status, 204);
    assert.equal(promoted.status, 404);
    assert.deepEqual(await state(a.id), { role: "member", removed: true });

    const b = await createRoom(app, host, { entry: "knock", participants: [fred.id] });
    livekit.connect(b.id, fred.id);
    const [promoted2, removed2] = await queuedBehindRoomLock(app, b.id, [
      promoteFred(b.id),
      removeFred(b.id),
    ]);
    assert.equal(promoted2.status, 200);
    assert.equal(removed2.status, 204);
    assert.deepEqual(await state(b.id), { role: "member", removed: true });
    // And Fred holds no co-host right there.
    const tries = await call(app, "PATCH", `/api/livekit/rooms/${b.id}`, {
      token: fred.token,
      json: { locked: true },
    });
    assert.equal(tries.status, 403);
  }));

Deno.test("lobby - two instances: the knock reaches the host's instance, the admission the guest's", () =>
  withRooms(async ({ app, host }) => {
    const other = await startApp({ shareDatabase: app.db });
    try {
      const room = await createRoom(app, host, { entry: "knock" });
      const hostTab = await TestSocket.open(app, { token: host.token });
      try {
        await hostTab.next("sync");
        // The guest's browser talks to the other instance only.
        const { knock, cookie } = await guestKnocks(other, room.id, "Far");
        const waiting = await lobbySocket(other, room.id, cookie);
        try {
          await knockIs(waiting, "waiting");
          await hostTab.next("lobby", (m) => m.lobby.waiting.some((k) => k.id === knock.id));
          await call(app, "POST", `/api/livekit/rooms/${room.id}/knocks/${knock.id}/admit`, {
            token: host.token,
          });
          await knockIs(waiting, "admitted");
        } finally {
          await waiting.close();
        }
      } finally {
        await hostTab.close();
      }
    } finally {
      await other.stop();
    }
  }));

Deno.test("lobby - the waiting channel takes only its own ticket, from our own pages", () =>
  withRooms(async ({ app, host }) => {
    const room = await createRoom(app, host, { entry: "knock" });
    const { cookie } = await guestKnocks(app, room.id, "Solo");
    const other = await createRoom(app, host, { entry: "knock" });
    const upgrade = (path: string, headers: Record<string, string>) =>
      call(app, "GET", path, {
        headers: { Upgrade: "websocket", Connection: "Upgrade", ...headers },
      });
    const foreign = await upgrade(`/ws/lobby?room=${room.id}`, {
      Cookie: cookie,
      Origin: "https://evil.test",
    });
    assert.equal(foreign.status, 403);
    const none = await upgrade(`/ws/lobby?room=${room.id}`, { Origin: app.config.publicUrl });
    assert.equal(none.status, 401);
    const elsewhere = await upgrade(`/ws/lobby?room=${other.id}`, {
      Cookie: cookie.replace(room.id, other.id),
      Origin: app.config.publicUrl,
    });
    assert.equal(elsewhere.status, 401);
    const junk = await upgrade("/ws/lobby?room=nope", { Origin: app.config.publicUrl });
    assert.equal(junk.status, 404);
  }));
