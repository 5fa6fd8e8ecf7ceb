// The real-time channel with real sockets and real PostgreSQL: calls ring every tab of the
// person called, answers reach the caller, unanswered calls become missed, ended meetings stop
// ringing, and events cross instances through the database.
import assert from "node:assert/strict";
import {
  addContacts,
  call,
  registerUser,
  startApp,
  type TestApp,
  type TestUser,
  withApp,
} from "./harness.ts";
import { connects } from "./livekit_webhook.ts";
import { TestSocket } from "./ws_client.ts";

async function people(app: TestApp) {
  const ada = await registerUser(app, { display_name: "Ada" });
  const bob = await registerUser(app, { display_name: "Bob" });
  const cy = await registerUser(app, { display_name: "Cy" });
  await addContacts(app, ada, [bob, cy]);
  return { ada, bob, cy };
}

async function meeting(app: TestApp, host: TestUser, invitees: TestUser[], name = "Design review") {
  const res = await call(app, "POST", "/api/livekit/rooms", {
    token: host.token,
    json: { room_name: name, call_type: "video", participants: invitees.map((u) => u.id) },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body as { id: string };
}

Deno.test("realtime - a new meeting rings every tab of each invitee; a decline reaches the caller", () =>
  withApp(async (app) => {
    const { ada, bob, cy } = await people(app);
    const adaTab = await TestSocket.open(app, { cookie: ada.cookie });
    const bobTabs = [
      await TestSocket.open(app, { cookie: bob.cookie }),
      await TestSocket.open(app, { token: bob.token }),
    ];
    const cyTab = await TestSocket.open(app, { token: cy.token });
    for (const s of [adaTab, ...bobTabs, cyTab]) {
      assert.deepEqual((await s.next("sync")).invites, [], "nothing rings yet");
    }

    const room = await meeting(app, ada, [bob]);
    for (const tab of bobTabs) {
      const { invite } = await tab.next("invite");
      assert.equal(invite.room_id, room.id);
      assert.equal(invite.room_name, "Design review");
      assert.equal(invite.call_type, "video");
      assert.deepEqual(invite.from, { id: ada.id, display_name: "Ada" });
      assert.equal(invite.status, "pending");
      assert.ok(invite.expires_in > 50 && invite.expires_in <= 60, `${invite.expires_in}`);
    }
    assert.ok(await cyTab.none("invite"), "Cy was not invited");
    // The caller's view of the meeting shows Bob ringing.
    const updated = await adaTab.next("room_updated", (m) => m.room_id === room.id);
    assert.equal(updated.room.participants.find((p) => p.id === bob.id)?.invite?.status, "pending");

    const inviteId = (await call(app, "GET", "/api/invites", { token: bob.token })).body[0].id;
    const declined = await call(app, "POST", `/api/invites/${inviteId}/decline`, {
      token: bob.token,
    });
    assert.equal(declined.status, 200);
    for (const s of [adaTab, ...bobTabs]) {
      const answer = await s.next("invite_answered");
      assert.deepEqual(answer, {
        type: "invite_answered",
        invite_id: inviteId,
        room_id: room.id,
        user_id: bob.id,
        status: "declined",
      });
    }
    const after = await adaTab.next(
      "room_updated",
      (m) => m.room.participants.find((p) => p.id === bob.id)?.invite?.status === "declined",
    );
    assert.equal(after.room.status, "waiting");
    assert.deepEqual((await call(app, "GET", "/api/invites", { token: bob.token })).body, []);
    // Declining again changes nothing; accepting a declined call is refused.
    assert.equal(
      (await call(app, "POST", `/api/invites/${inviteId}/decline`, { token: bob.token })).status,
      200,
    );
    const late = await call(app, "POST", `/api/invites/${inviteId}/accept`, { token: bob.token });
    assert.equal(late.status, 409);
    assert.equal(late.body.error.code, "invite_declined");
    for (const s of [adaTab, ...bobTabs, cyTab]) await s.close();
  }));

Deno.test("realtime - accepting joins the call; every tab of the invitee stops ringing", () =>
  withApp(async (app) => {
    const { ada, bob } = await people(app);
    const adaTab = await TestSocket.open(app, { token: ada.token });
    const bobTabs = [
      await TestSocket.open(app, { token: bob.token }),
      await TestSocket.open(app, { token: bob.token }),
    ];
    const room = await meeting(app, ada, [bob]);
    const { invite } = await bobTabs[0].next("invite");
    await bobTabs[1].next("invite");

    const accepted = await call(app, "POST", `/api/invites/${invite.id}/accept`, {
      token: bob.token,
    });
    assert.equal(accepted.status, 200);
    assert.equal(accepted.body.id, room.id);
    // Accepting makes Bob a participant; he is in the call once LiveKit reports him.
    assert.equal(accepted.body.status, "waiting");
    const me = accepted.body.participants.find((p: { id: string }) => p.id === bob.id);
    assert.equal(me.in_call, false);
    assert.deepEqual(me.invite, { id: invite.id, status: "accepted" });
    for (const s of [adaTab, ...bobTabs]) {
      assert.equal((await s.next("invite_answered")).status, "accepted");
    }
    await connects(app, room.id, bob.id);
    await adaTab.next("room_updated", (m) => m.room.in_call_count === 1);
    // A second tab accepting too is harmless; declining after accepting is not possible.
    const again = await call(app, "POST", `/api/invites/${invite.id}/accept`, { token: bob.token });
    assert.equal(again.status, 200);
    const decline = await call(app, "POST", `/api/invites/${invite.id}/decline`, {
      token: bob.token,
    });
    assert.equal(decline.status, 409);
    for (const s of [adaTab, ...bobTabs]) await s.close();
  }));

Deno.test("realtime - an unanswered call becomes missed, for the caller and the callee", () =>
  withApp(async (app) => {
    const { ada, bob } = await people(app);
    const adaTab = await TestSocket.open(app, { token: ada.token });
    const bobTab = await TestSocket.open(app, { token: bob.token });
    const room = await meeting(app, ada, [bob], "Quick question");
    const { invite } = await bobTab.next("invite");
    assert.ok(invite.expires_in <= 1);
    for (const s of [adaTab, bobTab]) {
      const missed = await s.next("invite_answered", () => true, 5000);
      assert.equal(missed.invite_id, invite.id);
      assert.equal(missed.status, "missed");
    }
    await adaTab.next(
      "room_updated",
      (m) => m.room.participants.find((p) => p.id === bob.id)?.invite?.status === "missed",
    );
    // Listed as a missed call; too late to accept.
    const listed = (await call(app, "GET", "/api/invites", { token: bob.token })).body;
    assert.equal(listed.length, 1);
    assert.equal(listed[0].status, "missed");
    assert.equal(listed[0].room_name, "Quick question");
    assert.equal(listed[0].expires_in, 0);
    const late = await call(app, "POST", `/api/invites/${invite.id}/accept`, { token: bob.token });
    assert.equal(late.status, 410);
    assert.equal(late.body.error.code, "invite_missed");
    // The meeting itself is still open to Bob.
    const join = await call(app, "POST", `/api/livekit/rooms/${room.id}/join`, {
      token: bob.token,
    });
    assert.equal(join.status, 200);
    await adaTab.close();
    await bobTab.close();
  }, { env: { INVITE_RING_SECONDS: "1" }, realtime: { sweepIntervalMs: 100 } }));

Deno.test("realtime - a withdrawn call and an ended meeting stop the ringing", () =>
  withApp(async (app) => {
    const { ada, bob, cy } = await people(app);
    const adaTab = await TestSocket.open(app, { token: ada.token });
    const bobTab = await TestSocket.open(app, { token: bob.token });
    const cyTab = await TestSocket.open(app, { token: cy.token });
    const room = await meeting(app, ada, [bob, cy]);
    const bobInvite = (await bobTab.next("invite")).invite;
    const cyInvite = (await cyTab.next("invite")).invite;

    // Only the caller can withdraw a call; to anyone else it does not exist.
    const notYours = await call(app, "POST", `/api/invites/${bobInvite.id}/cancel`, {
      token: cy.token,
    });
    assert.equal(notYours.status, 404);
    const withdrawn = await call(app, "POST", `/api/invites/${bobInvite.id}/cancel`, {
      token: ada.token,
    });
    assert.equal(withdrawn.status, 200);
    assert.deepEqual(await bobTab.next("invite_cancelled"), {
      type: "invite_cancelled",
      invite_id: bobInvite.id,
      room_id: room.id,
      reason: "withdrawn",
    });
    assert.ok(await cyTab.none("invite_cancelled"), "Cy is still rung");
    const accept = await call(app, "POST", `/api/invites/${bobInvite.id}/accept`, {
      token: bob.token,
    });
    assert.equal(accept.status, 410);
    assert.equal(accept.body.error.code, "invite_cancelled");

    assert.equal(
      (await call(app, "DELETE", `/api/livekit/rooms/${room.id}`, { token: ada.token })).status,
      204,
    );
    const ended = await cyTab.next("invite_cancelled");
    assert.equal(ended.invite_id, cyInvite.id);
    assert.equal(ended.reason, "ended");
    const gone = await cyTab.next("room_updated", (m) => m.room.status === "ended");
    assert.deepEqual(gone.room.participants.find((p) => p.id === cy.id)?.invite, {
      id: cyInvite.id,
      status: "cancelled",
    });
    assert.deepEqual((await call(app, "GET", "/api/invites", { token: cy.token })).body, []);
    for (const s of [adaTab, bobTab, cyTab]) await s.close();
  }));

Deno.test("realtime - a socket that connects late is sent what is ringing it", () =>
  withApp(async (app) => {
    const { ada, bob } = await people(app);
    const room = await meeting(app, ada, [bob], "Catch-up");
    const bobTab = await TestSocket.open(app, { cookie: bob.cookie });
    const { invites } = await bobTab.next("sync");
    assert.equal(invites.length, 1);
    assert.equal(invites[0].room_id, room.id);
    assert.equal(invites[0].room_name, "Catch-up");
    assert.equal(invites[0].status, "pending");
    // Asking again gives the same picture.
    bobTab.send(JSON.stringify({ type: "sync" }));
    assert.deepEqual((await bobTab.next("sync")).invites, invites);
    await bobTab.close();
  }));

Deno.test("realtime - the host rings more contacts into a running call", () =>
  withApp(async (app) => {
    const { ada, bob, cy } = await people(app);
    const room = await meeting(app, ada, [bob]);
    await call(app, "POST", `/api/livekit/rooms/${room.id}/join`, { token: ada.token });
    const cyTab = await TestSocket.open(app, { token: cy.token });
    const path = `/api/livekit/rooms/${room.id}/invite`;

    const res = await call(app, "POST", path, {
      token: ada.token,
      json: { participants: [cy.id] },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.rung, 1);
    assert.equal(
      res.body.room.participants.find((p: { id: string }) => p.id === cy.id).invite.status,
      "pending",
    );
    const { invite } = await cyTab.next("invite");
    assert.equal(invite.room_id, room.id);

    // Already ringing: not rung twice. The host is never rung.
    const twice = await call(app, "POST", path, {
      token: ada.token,
      json: { participants: [cy.id, ada.id] },
    });
    assert.equal(twice.body.rung, 0);
    assert.ok(await cyTab.none("invite"));
    // Declined, then rung again: a new call.
    await call(app, "POST", `/api/invites/${invite.id}/decline`, { token: cy.token });
    const again = await call(app, "POST", path, {
      token: ada.token,
      json: { participants: [cy.id] },
    });
    assert.equal(again.body.rung, 1);
    assert.notEqual((await cyTab.next("invite")).invite.id, invite.id);

    const stranger = await registerUser(app);
    const bad = await call(app, "POST", path, {
      token: ada.token,
      json: { participants: [stranger.id] },
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, "not_contacts");
    const empty = await call(app, "POST", path, { token: ada.token, json: { participants: [] } });
    assert.equal(empty.status, 400);
    const notHost = await call(app, "POST", path, {
      token: bob.token,
      json: { participants: [cy.id] },
    });
    assert.equal(notHost.status, 403);
    await call(app, "DELETE", `/api/livekit/rooms/${room.id}`, { token: ada.token });
    const ended = await call(app, "POST", path, {
      token: ada.token,
      json: { participants: [cy.id] },
    });
    assert.equal(ended.status, 410);
    await cyTab.close();
  }));

Deno.test("realtime - two instances on one database: a call made on one rings on the other", async () => {
  const first = await startApp();
  const second = await startApp({ shareDatabase: first.db });
  try {
    const { ada, bob } = await people(first);
    const adaTab = await TestSocket.open(first, { token: ada.token });
    const bobTab = await TestSocket.open(second, { token: bob.token });
    await bobTab.next("sync");
    const room = await meeting(first, ada, [bob]);
    const { invite } = await bobTab.next("invite");
    assert.equal(invite.room_id, room.id);
    assert.deepEqual(invite.from, { id: ada.id, display_name: "Ada" });
    // And back: the answer given on the second reaches the caller on the first.
    const res = await call(second, "POST", `/api/invites/${invite.id}/accept`, {
      token: bob.token,
    });
    assert.equal(res.status, 200);
    assert.equal((await adaTab.next("invite_answered")).status, "accepted");
    // LiveKit reports Bob's connection to the second instance; Ada hears of it on the first.
    await connects(second, room.id, bob.id);
    await adaTab.next("room_updated", (m) => m.room.in_call_count === 1);
    await adaTab.close();
    await bobTab.close();
  } finally {
    await second.stop();
    await first.stop();
  }
});
