// The lobby's and contacts' pages in Chromium, where no call is needed: a knock that nobody
// answers expires on the waiting page and can be made again; a contact request reaches the
// other person's dashboard live and, accepted, the asker's; only accepted contacts can be rung.
import assert from "node:assert/strict";
import { call, registerUser } from "./harness.ts";
import { screenshot, signedIn, watchErrors, withBrowser } from "./browser.ts";

Deno.test("lobby page - a knock nobody answers expires with a message; asking again waits anew", async () => {
  await withBrowser(async (browser, app) => {
    const ada = await registerUser(app, { display_name: "Ada" });
    const room = await call(app, "POST", "/api/livekit/rooms", {
      token: ada.token,
      json: { room_name: "Office hours", call_type: "audio", entry: "knock" },
    });
    const page = await (await browser.newContext()).newPage();
    const errors = watchErrors(page);
    await page.goto(`${app.base}/meeting/invite?room=${room.body.id}`);
    assert.match(await page.locator("main").innerText(), /A host lets people into this meeting/);
    await page.getByLabel("Your name").fill("Walt");
    await page.getByRole("button", { name: "Ask to join as a guest" }).click();
    await page.getByText("Waiting for a host to let you in").waitFor();
    // Nobody hosting is in the call: the page says so.
    await page.locator("[data-no-host]").waitFor();
    await page.getByText("Nobody answered in time. You can ask again.").waitFor({
      timeout: 30_000,
    });
    await screenshot(page, "59-lobby-expired");
    await page.getByRole("button", { name: "Ask again" }).click();
    await page.getByText("Waiting for a host to let you in").waitFor();
    const lobby = await call(app, "GET", `/api/livekit/rooms/${room.body.id}/lobby`, {
      token: ada.token,
    });
    assert.deepEqual(lobby.body.map((k: { display_name: string }) => k.display_name), ["Walt"]);
    assert.deepEqual(errors, []);
    // Long enough for the waiting page's first lobby message on a loaded machine (at 3 s it
    // once expired before "nobody hosting" could be shown), short enough to wait out.
  }, { env: { KNOCK_SECONDS: "8" } });
});

Deno.test("contacts page - a request arrives live, is accepted live, and only then can ring", async () => {
  await withBrowser(async (browser, app) => {
    const ada = await registerUser(app, { display_name: "Ada" });
    const bob = await registerUser(app, { display_name: "Bob" });
    const cy = await registerUser(app, { display_name: "Cy" });
    const adaPage = await (await signedIn(browser, app, ada)).newPage();
    const bobPage = await (await signedIn(browser, app, bob)).newPage();
    const errors = [watchErrors(adaPage), watchErrors(bobPage)];
    await adaPage.goto(`${app.base}/dashboard`);
    await bobPage.goto(`${app.base}/dashboard`);
    await bobPage.waitForFunction(() => !document.querySelector(".banner.offline"));
    await adaPage.waitForTimeout(300);

    await adaPage.getByPlaceholder("Ask someone by email").fill(bob.email);
    await adaPage.getByRole("button", { name: "Send request" }).click();
    await adaPage.getByText(`${bob.email.toLowerCase()}: waiting for an answer`).waitFor();
    // The same answer for an email nobody has: nothing tells them apart.
    await adaPage.getByPlaceholder("Ask someone by email").fill("nobody@example.test");
    await adaPage.getByRole("button", { name: "Send request" }).click();
    await adaPage.getByText("nobody@example.test: waiting for an answer").waitFor();
    await screenshot(adaPage, "60-contacts-requests-sent");

    // Bob's dashboard shows the request without a reload.
    const request = bobPage.locator(".contact-requests li", { hasText: "Ada" });
    await request.waitFor();
    await screenshot(bobPage, "61-contacts-request-received");
    await request.getByRole("button", { name: "Accept Ada" }).click();
    await bobPage.locator(`.contacts [data-contact="${ada.id}"]`).waitFor();
    // ...and Ada's, live too.
    await adaPage.locator(`.contacts [data-contact="${bob.id}"]`).waitFor();
    assert.equal(
      await adaPage.getByText(`${bob.email.toLowerCase()}: waiting for an answer`).count(),
      0,
    );
    await screenshot(adaPage, "62-contacts-accepted");

    // The new meeting page offers accepted contacts only; the server refuses anyone else.
    await adaPage.goto(`${app.base}/meeting/pre-join`);
    const invitees = adaPage.getByRole("group", { name: "Invite from your contacts" });
    await invitees.getByText("Bob").waitFor();
    assert.equal(await invitees.getByText("Cy").count(), 0);
    const refused = await call(app, "POST", "/api/livekit/rooms", {
      token: ada.token,
      json: { room_name: "Cold call", call_type: "audio", participants: [cy.id] },
    });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error.code, "not_contacts");
    for (const e of errors) assert.deepEqual(e, []);
  });
});
