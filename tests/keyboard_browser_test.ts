// A call answered and run from the keyboard alone, against the real LiveKit: the incoming-call
// dialog takes the focus and keeps it, Escape declines and gives the focus back; then ring →
// Accept → mute → chat → leave with no pointer. The call announces joins, hands and chat in its
// live region; the ring sounds once a key has been pressed. And a call ringing a tab in the
// background raises a system notification, with Accept and Decline, gone once it stops.
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { addContacts, call, registerUser } from "./harness.ts";
import { callTest, screenshot, withCall } from "./call_fixture.ts";
import { signedIn, watchErrors, withBrowser } from "./browser.ts";

/** What has the focus: its test handle, else its accessible text. */
const focused = (page: Page) =>
  page.evaluate(() => {
    const el = document.activeElement as HTMLElement | null;
    return el?.dataset.answer ?? el?.getAttribute("aria-label") ?? el?.textContent?.trim() ?? "";
  });

/** Presses Tab until `name` has the focus (at most `max` times); fails otherwise. */
async function tabTo(page: Page, name: string, max = 60) {
  for (let i = 0; i < max; i++) {
    if ((await focused(page)) === name) return;
    await page.keyboard.press("Tab");
  }
  assert.fail(`Tab never reached "${name}" (at "${await focused(page)}")`);
}

/** Counts the ring's tones: every oscillator started on the page. */
const countTones = (page: Page) =>
  page.addInitScript(() => {
    const w = globalThis as unknown as { __tones: number };
    w.__tones = 0;
    const start = OscillatorNode.prototype.start;
    OscillatorNode.prototype.start = function (...args: [number?]) {
      w.__tones++;
      return start.apply(this, args);
    };
  });

callTest(
  "keyboard - ring, Escape declines, then Accept, mute, chat and leave without a pointer",
  () =>
    withCall(async (world) => {
      const { app } = world;
      const ada = await world.person("Ada");
      const bob = await world.person("Bob");
      await countTones(bob.page);
      await addContacts(app, ada.user!, [bob.user!]);
      await bob.page.goto(`${app.base}/dashboard`);
      await bob.page.waitForFunction(() => !document.querySelector(".banner.offline"));
      // Bob's focus is somewhere on his page (the first contact's Remove link), put there
      // without a key press: the page has had no gesture yet, so it may not make sound.
      await bob.page.locator("[data-contact] button", { hasText: "Remove" }).first().focus();
      assert.equal(await focused(bob.page), "Remove Ada");

      // A first call: the dialog takes the focus; Escape declines it and gives the focus back.
      const first = await world.meeting(ada, { room_name: "Quick question" }, [bob]);
      const dialog = bob.page.getByRole("alertdialog");
      await dialog.waitFor();
      assert.equal(await focused(bob.page), "accept");
      // Silent until the page may make sound: the prompt says so.
      assert.equal(await dialog.getAttribute("data-sound"), "off");
      assert.equal(
        await bob.page.evaluate(() => (globalThis as unknown as { __tones: number }).__tones),
        0,
      );
      // Tab and Shift+Tab stay inside the dialog.
      for (const [key, want] of [["Tab", "decline"], ["Tab", "accept"], ["Shift+Tab", "decline"]]) {
        await bob.page.keyboard.press(key);
        assert.equal(await focused(bob.page), want, `after ${key}`);
      }
      // A key was pressed: the ring is audible now.
      await bob.page.waitForFunction(() =>
        document.querySelector("dialog.incoming")?.getAttribute("data-sound") === "on"
      );
      await bob.page.waitForFunction(
        () => (globalThis as unknown as { __tones: number }).__tones > 0,
        null,
        { timeout: 10_000 },
      );
      assert.match(await dialog.innerText(), /Rings for \d:\d\d more/);
      await bob.page.keyboard.press("Escape");
      await dialog.waitFor({ state: "detached" });
      assert.equal(await focused(bob.page), "Remove Ada", "the focus is back");
      const declined = await call(app, "GET", `/api/livekit/rooms/${first}`, {
        token: ada.user!.token,
      });
      assert.equal(
        declined.body.participants.find((p: { id: string }) => p.id === bob.user!.id).invite.status,
        "declined",
      );

      // The real call: Ada is in it; Bob answers with Enter.
      const room = await world.meeting(ada, { room_name: "Design review" }, [bob]);
      await ada.page.goto(`${app.base}/meeting/room?room=${room}`);
      await ada.page.locator('.call[data-phase="connected"]').waitFor();
      await dialog.waitFor();
      assert.equal(await focused(bob.page), "accept");
      await bob.page.keyboard.press("Enter");
      await bob.page.locator('.call[data-phase="connected"]').waitFor();
      const news = ada.page.locator("[data-announcements]");
      await news.getByText("Bob joined.").waitFor();
      assert.equal(await news.getAttribute("aria-live"), "polite");

      // Mute: Tab to the microphone's button, Enter.
      await tabTo(bob.page, "Mute");
      await bob.page.keyboard.press("Enter");
      await bob.page.getByRole("button", { name: "Unmute" }).waitFor();
      await ada.page.locator(`li.tile[data-identity="${bob.user!.id}"] .badge`, {
        hasText: "muted",
      })
        .waitFor();

      // Chat: Tab to Chat, Enter; Tab to the message box, type, Enter.
      await tabTo(bob.page, "Chat");
      await bob.page.keyboard.press("Enter");
      await tabTo(bob.page, "");
      assert.equal(await bob.page.evaluate(() => document.activeElement?.tagName), "INPUT");
      await bob.page.keyboard.type("Hello from the keyboard");
      await bob.page.keyboard.press("Enter");
      await news.getByText("Bob: Hello from the keyboard").waitFor();
      // A hand, from its shortcut: announced too.
      await bob.page.keyboard.press("Escape");
      await bob.page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      await bob.page.keyboard.press("h");
      await news.getByText("Bob raised their hand.").waitFor();
      await screenshot(bob.page, "93-keyboard-call");

      // Leave: Tab to Leave, Enter.
      await tabTo(bob.page, "Leave");
      await bob.page.keyboard.press("Enter");
      await bob.page.locator('.call-state[data-phase="left"]').waitFor();
      await news.getByText("Bob left.").waitFor();
      assert.deepEqual(bob.errors, []);
      assert.deepEqual(ada.errors, []);
    }),
);

Deno.test("notifications - asked only from the offer; a call ringing a background tab shows one, with Accept and Decline", () =>
  withBrowser(async (browser, app) => {
    const ada = await registerUser(app, { display_name: "Ada" });
    const bob = await registerUser(app, { display_name: "Bob" });
    await addContacts(app, ada, [bob]);

    // Never asked on load: only the offer's button asks, after it has said why.
    const asking = await signedIn(browser, app, bob);
    const page = await asking.newPage();
    await page.addInitScript(() => {
      const w = globalThis as unknown as { __asked: number };
      w.__asked = 0;
      Notification.requestPermission = () => {
        w.__asked++;
        return Promise.resolve("granted");
      };
    });
    await page.goto(`${app.base}/dashboard`);
    const offer = page.locator(".notify-offer");
    await offer.getByText("Urbania can show a system notification").waitFor();
    assert.equal(
      await page.evaluate(() => (globalThis as unknown as { __asked: number }).__asked),
      0,
    );
    await offer.getByRole("button", { name: "Turn on notifications" }).click();
    await page.getByText("Notifications are on").waitFor();
    assert.equal(
      await page.evaluate(() => (globalThis as unknown as { __asked: number }).__asked),
      1,
    );
    await asking.close();

    // Allowed (Chromium grants it here): the tab goes to the background, Ada calls.
    const context = await signedIn(browser, app, bob);
    await context.grantPermissions(["notifications"], { origin: app.base });
    const tab = await context.newPage();
    const errors = watchErrors(tab);
    await tab.goto(`${app.base}/dashboard`);
    await tab.waitForFunction(() => !document.querySelector(".banner.offline"));
    assert.equal(await tab.locator(".notify-offer").count(), 0, "nothing to offer once allowed");
    await tab.evaluate(() => navigator.serviceWorker.ready);
    // The tab goes to the background. Headless Chromium keeps every tab visible, so this one is
    // hidden the way the browser hides it: visibilityState "hidden" and a visibilitychange.
    await tab.evaluate(() => {
      Object.defineProperty(document, "visibilityState", { get: () => "hidden" });
      Object.defineProperty(document, "hidden", { get: () => true });
      document.dispatchEvent(new Event("visibilitychange"));
    });

    const room = await call(app, "POST", "/api/livekit/rooms", {
      token: ada.token,
      json: { room_name: "Budget", call_type: "video", participants: [bob.id] },
    });
    /** Polls `ok` for up to 30 s (a bound on waiting on a loaded machine, not a speed). */
    const until = async (ok: () => Promise<boolean>) => {
      for (const end = Date.now() + 30_000; !(await ok());) {
        if (Date.now() > end) assert.fail("not in time");
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const shown = () =>
      tab.evaluate(async () =>
        (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({
          title: n.title,
          body: n.body,
          tag: n.tag,
          actions: ((n as unknown as { actions?: { action: string; title: string }[] }).actions ??
            []).map((a) => `${a.action}:${a.title}`),
        }))
      );
    await until(async () => (await shown()).length === 1);
    const [notice] = await shown();
    assert.equal(notice.title, "Ada is calling");
    assert.match(notice.body, /^Budget · Video call · Rings for \d:\d\d more\.$/);
    assert.deepEqual(notice.actions, ["accept:Accept", "decline:Decline"]);

    // Decline on the notification (the worker's own handler): the tab declines the call.
    const worker = context.serviceWorkers()[0] ?? await context.waitForEvent("serviceworker");
    await worker.evaluate(async (tag) => {
      const sw = globalThis as unknown as {
        registration: ServiceWorkerRegistration;
        answerNotice(n: Notification, action: string): Promise<void>;
      };
      const [n] = await sw.registration.getNotifications({ tag });
      await sw.answerNotice(n, "decline");
    }, notice.tag);
    await until(async () => (await shown()).length === 0);
    const bobsInvite = async () =>
      (await call(app, "GET", `/api/livekit/rooms/${room.body.id}`, { token: ada.token })).body
        .participants.find((p: { id: string }) => p.id === bob.id).invite.status;
    await until(async () => (await bobsInvite()) === "declined");
    assert.equal(await bobsInvite(), "declined");

    // A call withdrawn takes its notification away.
    const again = await call(app, "POST", "/api/livekit/rooms", {
      token: ada.token,
      json: { room_name: "Budget, again", call_type: "audio", participants: [bob.id] },
    });
    await until(async () => (await shown()).length === 1);
    assert.equal((await shown())[0].body.startsWith("Budget, again · Audio call"), true);
    const ringing = again.body.participants.find((p: { id: string }) => p.id === bob.id).invite;
    await call(app, "POST", `/api/invites/${ringing.id}/cancel`, { token: ada.token });
    await until(async () => (await shown()).length === 0);
    assert.deepEqual(errors, []);
  }));
