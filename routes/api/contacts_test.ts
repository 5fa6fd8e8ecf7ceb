import assert from "node:assert/strict";
import { blockPerson } from "../../lib/meetings/contacts.ts";
import { inviteMore } from "../../lib/meetings/invites.ts";
import { createRoom } from "../../lib/meetings/rooms.ts";
import {
  addContacts,
  call,
  registerUser,
  type TestUser,
  waitersOnLock,
  withApp,
} from "../../tests/harness.ts";
import { TestSocket } from "../../tests/ws_client.ts";

const ask = (app: { base: string }, from: TestUser, email: string) =>
  call(app, "POST", "/api/contacts", { token: from.token, json: { email } });
const requests = async (app: { base: string }, user: TestUser) =>
  (await call(app, "GET", "/api/contacts/requests", { token: user.token })).body;
const contacts = async (app: { base: string }, user: TestUser) =>
  (await call(app, "GET", "/api/contacts", { token: user.token })).body
    .map((c: { id: string }) => c.id);
const ring = (app: { base: string }, caller: TestUser, who: string) =>
  call(app, "POST", "/api/livekit/rooms", {
    token: caller.token,
    json: { room_name: "Ring", call_type: "audio", participants: [who] },
  });

Deno.test("contacts - a request is accepted live; then, and only then, the two can ring each other", () =>
  withApp(async (app) => {
    const ann = await registerUser(app, { display_name: "Ann" });
    const cy = await registerUser(app, { display_name: "Cy" });
    const annTab = await TestSocket.open(app, { token: ann.token });
    const cyTab = await TestSocket.open(app, { token: cy.token });
    try {
      await annTab.next("sync");
      await cyTab.next("sync");
      const asked = await ask(app, ann, ` ${cy.email.toUpperCase()} `);
      assert.equal(asked.status, 202);
      assert.equal(asked.body.request.email, cy.email.toLowerCase());
      await cyTab.next("contacts_changed");

      const incoming = (await requests(app, cy)).incoming;
      assert.deepEqual(incoming.map((r: { from: { id: string } }) => r.from.id), [ann.id]);
      assert.deepEqual(
        (await requests(app, ann)).outgoing.map((r: { email: string }) => r.email),
        [cy.email.toLowerCase()],
      );
      // Asked is not accepted: neither can ring the other yet.
      assert.equal((await ring(app, ann, cy.id)).body.error.code, "not_contacts");
      assert.equal((await ring(app, cy, ann.id)).body.error.code, "not_contacts");
      assert.deepEqual(await contacts(app, ann), []);

      const accepted = await call(app, "POST", `/api/contacts/requests/${incoming[0].id}/accept`, {
        token: cy.token,
      });
      assert.equal(accepted.status, 200);
      await annTab.next("contacts_changed");
      assert.deepEqual(await contacts(app, ann), [cy.id]);
      assert.deepEqual(await contacts(app, cy), [ann.id]);
      assert.deepEqual(await requests(app, ann), { incoming: [], outgoing: [] });
      assert.equal((await ring(app, ann, cy.id)).status, 201);
      assert.equal((await ring(app, cy, ann.id)).status, 201);

      // Asking back when already asked is consent on both sides.
      const dee = await registerUser(app);
      await ask(app, dee, ann.email);
      assert.equal((await ask(app, ann, dee.email)).status, 202);
      assert.deepEqual(await contacts(app, dee), [ann.id]);

      // Removing a contact ends it on both sides.
      assert.equal(
        (await call(app, "DELETE", `/api/contacts/${cy.id}`, { token: ann.token })).status,
        204,
      );
      assert.deepEqual(await contacts(app, cy), []);
      assert.equal((await ring(app, cy, ann.id)).body.error.code, "not_contacts");
    } finally {
      await annTab.close();
      await cyTab.close();
    }
  }));

Deno.test("contacts - the answer to a request never tells whether an account has that email", () =>
  withApp(async (app) => {
    const ann = await registerUser(app);
    const bob = await registerUser(app);
    const shape = (res: { status: number; body: Record<string, unknown> }) => [
      res.status,
      Object.keys(res.body).sort(),
      Object.keys(res.body.request as object).sort(),
      res.body.message,
    ];
    const unknown = shape(await ask(app, ann, "nobody@example.test"));
    const known = shape(await ask(app, ann, bob.email));
    const again = shape(await ask(app, ann, bob.email));
    assert.deepEqual(known, unknown);
    assert.deepEqual(again, unknown);
    // Both are listed the same way to the one who asked.
    const sent = (await requests(app, ann)).outgoing.map((r: { email: string }) => r.email).sort();
    assert.deepEqual(sent, ["nobody@example.test", bob.email.toLowerCase()].sort());
    // Someone who is already a contact: the same answer again.
    const incoming = (await requests(app, bob)).incoming;
    await call(app, "POST", `/api/contacts/requests/${incoming[0].id}/accept`, {
      token: bob.token,
    });
    assert.deepEqual(shape(await ask(app, ann, bob.email)), unknown);

    const self = await ask(app, ann, ann.email);
    assert.equal(self.status, 400);
    assert.equal(self.body.error.code, "cannot_add_self");
  }));

Deno.test("contacts - a decline is not told; a block stops requests, rings and the contact", () =>
  withApp(async (app) => {
    const ann = await registerUser(app);
    const cy = await registerUser(app);
    await ask(app, ann, cy.email);
    const [first] = (await requests(app, cy)).incoming;
    assert.equal(
      (await call(app, "POST", `/api/contacts/requests/${first.id}/decline`, { token: cy.token }))
        .status,
      204,
    );
    // Asking again soon after a decline reaches nobody, and looks the same to the asker.
    assert.equal((await ask(app, ann, cy.email)).status, 202);
    assert.deepEqual((await requests(app, cy)).incoming, []);

    // Contacts through a fresh pair of requests, then a call that rings; then a block.
    const bo = await registerUser(app);
    await ask(app, bo, cy.email);
    const [fromBo] = (await requests(app, cy)).incoming;
    await call(app, "POST", `/api/contacts/requests/${fromBo.id}/accept`, { token: cy.token });
    const cyTab = await TestSocket.open(app, { token: cy.token });
    try {
      await cyTab.next("sync");
      assert.equal((await ring(app, bo, cy.id)).status, 201);
      const rung = await cyTab.next("invite");
      const blocked = await call(app, "POST", "/api/contacts/blocks", {
        token: cy.token,
        json: { user_id: bo.id },
      });
      assert.equal(blocked.status, 204);
      await cyTab.next("invite_cancelled", (m) => m.invite_id === rung.invite.id);
      assert.deepEqual(await contacts(app, cy), []);
      assert.deepEqual(await contacts(app, bo), []);
      assert.equal((await ring(app, bo, cy.id)).body.error.code, "not_contacts");
      assert.equal((await ask(app, bo, cy.email)).status, 202);
      assert.deepEqual((await requests(app, cy)).incoming, []);
      const list = await call(app, "GET", "/api/contacts/blocks", { token: cy.token });
      assert.deepEqual(list.body.map((b: { id: string }) => b.id), [bo.id]);
      // Someone who never asked and is not a contact cannot be blocked by id (no id oracle).
      const stranger = await registerUser(app);
      const refused = await call(app, "POST", "/api/contacts/blocks", {
        token: cy.token,
        json: { user_id: stranger.id },
      });
      assert.equal(refused.status, 404);
      assert.equal(
        (await call(app, "DELETE", `/api/contacts/blocks/${bo.id}`, { token: cy.token })).status,
        204,
      );
      await ask(app, bo, cy.email);
      assert.equal((await requests(app, cy)).incoming.length, 1, "unblocked: requests arrive");
    } finally {
      await cyTab.close();
    }
  }));

Deno.test("contacts - requests are answered only by the one asked, withdrawn only by the asker", () =>
  withApp(async (app) => {
    const [ann, bob, cy] = [
      await registerUser(app),
      await registerUser(app),
      await registerUser(app),
    ];
    await ask(app, ann, cy.email);
    const [req] = (await requests(app, cy)).incoming;
    for (const path of [`${req.id}/accept`, `${req.id}/decline`]) {
      for (const who of [ann, bob]) {
        const res = await call(app, "POST", `/api/contacts/requests/${path}`, { token: who.token });
        assert.equal(res.status, 404, `${path} by another`);
      }
    }
    const foreign = await call(app, "DELETE", `/api/contacts/requests/${req.id}`, {
      token: bob.token,
    });
    assert.equal(foreign.status, 404);
    const mine = await call(app, "DELETE", `/api/contacts/requests/${req.id}`, {
      token: ann.token,
    });
    assert.equal(mine.status, 204);
    assert.deepEqual((await requests(app, cy)).incoming, []);
    const gone = await call(app, "POST", `/api/contacts/requests/${req.id}/accept`, {
      token: cy.token,
    });
    assert.equal(gone.status, 404);
  }));

Deno.test("contacts - bad input gets 4xx JSON", () =>
  withApp(async (app) => {
    const ann = await registerUser(app);
    const bodies = [{}, { email: 1 }, { email: "not-an-email" }, {
      email: "x".repeat(300) + "@a.test",
    }, []];
    for (const json of bodies) {
      const res = await call(app, "POST", "/api/contacts", { token: ann.token, json });
      assert.equal(res.status, 400, JSON.stringify(json));
      assert.equal(res.body.error.code, "invalid_request");
    }
    const notJson = await call(app, "POST", "/api/contacts", {
      token: ann.token,
      body: "{",
      headers: { "Content-Type": "application/json" },
    });
    assert.equal(notJson.status, 400);
    for (
      const [method, path, json] of [
        ["DELETE", "/api/contacts/not-a-uuid"],
        ["POST", "/api/contacts/requests/not-a-uuid/accept"],
        ["DELETE", "/api/contacts/requests/1"],
        ["POST", "/api/contacts/blocks", { user_id: "nope" }],
        ["POST", "/api/contacts/blocks", {}],
        ["DELETE", "/api/contacts/blocks/x"],
      ] as [string, string, unknown?][]
    ) {
      const res = await call(app, method, path, { token: ann.token, json });
      assert.equal(res.status, 400, `${method} ${path}`);
      assert.equal(res.body.error.code, "invalid_request");
    }
    const notContact = await call(app, "DELETE", `/api/contacts/${crypto.randomUUID()}`, {
      token: ann.token,
    });
    assert.equal(notContact.status, 404);
    const blockSelf = await call(app, "POST", "/api/contacts/blocks", {
      token: ann.token,
      json: { user_id: ann.id },
    });
    assert.equal(blockSelf.status, 400);
  }));

Deno.test("contacts - two people asking each other at the same moment both get through, as contacts", () =>
  withApp(async (app) => {
    for (let pair = 0; pair < 3; pair++) {
      const ann = await registerUser(app, { display_name: `Ann ${pair}` });
      const bo = await registerUser(app, { display_name: `Bo ${pair}` });
      // Both rows held: the two requests start together and queue behind the hold.
      let release = () => {};
      const released = new Promise<void>((r) => release = r);
      let held = () => {};
      const holds = new Promise<void>((r) => held = r);
      const holding = app.sql.begin(async (tx) => {
        await tx`select 1 from users where id = any(${[ann.id, bo.id]}::uuid[]) for update`;
        held();
        await released;
      });
      // The rows are held before either request is sent.
      await holds;
      const asks = [ask(app, ann, bo.email), ask(app, bo, ann.email)];
      await waitersOnLock(app, 2);
      release();
      await holding;
      const answers = await Promise.all(asks);
      assert.deepEqual(
        answers.map((r) => r.status),
        [202, 202],
        JSON.stringify(answers.map((r) => r.body)),
      );
      // The second to go found the first's request: asking back is consent, both are contacts.
      assert.deepEqual(await contacts(app, ann), [bo.id]);
      assert.deepEqual(await contacts(app, bo), [ann.id]);
    }
  }));

Deno.test("contacts - a block made while a ring is under way stops it: the blocker is never left ringing", () =>
  withApp(async (app) => {
    const pendingFor = async (room: string, who: string) =>
      (await app.sql<{ n: number }[]>`select count(*)::int as n from invites
        where room_id = ${room} and invitee_id = ${who} and status = 'pending'`)[0].n;
    /** Bo blocks Ann at the moment a ring to him has read that they are contacts. */
    const blockMidRing = (ann: TestUser, bo: TestUser) => {
      let blocking: Promise<void> | undefined;
      return {
        hook: async () => {
          blocking = blockPerson(app.sql, bo.id, ann.id);
          // With the people's rows held by the ring, the block queues; it must not go past.
          await Promise.race([blocking, waitersOnLock(app, 1)]);
        },
        done: () => blocking!,
      };
    };

    // A new meeting ringing him.
    const [ann, bo] = [await registerUser(app), await registerUser(app)];
    await addContacts(app, ann, [bo]);
    const first = blockMidRing(ann, bo);
    const made = await createRoom(app.sql, ann.id, {
      room_name: "Ring",
      call_type: "audio",
      participants: [bo.id],
      allow_guests: false,
    }, { beforeRing: first.hook });
    await first.done();
    assert.equal(await pendingFor(made.id, bo.id), 0, "the block stopped the new meeting's ring");

    // Ringing more people into a meeting under way.
    const [cy, di] = [await registerUser(app), await registerUser(app)];
    await addContacts(app, cy, [di]);
    const room = await createRoom(app.sql, cy.id, {
      room_name: "More",
      call_type: "audio",
      participants: [],
      allow_guests: false,
    });
    const second = blockMidRing(cy, di);
    await inviteMore(app.sql, room.id, cy.id, [di.id], 60, second.hook);
    await second.done();
    assert.equal(await pendingFor(room.id, di.id), 0, "the block stopped the added ring");
  }));
