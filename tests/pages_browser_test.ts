// The pages in a real Chromium with a fake camera and microphone, against the app and a real
// database. LiveKit is not running here: the room page must say so instead of hanging.
import assert from "node:assert/strict";
import { addContacts, call, registerUser } from "./harness.ts";
import { connects } from "./livekit_webhook.ts";
import { joinNow, screenshot, signedIn, watchErrors, withBrowser } from "./browser.ts";

// Connecting to the absent media server logs network errors; nothing else may.
const MEDIA_SERVER_ERRORS = [
  /ERR_CONNECTION_REFUSED|WebSocket|websocket|could not establish|livekit|signal connection|\/rtc/i,
];

Deno.test("pages - register, sign out, sign in; bad credentials show an error (no JavaScript)", async () => {
  await withBrowser(async (browser, app) => {
    // The forms must work without scripts: this context has JavaScript off.
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();

    await page.goto(`${app.base}/dashboard`);
    assert.equal(new URL(page.url()).pathname, "/login");
    assert.equal(new URL(page.url()).searchParams.get("next"), "/dashboard");
    await screenshot(page, "01-login");

    await page.getByRole("link", { name: "Create an account" }).click();
    assert.equal(new URL(page.url()).pathname, "/register");
    // A short password is refused with the field marked; what was typed is kept.
    await page.getByLabel("Your name").fill("Ada Lovelace");
    await page.getByLabel("Email").fill("ada@example.test");
    await page.getByLabel("Password").evaluate((el) => el.removeAttribute("minlength"));
    await page.getByLabel("Password").fill("short");
    await page.getByRole("button", { name: "Create account" }).click();
    assert.match(await page.getByRole("alert").innerText(), /Check the highlighted fields/);
    assert.equal(await page.getByLabel("Password").getAttribute("aria-invalid"), "true");
    assert.equal(await page.getByLabel("Email").inputValue(), "ada@example.test");
    await screenshot(page, "02-register-error");

    await page.getByLabel("Password").fill("analytical engine");
    await page.getByRole("button", { name: "Create account" }).click();
    assert.equal(new URL(page.url()).pathname, "/dashboard");
    assert.equal(await page.locator("header .who").innerText(), "Ada Lovelace");
    await screenshot(page, "03-dashboard-no-js");

    await page.getByRole("button", { name: "Sign out" }).click();
    assert.equal(new URL(page.url()).pathname, "/login");
    await page.goto(`${app.base}/dashboard`);
    assert.equal(new URL(page.url()).pathname, "/login", "signed out: the dashboard asks again");

    await page.getByLabel("Email").fill("ada@example.test");
    await page.getByLabel("Password").fill("wrong password");
    const refused = page.waitForResponse((r) =>
      r.url().includes("/login") && r.request().method() === "POST"
    );
    await page.getByRole("button", { name: "Sign in" }).click();
    assert.equal((await refused).status(), 401);
    assert.equal(await page.getByRole("alert").innerText(), "Email or password is incorrect.");
    await screenshot(page, "04-login-error");

    await page.getByLabel("Password").fill("analytical engine");
    await page.getByRole("button", { name: "Sign in" }).click();
    assert.equal(new URL(page.url()).pathname, "/dashboard", "back to where the user was going");
    await context.close();
  });
});

Deno.test("pages - add a contact, start a meeting from a live preview, room says the media server is unreachable", async () => {
  await withBrowser(async (browser, app) => {
    const host = await registerUser(app, { display_name: "Grace Hopper" });
    const friend = await registerUser(app, { display_name: "Alan Turing" });
    const context = await signedIn(browser, app, host);
    const page = await context.newPage();
    const errors = watchErrors(page, MEDIA_SERVER_ERRORS);

    await page.goto(`${app.base}/dashboard`);
    await page.getByPlaceholder("Ask someone by email").fill(friend.email);
    await page.getByRole("button", { name: "Send request" }).click();
    await page.getByText(`Request sent to ${friend.email.toLowerCase()}.`).waitFor();
    // An email nobody has gets the same answer: the form tells nothing about who is here.
    await page.getByPlaceholder("Ask someone by email").fill("nobody@example.test");
    await page.getByRole("button", { name: "Send request" }).click();
    await page.getByText("Request sent to nobody@example.test.").waitFor();
    // The friend accepts (their own dashboard is tested in tests/lobby_pages_test.ts): the
    // contact appears here without a reload.
    const asked = await call(app, "GET", "/api/contacts/requests", { token: friend.token });
    await call(app, "POST", `/api/contacts/requests/${asked.body.incoming[0].id}/accept`, {
      token: friend.token,
    });
    await page.locator(`.contacts [data-contact="${friend.id}"]`).waitFor();
    const contacts = await call(app, "GET", "/api/contacts", { token: host.token });
    assert.deepEqual(contacts.body.map((c: { id: string }) => c.id), [friend.id]);
    assert.deepEqual(errors.splice(0), []);
    await screenshot(page, "05-dashboard-contacts");

    await page.getByRole("link", { name: "New meeting" }).first().click();
    assert.equal(new URL(page.url()).pathname, "/meeting/pre-join");
    // The fake camera's frames reach the preview: a playing video with a real size.
    const preview = page.getByLabel("Camera preview");
    await page.waitForFunction(() => {
      const v = document.querySelector<HTMLVideoElement>("video.preview");
      return !!v && v.videoWidth > 0 && v.readyState >= 2;
    });
    const box = await preview.boundingBox();
    assert.ok(box && box.width > 0 && box.height > 0, "the preview is on screen");
    // The microphone meter moves with the fake microphone's tone.
    await page.waitForFunction(() =>
      parseFloat(document.querySelector<HTMLElement>(".meter span")?.style.width ?? "0") > 0
    );
    // Devices are listed once the browser has granted access.
    await page.waitForFunction(() =>
      document.querySelectorAll("select")[0]?.querySelectorAll("option").length > 0 &&
      !(document.querySelectorAll("select")[0] as HTMLSelectElement).disabled
    );
    await page.getByLabel("Meeting name").fill("Design review");
    await page.getByRole("checkbox", { name: new RegExp(friend.display_name) }).check();
    await page.getByRole("button", { name: "Mute microphone" }).click();
    await screenshot(page, "06-prejoin");
    await page.getByRole("button", { name: "Start call" }).click();

    await page.waitForURL(/\/meeting\/room\?room=/);
    const roomId = new URL(page.url()).searchParams.get("room")!;
    await page.getByText("The media server cannot be reached").waitFor({ timeout: 15_000 });
    await page.getByRole("button", { name: "Try again" }).waitFor();
    await screenshot(page, "07-room-unreachable");

    const room = await call(app, "GET", `/api/livekit/rooms/${roomId}`, { token: host.token });
    assert.equal(room.status, 200);
    assert.equal(room.body.room_name, "Design review");
    assert.equal(room.body.call_type, "video");
    assert.deepEqual(
      room.body.participants.map((p: { id: string; role: string }) => [p.id, p.role]).sort(),
      [[host.id, "host"], [friend.id, "member"]].sort(),
    );
    // The mute choice is remembered for next time.
    await page.goto(`${app.base}/meeting/pre-join`);
    await page.getByRole("button", { name: "Unmute microphone" }).waitFor();
    assert.deepEqual(errors, []);
    await context.close();
  });
});

Deno.test("pages - a second user joins from the invite link; a guest joins by name", async () => {
  await withBrowser(async (browser, app) => {
    const host = await registerUser(app, { display_name: "Katherine Johnson" });
    const other = await registerUser(app, { display_name: "Dorothy Vaughan" });
    const created = await call(app, "POST", "/api/livekit/rooms", {
      token: host.token,
      // Open to its link: the lobby's pages are tested in tests/lobby_*_test.ts.
      json: { room_name: "Launch window", call_type: "audio", entry: "open" },
    });
    assert.equal(created.status, 201);
    const roomId = created.body.id;
    const inviteUrl = `${app.base}/meeting/invite?room=${roomId}`;
    assert.equal(created.body.invite_url, inviteUrl);

    // Signed in, not invited: the invitation shows the meeting and lets them join.
    const context = await signedIn(browser, app, other);
    const page = await context.newPage();
    const errors = watchErrors(page, MEDIA_SERVER_ERRORS);
    await page.goto(inviteUrl);
    await page.getByRole("heading", { name: "Launch window" }).waitFor();
    assert.match(await page.locator(".facts").innerText(), /Katherine Johnson[\s\S]*Audio call/);
    await screenshot(page, "08-invite-signed-in");
    await page.getByRole("button", { name: "Join meeting" }).click();
    await page.waitForURL(/\/meeting\/room\?room=/);
    await joinNow(page);
    await page.getByText("The media server cannot be reached").waitFor({ timeout: 15_000 });
    const room = await call(app, "GET", `/api/livekit/rooms/${roomId}`, { token: host.token });
    const joined = room.body.participants.find((p: { id: string }) => p.id === other.id);
    assert.ok(joined, "the second user is a participant");
    assert.equal(joined.role, "member");
    assert.equal(joined.in_call, false, "not in the call: their media never connected");
    assert.deepEqual(errors, []);

    // A guest: no account, a display name, then the room page with the guest token.
    const guestContext = await browser.newContext();
    const guest = await guestContext.newPage();
    const guestErrors = watchErrors(guest, MEDIA_SERVER_ERRORS);
    await guest.goto(inviteUrl);
    await guest.getByRole("link", { name: "Sign in to join" }).waitFor();
    await guest.getByLabel("Your name").fill("Mary Jackson");
    await screenshot(guest, "09-invite-guest");
    const token = guest.waitForResponse((r) => r.url().endsWith(`/rooms/${roomId}/guest`));
    await guest.getByRole("button", { name: "Join as guest" }).click();
    assert.equal((await token).status(), 200);
    await guest.waitForURL(/\/meeting\/room\?room=/);
    // The guest checks their devices first, then the call is tried.
    await guest.getByRole("button", { name: "Join now" }).click();
    await guest.getByText("The media server cannot be reached").waitFor({ timeout: 15_000 });
    await screenshot(guest, "10-room-guest-unreachable");
    assert.deepEqual(guestErrors, []);

    // A room without guests offers signing in only.
    const closed = await call(app, "POST", "/api/livekit/rooms", {
      token: host.token,
      json: { room_name: "Members only", call_type: "video", allow_guests: false },
    });
    await guest.goto(`${app.base}/meeting/invite?room=${closed.body.id}`);
    await guest.getByRole("link", { name: "Sign in to join" }).waitFor();
    assert.equal(await guest.getByRole("button", { name: "Join as guest" }).count(), 0);

    // The host copies the link and ends the meeting from the dashboard (where Dorothy shows in
    // the call once LiveKit reports her).
    await connects(app, roomId, other.id);
    const hostContext = await signedIn(browser, app, host);
    await hostContext.grantPermissions(["clipboard-read", "clipboard-write"], { origin: app.base });
    const dash = await hostContext.newPage();
    const dashErrors = watchErrors(dash);
    await dash.goto(`${app.base}/dashboard`);
    const item = dash.locator(`[data-room="${roomId}"]`);
    assert.match(await item.innerText(), /1 in the call/);
    assert.match(
      await item.locator("[data-state=in-call]").innerText(),
      /^Dorothy Vaughan\nin the call\b/,
    );
    await item.getByRole("button", { name: "Copy invite link for Launch window" }).click();
    await dash.getByText("Invite link copied.").waitFor();
    assert.equal(await dash.evaluate(() => navigator.clipboard.readText()), inviteUrl);
    await item.getByRole("button", { name: "End for all (Launch window)" }).click();
    // Asked once more: cancelling keeps the meeting, confirming ends it.
    const confirm = dash.getByRole("dialog", { name: "End “Launch window” for everyone?" });
    await confirm.getByRole("button", { name: "Cancel" }).click();
    await confirm.waitFor({ state: "hidden" });
    assert.equal(
      (await call(app, "GET", `/api/livekit/rooms/${roomId}`, { token: host.token })).body.status,
      "active",
    );
    await item.getByRole("button", { name: "End for all (Launch window)" }).click();
    await confirm.getByRole("button", { name: "End for all" }).click();
    await dash.getByText("“Launch window” has ended.").waitFor();
    // Ended, it moves to the history.
    await dash.locator(`section.history [data-room="${roomId}"]`).waitFor();
    const ended = await call(app, "GET", `/api/livekit/rooms/${roomId}`, { token: host.token });
    assert.equal(ended.body.status, "ended");
    await guest.goto(inviteUrl);
    await guest.getByText("This meeting has ended.").waitFor();
    assert.deepEqual(dashErrors, []);
    await hostContext.close();
    await context.close();
    await guestContext.close();
  });
});

Deno.test("pages - at phone width every control is labelled, reachable by Tab, and nothing overflows", async () => {
  await withBrowser(async (browser, app) => {
    const host = await registerUser(app, { display_name: "Margaret Hamilton" });
    const friend = await registerUser(app, { display_name: "Annie Easley" });
    await addContacts(app, host, [friend]);
    const created = await call(app, "POST", "/api/livekit/rooms", {
      token: host.token,
      json: { room_name: "Apollo guidance", call_type: "video", participants: [friend.id] },
    });
    const roomId = created.body.id;
    const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };
    const member = await signedIn(browser, app, host, phone);
    const anonymous = await browser.newContext(phone);
    const pages: [typeof member, string, string][] = [
      [anonymous, "/login", "11-phone-login"],
      [member, "/dashboard", "12-phone-dashboard"],
      [member, "/meeting/pre-join", "13-phone-prejoin"],
      [anonymous, `/meeting/invite?room=${roomId}`, "14-phone-invite"],
      [member, `/meeting/room?room=${roomId}`, "15-phone-room-unreachable"],
    ];
    for (const [context, path, shot] of pages) {
      const page = await context.newPage();
      await page.goto(app.base + path);
      if (path.startsWith("/meeting/room")) {
        await joinNow(page);
        await page.getByText("The media server cannot be reached").waitFor({ timeout: 15_000 });
      } else {
        await page.waitForLoadState("networkidle");
      }
      const report = await page.evaluate(() => {
        const controls = [...document.querySelectorAll<HTMLElement>(
          "a[href], button, input:not([type=hidden]), select, textarea, [tabindex], summary",
        )].filter((el) =>
          el.getClientRects().length > 0 && !(el as HTMLButtonElement).disabled &&
          // Inside a closed disclosure: not on screen until it is opened.
          (el.tagName === "SUMMARY" || el.closest("details:not([open])") === null) &&
          el.tabIndex >= 0 &&
          // A radio group is one Tab stop (arrows move within it): its checked radio.
          !((el as HTMLInputElement).type === "radio" && !(el as HTMLInputElement).checked)
        );
        const nameOf = (el: HTMLElement) => {
          const labelled = el.getAttribute("aria-labelledby");
          return (el.getAttribute("aria-label") ??
            (labelled ? document.getElementById(labelled)?.textContent : null) ??
            ((el as HTMLInputElement).labels?.[0]?.textContent) ??
            el.textContent ?? el.getAttribute("title") ?? "").trim();
        };
        controls.forEach((el, i) => el.setAttribute("data-probe", String(i)));
        return {
          count: controls.length,
          unnamed: controls.filter((el) => !nameOf(el)).map((el) => el.outerHTML.slice(0, 120)),
          overflow: document.documentElement.scrollWidth - innerWidth,
        };
      });
      assert.deepEqual(report.unnamed, [], `${path}: controls without a name`);
      assert.ok(report.overflow <= 0, `${path}: ${report.overflow}px wider than the screen`);
      // Tab through the page: every control gets the focus once.
      const reached = new Set<string>();
      for (let i = 0; i < report.count + 3; i++) {
        await page.keyboard.press("Tab");
        const probe = await page.evaluate(() => document.activeElement?.getAttribute("data-probe"));
        if (probe) reached.add(probe);
      }
      const missing = await page.evaluate(
        (got) =>
          [...document.querySelectorAll("[data-probe]")]
            .filter((el) => !got.includes(el.getAttribute("data-probe")!))
            .map((el) => el.outerHTML.slice(0, 100)),
        [...reached],
      );
      assert.equal(
        reached.size,
        report.count,
        `${path}: ${reached.size} of ${report.count} reached by Tab; not: ${missing.join(" | ")}`,
      );
      assert.equal(
        reached.size,
        report.count,
        `${path}: ${reached.size} of ${report.count} reached by Tab`,
      );
      await screenshot(page, shot);
      await page.close();
    }
    await member.close();
    await anonymous.close();
  });
});

Deno.test("pages - a media server that accepts but never answers ends in the unreachable message too", async () => {
  // A firewall that swallows packets looks like this: the connection opens, nothing comes back.
  const blackHole = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  (async () => {
    for await (const conn of blackHole) held.push(conn);
  })().catch(() => {});
  try {
    await withBrowser(async (browser, app) => {
      const user = await registerUser(app, { display_name: "Radia Perlman" });
      const created = await call(app, "POST", "/api/livekit/rooms", {
        token: user.token,
        json: { room_name: "Spanning tree", call_type: "video" },
      });
      const context = await signedIn(browser, app, user);
      const page = await context.newPage();
      await page.goto(`${app.base}/meeting/room?room=${created.body.id}`);
      await joinNow(page);
      await page.getByText("Connecting to “Spanning tree”").waitFor();
      await page.getByText("The media server cannot be reached").waitFor({ timeout: 30_000 });
      assert.ok(held.length > 0, "the browser did reach the silent server");
      await context.close();
    }, {
      env: { LIVEKIT_URL: `ws://127.0.0.1:${(blackHole.addr as Deno.NetAddr).port}` },
    });
  } finally {
    blackHole.close();
    held.forEach((c) => c.close());
  }
});

Deno.test("pages - Start pressed again after a lost answer opens the meeting already created, ringing nobody twice", async () => {
  await withBrowser(async (browser, app) => {
    const host = await registerUser(app, { display_name: "Grace Hopper" });
    const friend = await registerUser(app, { display_name: "Jean Sammet" });
    await addContacts(app, host, [friend]);
    const context = await signedIn(browser, app, host);
    const page = await context.newPage();
    const errors = watchErrors(page, MEDIA_SERVER_ERRORS);
    // The first creation reaches the server and is committed; its answer is lost on the way
    // back (the page sees a 503, as it would from a proxy or a connection cut at that moment).
    let lost = 0;
    await page.route("**/api/livekit/rooms", async (route) => {
      if (route.request().method() !== "POST" || lost++ > 0) return route.continue();
      await route.fetch();
      await route.fulfill({
        status: 503,
        contentType: "application/json",
        body: JSON.stringify({ error: { code: "unavailable", message: "Try again shortly." } }),
      });
    });
    await page.goto(`${app.base}/meeting/pre-join`);
    await page.getByLabel("Meeting name").fill("Compiler sync");
    await page.getByRole("checkbox", { name: /Jean Sammet/ }).check();
    await page.getByRole("button", { name: "Start call" }).click();
    await page.getByRole("alert").filter({ hasText: "Try again shortly." }).waitFor();
    await page.getByRole("button", { name: "Start call" }).click();
    await page.waitForURL(/\/meeting\/room\?room=/);
    const roomId = new URL(page.url()).searchParams.get("room");
    const rooms = await call(app, "GET", "/api/livekit/rooms", { token: host.token });
    assert.deepEqual(rooms.body.map((r: { id: string }) => r.id), [roomId], "one meeting");
    const invites = await call(app, "GET", "/api/invites", { token: friend.token });
    assert.equal(invites.body.length, 1, "rung once");
    assert.equal(lost, 2);
    assert.deepEqual(errors, ["503 POST /api/livekit/rooms"], "the lost answer, nothing else");
    await context.close();
  });
});
