// Calls ringing in a real Chromium: the incoming-call prompt on the dashboard, live invitee
// states on the caller's pages, missed calls, and the channel going away and coming back.
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { addContacts, call, freePort, registerUser, startApp, type TestApp } from "./harness.ts";
import { connects } from "./livekit_webhook.ts";
import {
  joinNow,
  launchChromium,
  screenshot,
  signedIn,
  watchErrors,
  withBrowser,
} from "./browser.ts";
import { TcpProxy } from "./tcp_proxy.ts";

// The room page connects to the absent media server, which logs network errors.
const MEDIA_SERVER_ERRORS = [
  /ERR_CONNECTION_REFUSED|WebSocket|websocket|could not establish|livekit|signal connection|\/rtc/i,
];

async function meeting(app: TestApp, token: string, name: string, participants: string[]) {
  const res = await call(app, "POST", "/api/livekit/rooms", {
    token,
    json: { room_name: name, call_type: "video", participants },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body as { id: string };
}

/** The state shown for one person in one meeting's people list on the page. */
function personState(page: Page, roomId: string | null, userId: string) {
  const scope = roomId ? page.locator(`[data-room="${roomId}"]`) : page;
  return scope.locator(`[data-person="${userId}"]`);
}

async function online(page: Page) {
  // The channel is up once the page's socket got its first snapshot; nothing says "offline".
  await page.waitForFunction(() => !document.querySelector(".banner.offline"));
  await page.waitForTimeout(300);
}

Deno.test("realtime ui - the dashboard rings; Accept lands the invitee in the call", async () => {
  await withBrowser(async (browser, app) => {
    const ada = await registerUser(app, { display_name: "Ada" });
    const bob = await registerUser(app, { display_name: "Bob" });
    await addContacts(app, ada, [bob]);
    const bobPage = await (await signedIn(browser, app, bob)).newPage();
    const adaPage = await (await signedIn(browser, app, ada)).newPage();
    const bobErrors = watchErrors(bobPage, MEDIA_SERVER_ERRORS);
    const adaErrors = watchErrors(adaPage);
    await bobPage.goto(`${app.base}/dashboard`);
    await adaPage.goto(`${app.base}/dashboard`);
    await online(bobPage);
    await online(adaPage);

    const room = await meeting(app, ada.token, "Sprint planning", [bob.id]);
    const prompt = bobPage.getByRole("alertdialog", { name: "Ada is calling" });
    await prompt.waitFor();
    assert.match(await prompt.innerText(), /Sprint planning · Video call/);
    assert.match(await bobPage.title(), /^Incoming call/);
    await screenshot(bobPage, "16-incoming-call");
    // The caller's dashboard lists the new meeting with Bob ringing, without a reload.
    await personState(adaPage, room.id, bob.id).and(adaPage.locator('[data-state="ringing"]'))
      .waitFor();
    await screenshot(adaPage, "17-dashboard-ringing");

    await prompt.getByRole("button", { name: "Accept" }).click();
    await bobPage.waitForURL(`${app.base}/meeting/room?room=${room.id}`);
    await joinNow(bobPage);
    await bobPage.getByText("The media server cannot be reached").waitFor({ timeout: 20_000 });
    const seen = await call(app, "GET", `/api/livekit/rooms/${room.id}`, { token: ada.token });
    const me = seen.body.participants.find((p: { id: string }) => p.id === bob.id);
    // Bob's media never connected: he is never shown in the call.
    assert.equal(me.in_call, false);
    assert.equal(me.invite.status, "accepted");
    await personState(adaPage, room.id, bob.id).and(adaPage.locator('[data-state="away"]'))
      .waitFor();
    // Once LiveKit reports him, Ada's dashboard shows him in the call without a reload.
    await connects(app, room.id, bob.id);
    await personState(adaPage, room.id, bob.id).and(adaPage.locator('[data-state="in-call"]'))
      .waitFor();
    assert.deepEqual(bobErrors, []);
    assert.deepEqual(adaErrors, []);
  });
});

Deno.test("realtime ui - a ring into the meeting whose page is open is a line there; Join now answers it everywhere", async () => {
  await withBrowser(async (browser, app) => {
    const ada = await registerUser(app, { display_name: "Ada" });
    const bob = await registerUser(app, { display_name: "Bob" });
    await addContacts(app, ada, [bob]);
    const bobs = await signedIn(browser, app, bob);
    const dash = await bobs.newPage();
    const errors = watchErrors(dash);
    await dash.goto(`${app.base}/dashboard`);
    await online(dash);
    const room = await meeting(app, ada.token, "Design review", [bob.id]);
    const dialog = dash.getByRole("alertdialog", { name: "Ada is calling" });
    await dialog.waitFor();

    // The invitation page, then the meeting's own page (Join on the dashboard): a line each,
    // never the dialog over the way in.
    const page = await bobs.newPage();
    const pageErrors = watchErrors(page, MEDIA_SERVER_ERRORS);
    const line = page.locator(".ringing-here").getByText(
      "Ada is calling you into this meeting",
    );
    await page.goto(`${app.base}/meeting/invite?room=${room.id}`);
    await online(page);
    await line.waitFor();
    assert.equal(await page.getByRole("alertdialog").count(), 0, "no dialog on the invitation");
    await page.goto(`${app.base}/meeting/room?room=${room.id}`);
    await online(page);
    await line.waitFor();
    assert.equal(await page.getByRole("alertdialog").count(), 0, "no dialog over the check");
    assert.doesNotMatch(await page.title(), /^Incoming call/);
    await screenshot(page, "21-ring-on-its-page");
    // The other tab still rings: this page only answers when Bob goes in.
    assert.ok(await dialog.isVisible());

    await joinNow(page);
    await dialog.waitFor({ state: "detached" });
    await line.waitFor({ state: "detached" });
    const seen = await call(app, "GET", `/api/livekit/rooms/${room.id}`, { token: ada.token });
    const me = seen.body.participants.find((p: { id: string }) => p.id === bob.id);
    assert.equal(me.invite.status, "accepted");
    // Elsewhere, a call into another meeting is still a dialog on this page.
    const other = await meeting(app, ada.token, "Another one", [bob.id]);
    const ring = page.getByRole("alertdialog", { name: "Ada is calling" });
    await ring.waitFor();
    assert.match(await ring.innerText(), /Another one/);
    assert.ok(other.id);
    assert.deepEqual(errors, []);
    assert.deepEqual(pageErrors, []);
  });
});

Deno.test("realtime ui - the host's call page shows declines and missed calls live; missed calls are listed", async () => {
  await withBrowser(async (browser, app) => {
    const ada = await registerUser(app, { display_name: "Ada" });
    const bob = await registerUser(app, { display_name: "Bob" });
    const cy = await registerUser(app, { display_name: "Cy" });
    await addContacts(app, ada, [bob, cy]);
    const bobPage = await (await signedIn(browser, app, bob)).newPage();
    const cyPage = await (await signedIn(browser, app, cy)).newPage();
    const adaPage = await (await signedIn(browser, app, ada)).newPage();
    const errors = [
      ...watchErrors(bobPage),
      ...watchErrors(cyPage),
      ...watchErrors(adaPage, MEDIA_SERVER_ERRORS),
    ];
    await bobPage.goto(`${app.base}/dashboard`);
    await cyPage.goto(`${app.base}/dashboard`);
    await online(bobPage);
    await online(cyPage);

    const room = await meeting(app, ada.token, "Budget", [bob.id, cy.id]);
    // Once it has its token, the call page reads the room again. That answer is read here
    // while Bob's call still rings and held until his decline has been pushed, so it arrives
    // stale (as it once did on a slow machine); it must not bring the ringing back.
    const roomUrl = `${app.base}/api/livekit/rooms/${room.id}`;
    let release = () => {};
    const held = new Promise<void>((resolve) => release = resolve);
    let staleRead = () => {};
    const read = new Promise<void>((resolve) => staleRead = resolve);
    await adaPage.route(roomUrl, async (route) => {
      if (route.request().method() !== "GET") return route.fallback();
      const response = await route.fetch();
      staleRead();
      await held;
      await route.fulfill({ response });
    });
    // The host goes to the call; the media server is away, the people list is still there.
    await adaPage.goto(`${app.base}/meeting/room?room=${room.id}`);
    await joinNow(adaPage);
    await personState(adaPage, null, bob.id).and(adaPage.locator('[data-state="ringing"]'))
      .waitFor();
    await personState(adaPage, null, cy.id).and(adaPage.locator('[data-state="ringing"]'))
      .waitFor();
    await read;

    await bobPage.getByRole("alertdialog", { name: "Ada is calling" }).getByRole("button", {
      name: "Decline",
    }).click();
    await personState(adaPage, null, bob.id).and(adaPage.locator('[data-state="declined"]'))
      .waitFor();
    const delivered = adaPage.waitForEvent("requestfinished", (r) => r.url() === roomUrl);
    release();
    await delivered;
    await adaPage.unroute(roomUrl);
    // The answer has been handed to the page; let it run what follows and render.
    await adaPage.evaluate(() =>
      new Promise((resolve) => setTimeout(() => requestAnimationFrame(resolve), 0))
    );
    assert.equal(
      await personState(adaPage, null, bob.id).getAttribute("data-state"),
      "declined",
    );
    await adaPage.getByText("Bob declined.").waitFor();
    await bobPage.getByRole("alertdialog").waitFor({ state: "detached" });

    // Cy never answers: once the ring time is up the call is missed everywhere. (The ring
    // time is made to run out here, not waited for: a slow machine would otherwise let Cy's
    // miss replace the news of Bob's decline before it was read.)
    const cyPrompt = cyPage.getByRole("alertdialog", { name: "Ada is calling" });
    await cyPrompt.waitFor();
    await app.sql`update invites set expires_at = now()
      where invitee_id = ${cy.id} and status = 'pending'`;
    await personState(adaPage, null, cy.id).and(adaPage.locator('[data-state="missed"]'))
      .waitFor({ timeout: 30_000 });
    await adaPage.getByText("The media server cannot be reached").waitFor({ timeout: 20_000 });
    await cyPrompt.waitFor({ state: "detached" });
    await cyPage.getByRole("heading", { name: "Missed calls" }).waitFor();
    assert.match(
      await cyPage.locator(".missed-calls").innerText(),
      /Ada called you for “Budget” \(Video\)/,
    );
    await screenshot(adaPage, "18-room-people-states");
    await screenshot(cyPage, "19-dashboard-missed");

    // The host calls Cy again from the call page: it rings again.
    await adaPage.getByRole("button", { name: "Call Cy" }).click();
    await cyPrompt.waitFor();
    await personState(adaPage, null, cy.id).and(adaPage.locator('[data-state="ringing"]'))
      .waitFor();
    // And stops calling: the prompt goes away.
    await adaPage.getByRole("button", { name: "Stop calling Cy" }).click();
    await cyPrompt.waitFor({ state: "detached" });
    assert.deepEqual(errors, []);
  }, { env: { INVITE_RING_SECONDS: "300" }, realtime: { sweepIntervalMs: 250 } });
});

Deno.test("realtime ui - offline while the server is away, back by itself, and calls ring again", async () => {
  // The browser reaches the app through a proxy that the test can take away.
  const appPort = freePort();
  const proxy = new TcpProxy({ hostname: "127.0.0.1", port: appPort });
  proxy.start();
  const app = await startApp({
    port: appPort,
    env: { PUBLIC_URL: `http://127.0.0.1:${proxy.port}` },
  });
  const browser = await launchChromium();
  try {
    const ada = await registerUser(app, { display_name: "Ada" });
    const bob = await registerUser(app, { display_name: "Bob" });
    await addContacts(app, ada, [bob]);
    const page = await (await signedIn(browser, app, bob)).newPage();
    const base = `http://127.0.0.1:${proxy.port}`;
    await page.goto(`${base}/dashboard`);
    await online(page);

    proxy.stop();
    const banner = page.getByRole("status").filter({ hasText: "Offline: calls cannot reach you" });
    await banner.waitFor();
    await screenshot(page, "20-offline");
    proxy.start();
    // It reconnects by itself with backoff (Retry now would skip the wait).
    await banner.waitFor({ state: "detached", timeout: 20_000 });
    await meeting(app, ada.token, "After the break", [bob.id]);
    await page.getByRole("alertdialog", { name: "Ada is calling" }).waitFor();
  } finally {
    await browser.close();
    await app.stop();
    proxy.stop();
  }
});
