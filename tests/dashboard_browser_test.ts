// The dashboard a person can keep tidy, in Chromium (no call needed): meetings in progress
// first, ended ones in a history that can be cleared (for oneself only), missed calls that can
// be dismissed or called back in one click, and destructive actions asked once more.
import assert from "node:assert/strict";
import { addContacts, call, registerUser } from "./harness.ts";
import { screenshot, signedIn, watchErrors, withBrowser } from "./browser.ts";
import { connects } from "./livekit_webhook.ts";

Deno.test("dashboard - in progress first, history cleared for oneself, missed calls dismissed and called back", async () => {
  await withBrowser(async (browser, app) => {
    const ada = await registerUser(app, { display_name: "Ada" });
    const bob = await registerUser(app, { display_name: "Bob" });
    await addContacts(app, ada, [bob]);
    const meet = async (room_name: string, call_type = "video") =>
      (await call(app, "POST", "/api/livekit/rooms", {
        token: ada.token,
        json: { room_name, call_type, participants: [bob.id], entry: "open" },
      })).body.id as string;
    // Meetings Bob was rung for and did not answer (their ring time is made to run out here,
    // not waited for: the call back below rings for the whole time); ending Retro stopped its.
    const ringOut = () =>
      app.sql`update invites set expires_at = now()
        where invitee_id = ${bob.id} and status = 'pending'`;
    const planning = await meet("Planning");
    const retro = await meet("Retro");
    const question = await meet("Quick question", "audio");
    await call(app, "DELETE", `/api/livekit/rooms/${retro}`, { token: ada.token });
    await ringOut();
    // Planning is in progress (Ada is in its call); a newer one only waits.
    await connects(app, planning, ada.id);
    const later = await meet("Later today");
    await ringOut();

    const page = await (await signedIn(browser, app, bob)).newPage();
    const errors = watchErrors(page);
    await page.goto(`${app.base}/dashboard`);
    // In progress first, though older; the ended one is in the history, not with the others.
    const titles = await page.locator("section[aria-labelledby=meetings-title] .room-title")
      .allInnerTexts();
    assert.deepEqual(titles, ["Planning", "Later today", "Quick question"]);
    assert.deepEqual(
      await page.locator("section.history .room-title").allInnerTexts(),
      ["Retro"],
    );
    const missed = page.locator("section.missed li");
    assert.equal(await missed.count(), 3);
    await screenshot(page, "73-dashboard-missed-history");

    // Dismissed: gone, and still gone after a reload.
    const planningCall = missed.filter({ hasText: "Planning" });
    await planningCall.getByRole("button", { name: "Dismiss the missed call from Ada" }).click();
    await planningCall.waitFor({ state: "detached" });
    await page.reload();
    assert.equal(await missed.count(), 2);
    assert.equal(await missed.filter({ hasText: "Planning" }).count(), 0);

    // Clearing the history asks first; cancelled, nothing changes.
    await page.getByRole("button", { name: "Clear history" }).click();
    const ask = page.getByRole("dialog", { name: "Clear your meeting history?" });
    assert.match(await ask.innerText(), /1 ended meeting leaves your list/);
    await screenshot(page, "74-dashboard-clear-history-asked");
    await ask.getByRole("button", { name: "Cancel" }).click();
    await ask.waitFor({ state: "hidden" });
    assert.equal(await page.locator("section.history").count(), 1);
    await page.getByRole("button", { name: "Clear history" }).click();
    await ask.getByRole("button", { name: "Clear history" }).click();
    await page.locator("section.history").waitFor({ state: "detached" });
    await page.getByText("History cleared: 1 meeting.").waitFor();
    await page.reload();
    assert.equal(await page.locator("section.history").count(), 0);
    // Only Bob's list changed: Ada still has Retro.
    const adaRooms = await call(app, "GET", "/api/livekit/rooms", { token: ada.token });
    assert.ok(adaRooms.body.some((r: { id: string }) => r.id === retro));

    // Call back: one click makes a meeting ringing Ada, and opens it (device check first).
    const adaPage = await (await signedIn(browser, app, ada)).newPage();
    const adaErrors = watchErrors(adaPage);
    await adaPage.goto(`${app.base}/dashboard`);
    await adaPage.waitForFunction(() => !document.querySelector(".banner.offline"));
    const q = missed.filter({ hasText: "Quick question" });
    await q.getByRole("button", { name: "Call back Ada" }).click();
    await page.waitForURL(/\/meeting\/room\?room=/);
    await page.getByRole("button", { name: "Join now" }).waitFor();
    const back = new URL(page.url()).searchParams.get("room")!;
    const made = await call(app, "GET", `/api/livekit/rooms/${back}`, { token: bob.token });
    assert.equal(made.body.room_name, "Bob and Ada");
    assert.equal(made.body.call_type, "audio", "the same kind of call");
    await adaPage.locator(".incoming", { hasText: "Bob" }).waitFor();
    await screenshot(adaPage, "75-dashboard-called-back");
    // The missed call it answered is gone from Bob's list.
    const invites = await call(app, "GET", "/api/invites", { token: bob.token });
    assert.ok(!invites.body.some((i: { room_id: string }) => i.room_id === question));
    assert.deepEqual(errors, []);
    assert.deepEqual(adaErrors, []);
    assert.ok(later);
  });
});

Deno.test("dashboard - dismissing refuses someone else's call and one still ringing; clearing is per person", async () => {
  await withBrowser(async (_browser, app) => {
    const ada = await registerUser(app, { display_name: "Ada" });
    const bob = await registerUser(app, { display_name: "Bob" });
    const eve = await registerUser(app, { display_name: "Eve" });
    await addContacts(app, ada, [bob]);
    const room = await call(app, "POST", "/api/livekit/rooms", {
      token: ada.token,
      json: { room_name: "Now", call_type: "audio", participants: [bob.id] },
    });
    const [ringing] = (await call(app, "GET", "/api/invites", { token: bob.token })).body;
    assert.equal(ringing.room_id, room.body.id);
    const dismiss = (token: string, id: string) =>
      call(app, "POST", `/api/invites/${id}/dismiss`, { token });
    assert.equal((await dismiss(bob.token, ringing.id)).status, 409, "still ringing");
    assert.equal((await dismiss(eve.token, ringing.id)).status, 404, "not hers");
    assert.equal((await dismiss(ada.token, ringing.id)).status, 404, "the caller's neither");
    assert.equal((await dismiss(bob.token, "not-a-uuid")).status, 404);
    assert.equal((await call(app, "POST", `/api/invites/${ringing.id}/dismiss`)).status, 401);
    assert.equal((await call(app, "DELETE", "/api/livekit/rooms/history")).status, 401);
    // Bob declines: an answered call is not a missed one.
    await call(app, "POST", `/api/invites/${ringing.id}/decline`, { token: bob.token });
    assert.equal((await dismiss(bob.token, ringing.id)).status, 409, "answered");
    // Clearing leaves meetings that have not ended.
    const cleared = await call(app, "DELETE", "/api/livekit/rooms/history", { token: bob.token });
    assert.equal(cleared.status, 200);
    assert.equal(cleared.body.cleared, 0);
    const rooms = await call(app, "GET", "/api/livekit/rooms", { token: bob.token });
    assert.equal(rooms.body.length, 1);
  });
});
