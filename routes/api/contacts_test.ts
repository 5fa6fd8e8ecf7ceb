import assert from "node:assert/strict";
import { call, registerUser, withApp } from "../../tests/harness.ts";

Deno.test("contacts - add by email in any case, list, remove", () =>
  withApp(async (app) => {
    const [ann, bob, cy] = [
      await registerUser(app, { display_name: "Ann" }),
      await registerUser(app, { display_name: "bob" }),
      await registerUser(app, { display_name: "Cy" }),
    ];
    const empty = await call(app, "GET", "/api/contacts", { token: ann.token });
    assert.equal(empty.status, 200);
    assert.deepEqual(empty.body, []);

    const added = await call(app, "POST", "/api/contacts", {
      token: ann.token,
      json: { email: ` ${cy.email.toUpperCase()} ` },
    });
    assert.equal(added.status, 201);
    assert.equal(added.body.id, cy.id);
    assert.equal(added.body.display_name, "Cy");
    assert.equal(added.body.email, cy.email);
    assert.ok(!Number.isNaN(Date.parse(added.body.added_at)));
    await call(app, "POST", "/api/contacts", { token: ann.token, json: { email: bob.email } });

    const list = await call(app, "GET", "/api/contacts", { token: ann.token });
    assert.deepEqual(list.body.map((c: { display_name: string }) => c.display_name), ["bob", "Cy"]);
    for (const c of list.body) {
      assert.deepEqual(Object.keys(c).sort(), ["added_at", "display_name", "email", "id"]);
    }
    const bobs = await call(app, "GET", "/api/contacts", { token: bob.token });
    assert.deepEqual(bobs.body, [], "contacts are one-way and private");

    const removed = await call(app, "DELETE", `/api/contacts/${cy.id}`, { token: ann.token });
    assert.equal(removed.status, 204);
    const after = await call(app, "GET", "/api/contacts", { token: ann.token });
    assert.deepEqual(after.body.map((c: { id: string }) => c.id), [bob.id]);
  }));

Deno.test("contacts - unknown email 404, duplicate 409, yourself 400", () =>
  withApp(async (app) => {
    const ann = await registerUser(app);
    const bob = await registerUser(app);
    const unknown = await call(app, "POST", "/api/contacts", {
      token: ann.token,
      json: { email: "nobody@example.test" },
    });
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, "not_found");

    assert.equal(
      (await call(app, "POST", "/api/contacts", { token: ann.token, json: { email: bob.email } }))
        .status,
      201,
    );
    const dup = await call(app, "POST", "/api/contacts", {
      token: ann.token,
      json: { email: bob.email.toUpperCase() },
    });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.error.code, "contact_exists");

    const self = await call(app, "POST", "/api/contacts", {
      token: ann.token,
      json: { email: ann.email },
    });
    assert.equal(self.status, 400);
    assert.equal(self.body.error.code, "cannot_add_self");

    const [{ count }] = await app.sql`select count(*)::int from contacts`;
    assert.equal(count, 1);
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
    const badId = await call(app, "DELETE", "/api/contacts/not-a-uuid", { token: ann.token });
    assert.equal(badId.status, 400);
    assert.equal(badId.body.error.code, "invalid_request");
    const notContact = await call(app, "DELETE", `/api/contacts/${crypto.randomUUID()}`, {
      token: ann.token,
    });
    assert.equal(notContact.status, 404);
  }));

Deno.test("contacts - removing someone else's contact changes nothing", () =>
  withApp(async (app) => {
    const [ann, bob, cy] = [
      await registerUser(app),
      await registerUser(app),
      await registerUser(app),
    ];
    await call(app, "POST", "/api/contacts", { token: ann.token, json: { email: cy.email } });
    const res = await call(app, "DELETE", `/api/contacts/${cy.id}`, { token: bob.token });
    assert.equal(res.status, 404);
    const list = await call(app, "GET", "/api/contacts", { token: ann.token });
    assert.equal(list.body.length, 1);
  }));
