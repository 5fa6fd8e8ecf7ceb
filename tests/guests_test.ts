// Guest passes: what a browser holding one for a meeting may get, and what it may not.
import assert from "node:assert/strict";
import { call } from "./harness.ts";
import { connects, guestJoins } from "./livekit_webhook.ts";
import { LiveKit } from "../lib/meetings/livekit.ts";
import { reconcilePresence } from "../lib/meetings/presence.ts";
import { createRoom, withRooms } from "./rooms_fixture.ts";

const tokenFor = (app: { base: string }, room: string, cookie?: string, origin?: string | null) =>
  call(app, "POST", `/api/livekit/rooms/${room}/guest/token`, { cookie, origin });

Deno.test("guests - a pass gets fresh tokens for its own meeting only, under the same identity", () =>
  withRooms(async ({ app, host }) => {
    const room = await createRoom(app, host);
    const other = await createRoom(app, host);
    const grace = await guestJoins(app, room.id, "Grace");
    assert.match(grace.identity, /^guest-[0-9a-f]{16}$/);

    const fresh = await tokenFor(app, room.id, grace.cookie);
    assert.equal(fresh.status, 200);
    const claims = JSON.parse(
      atob(fresh.body.token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")),
    );
    assert.equal(claims.sub, grace.identity);
    assert.equal(claims.name, "Grace");
    assert.equal(JSON.parse(claims.metadata).role, "guest");
    assert.equal(claims.video.room, room.id);

    // The pass is for one meeting; a forged or altered pass is nothing.
    const elsewhere = grace.cookie.replace(`urbania_guest_${room.id}`, `urbania_guest_${other.id}`);
    assert.equal((await tokenFor(app, other.id, elsewhere)).status, 401);
    const [name, value] = grace.cookie.split("=");
    const tampered = `${name}=${value.slice(0, -2)}${value.endsWith("AA") ? "BB" : "AA"}`;
    assert.equal((await tokenFor(app, room.id, tampered)).status, 401);
    assert.equal((await tokenFor(app, room.id, `${name}=garbage`)).status, 401);
    assert.equal((await tokenFor(app, room.id)).body.error.code, "guest_pass_required");
    // The cookie is a credential: another site's page cannot use it.
    const foreign = await tokenFor(app, room.id, grace.cookie, "https://evil.example");
    assert.equal(foreign.status, 403);
    assert.equal((await tokenFor(app, room.id, grace.cookie, null)).status, 403);

    // Joining again from the same browser keeps the identity and takes the new name.
    const again = await call(app, "POST", `/api/livekit/rooms/${room.id}/guest`, {
      cookie: grace.cookie,
      json: { display_name: "Grace H." },
    });
    assert.equal(again.status, 200);
    const renamed = JSON.parse(
      atob(again.body.token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")),
    );
    assert.equal(renamed.sub, grace.identity);
    assert.equal(renamed.name, "Grace H.");
    // The pass cookie is HttpOnly and scoped as the session's is.
    const set = again.headers.getSetCookie().find((c) =>
      c.startsWith(`urbania_guest_${room.id}=`)
    )!;
    assert.match(set, /HttpOnly/i);
    assert.match(set, /SameSite=Lax/i);
  }));

Deno.test("guests - no token once guests are refused or the meeting ended", () =>
  withRooms(async ({ app, host }) => {
    const room = await createRoom(app, host);
    const grace = await guestJoins(app, room.id, "Grace");
    await app.sql`update rooms set allow_guests = false where id = ${room.id}`;
    const refused = await tokenFor(app, room.id, grace.cookie);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, "guests_not_allowed");
    await app.sql`update rooms set allow_guests = true where id = ${room.id}`;
    assert.equal((await tokenFor(app, room.id, grace.cookie)).status, 200);
    const ended = await call(app, "DELETE", `/api/livekit/rooms/${room.id}`, { token: host.token });
    assert.equal(ended.status, 204);
    const late = await tokenFor(app, room.id, grace.cookie);
    assert.equal(late.status, 410);
    // No pass is held for a meeting that does not exist: nothing tells whether it exists.
    assert.equal((await tokenFor(app, "aaaa-aaaa-aaaa", grace.cookie)).status, 401);
  }));

Deno.test("guests - the presence clock takes out a guest LiveKit no longer lists, as it does members", () =>
  withRooms(async ({ app, host, livekit }) => {
    const room = await createRoom(app, host);
    const gus = await guestJoins(app, room.id, "Gus");
    await connects(app, room.id, gus.identity);
    const view = async () =>
      (await call(app, "GET", `/api/livekit/rooms/${room.id}`, { token: host.token })).body;
    assert.equal((await view()).guests_in_call, 1);
    // LiveKit lists nobody (its departure webhook was lost): the guest is out.
    assert.equal(livekit.calls.length, 0);
    const pass = await reconcilePresence(app.sql, new LiveKit(app.config), {
      graceSeconds: 0,
      departureSeconds: 120,
    });
    assert.deepEqual(pass, { takenOut: 1, ended: 0 });
    const after = await view();
    assert.equal(after.guests_in_call, 0);
    assert.equal(after.in_call_count, 0);
  }));
