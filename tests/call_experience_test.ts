// The call experience in Chromium against the real LiveKit, at desktop width and on a phone
// held upright (390 × 844): the device check on every way in (pre-join, an accepted ring, the
// link, a guest, remembered devices), layouts and pinning, the active speaker, the data saver
// (what is really received), keyboard shortcuts and push-to-talk, and ending for all with a
// confirmation.
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { addContacts } from "./harness.ts";
import {
  callTest,
  inboundBytes,
  PHONE,
  screenshot,
  seesVideoOf,
  threeInCall,
  twoInCall,
  withCall,
} from "./call_fixture.ts";

/** The tile of `identity` on `page`. */
const tile = (page: Page, identity: string) => page.locator(`li.tile[data-identity="${identity}"]`);

/** The call is on screen (connected), not the check. */
const inCall = (page: Page) => page.locator('.call[data-phase="connected"]').waitFor();

callTest(
  "call experience - the device check on every way in: pre-join, an accepted ring, the link, a guest, remembered devices",
  () =>
    withCall(async (world) => {
      const { app } = world;
      const ada = await world.person("Ada", { check: true });
      const bob = await world.person("Bob", { check: true });
      const cy = await world.person("Cy", { check: true });
      await addContacts(app, ada.user!, [bob.user!]);

      // The host checks in pre-join: preview and Start call side by side, above the fold.
      await ada.page.goto(`${app.base}/meeting/pre-join`);
      await ada.page.getByLabel("Meeting name").fill("Design review");
      await ada.page.getByRole("checkbox", { name: /Bob/ }).check();
      await ada.page.getByRole("radio", { name: "Anyone with the link, straight in" }).check();
      await ada.page.waitForFunction(() => {
        const v = document.querySelector<HTMLVideoElement>("video.preview");
        return !!v && v.videoWidth > 0;
      });
      const start = await ada.page.getByRole("button", { name: "Start call" }).boundingBox();
      assert.ok(start && start.y + start.height <= 720, `Start call at ${start?.y}`);
      await screenshot(ada.page, "63-prejoin-check");
      await bob.page.goto(`${app.base}/dashboard`);
      await bob.page.waitForFunction(() => !document.querySelector(".banner.offline"));
      await ada.page.getByRole("button", { name: "Start call" }).click();
      // ...and goes straight into the call: this tab has just checked.
      await inCall(ada.page);
      const room = new URL(ada.page.url()).searchParams.get("room")!;

      // Bob accepts the ring and gets the check first; nothing is sent before Join now.
      await bob.page.getByRole("button", { name: "Accept" }).click();
      await bob.page.getByRole("button", { name: "Join now" }).waitFor();
      await bob.page.waitForFunction(() => {
        const v = document.querySelector<HTMLVideoElement>("video.preview");
        return !!v && v.videoWidth > 0;
      });
      // The preview is mirrored, and shows the whole picture.
      const look = await bob.page.locator("video.preview").evaluate((v) => {
        const s = getComputedStyle(v);
        return { transform: s.transform, fit: s.objectFit };
      });
      assert.equal(look.fit, "contain");
      assert.match(look.transform, /^matrix\(-1, 0, 0, 1/);
      // Camera off in the check: initials stand in for the preview.
      await bob.page.getByRole("button", { name: "Turn camera off" }).click();
      await bob.page.locator(".preview-box .avatar", { hasText: "B" }).waitFor();
      // Another microphone, picked in the check, is the one the call uses.
      await bob.page.getByText("Camera, microphone and speaker").click();
      const micPicker = bob.page.getByRole("combobox", { name: "Microphone" });
      const mics = await micPicker.locator("option").evaluateAll((os) =>
        os.map((o) => (o as HTMLOptionElement).value)
      );
      assert.ok(mics.length >= 2, `microphones: ${mics.length}`);
      await micPicker.selectOption(mics[1]);
      await screenshot(bob.page, "64-check-accepted-ring-camera-off");
      assert.equal(await tile(ada.page, bob.user!.id).count(), 0, "Bob is not in the call yet");
      await bob.page.getByRole("button", { name: "Join now" }).click();
      await inCall(bob.page);
      // He came in as checked: heard, not seen.
      await tile(ada.page, bob.user!.id).locator(".avatar").waitFor();
      await seesVideoOf(bob.page, ada.user!.id);
      await moreOptions(bob.page);
      // (once the panel has listed the devices)
      await bob.page.waitForFunction(
        (id) =>
          [...document.querySelectorAll<HTMLLabelElement>(".panel.settings label")]
            .find((l) => l.textContent?.startsWith("Microphone"))
            ?.querySelector("select")?.value === id,
        mics[1],
      );

      // Cy opens the link signed in: the invitation, then the check; he chooses to skip it
      // from now on.
      await cy.page.goto(`${app.base}/meeting/invite?room=${room}`);
      await cy.page.getByRole("button", { name: "Join meeting" }).click();
      await cy.page.getByRole("button", { name: "Join now" }).waitFor();
      await cy.page.getByRole("checkbox", { name: /Remember my devices/ }).check();
      await cy.page.getByRole("button", { name: "Join now" }).click();
      await inCall(cy.page);
      await seesVideoOf(ada.page, cy.user!.id);
      // A new tab (no check done in it) goes straight in: the devices are remembered.
      const again = await cy.context.newPage();
      await again.goto(`${app.base}/meeting/room?room=${room}`);
      await inCall(again);
      assert.equal(await again.getByRole("button", { name: "Join now" }).count(), 0);
      await again.close();

      // A guest from the link, on a phone: the check, compact, with Join beside the preview.
      const gus = await world.stranger({ check: true, viewport: PHONE });
      await gus.page.goto(`${app.base}/meeting/invite?room=${room}`);
      await gus.page.getByLabel("Your name").fill("Gus Grissom");
      await gus.page.getByRole("button", { name: "Join as guest" }).click();
      await gus.page.getByRole("button", { name: "Join now" }).waitFor();
      await gus.page.locator(".preview-box").waitFor();
      const join = await gus.page.getByRole("button", { name: "Join now" }).boundingBox();
      assert.ok(join && join.y + join.height <= PHONE.height, `Join now at ${join?.y}`);
      await gus.page.getByRole("button", { name: "Mute microphone" }).click();
      await gus.page.getByText("You will join muted.").waitFor();
      await screenshot(gus.page, "65-check-guest-phone");
      await gus.page.getByRole("button", { name: "Join now" }).click();
      await inCall(gus.page);
      const gusId = await gus.page.evaluate(() =>
        document.querySelector<HTMLElement>('li.tile[data-role="guest"]')?.dataset.identity
      );
      assert.ok(gusId);
      // Muted as chosen in the check.
      await ada.page.locator(`li.tile[data-identity="${gusId}"]`, { hasText: "muted" }).waitFor();
      await seesVideoOf(gus.page, ada.user!.id);
      await screenshot(gus.page, "66-call-guest-phone");
      await screenshot(ada.page, "67-call-four-desktop");
      // Cy's second tab took his identity over: livekit-client may log, and drop, a track of
      // the replaced participant that arrives after it left. Nothing else is allowed.
      const takeover = /Tried to add a track for a participant, that's not present/;
      for (const p of [ada, bob, cy, gus]) {
        assert.deepEqual(p.errors.filter((e) => !takeover.test(e)), []);
      }
    }),
);

/** The width of the video `identity`'s tile is playing (0 without one). */
const videoWidth = (page: Page, identity: string) =>
  page.evaluate(
    (id) =>
      document.querySelector<HTMLVideoElement>(`li.tile[data-identity="${id}"] video`)
        ?.videoWidth ?? 0,
    identity,
  );

/** Waits until `identity`'s tile on `page` says they are muted (or not). */
const untilMuted = (page: Page, identity: string, muted: boolean) =>
  page.waitForFunction(
    ([id, muted]) =>
      /muted/.test(
        document.querySelector(`li.tile[data-identity="${id}"]`)!.getAttribute("aria-label")!,
      ) === muted,
    [identity, muted] as const,
  );

async function moreOptions(page: Page) {
  if (await page.locator(".panel.settings").count() === 0) {
    await page.getByRole("button", { name: "More options" }).click();
  }
}

callTest(
  "call experience - layouts, pinning, the active speaker followed, the data saver changes what is received",
  () =>
    withCall(async (world) => {
      const { ada, bob, cy } = await threeInCall(world);
      const [A, B, C] = [ada, bob, cy].map((p) => p.user!.id);
      await seesVideoOf(ada.page, B);
      await seesVideoOf(ada.page, C);
      await screenshot(ada.page, "68-layout-grid");

      // Speaker layout: the active speaker large, the others in a strip. Only Bob talks, then
      // only Cy: the large tile follows what LiveKit hears.
      await moreOptions(ada.page);
      await ada.page.getByRole("radio", { name: "Speaker" }).check();
      await ada.page.getByRole("button", { name: "More options" }).click();
      for (const p of [ada, cy]) await p.page.keyboard.press("m");
      await ada.page.locator(
        `.stage[data-layout="speaker"] .main-view li.tile[data-identity="${B}"]`,
      )
        .waitFor({ timeout: 20_000 });
      await tile(ada.page, B).and(ada.page.locator(".speaking")).waitFor({ timeout: 20_000 });
      await screenshot(ada.page, "69-layout-speaker-bob");
      await bob.page.keyboard.press("m");
      await cy.page.keyboard.press("m");
      await ada.page.locator(`.main-view li.tile[data-identity="${C}"]`).waitFor({
        timeout: 20_000,
      });
      await tile(ada.page, C).and(ada.page.locator(".speaking")).waitFor({ timeout: 20_000 });
      // Ada, muted, is not highlighted (once LiveKit's next speaker update has come).
      await tile(ada.page, A).and(ada.page.locator(".speaking")).waitFor({
        state: "detached",
        timeout: 20_000,
      });

      // Pinning Bob keeps him large whoever speaks; unpinning gives the speaker back.
      await tile(ada.page, B).hover();
      await ada.page.getByRole("button", { name: "Pin Bob" }).click();
      await ada.page.locator(
        `.stage[data-layout="pinned"] .main-view li.tile[data-identity="${B}"]`,
      )
        .waitFor();

      // Data saver. Automatic, Bob large: a high layer arrives.
      await ada.page.waitForFunction(
        (id) =>
          (document.querySelector<HTMLVideoElement>(`li.tile[data-identity="${id}"] video`)
            ?.videoWidth ?? 0) > 320,
        B,
        { timeout: 30_000 },
      );
      await screenshot(ada.page, "70-layout-pinned-bob");
      // Low quality: the lowest simulcast layer, even large.
      await moreOptions(ada.page);
      await ada.page.getByRole("radio", { name: "Low quality video" }).check();
      await ada.page.waitForFunction(
        (id) => {
          const v = document.querySelector<HTMLVideoElement>(
            `li.tile[data-identity="${id}"] video`,
          );
          return !!v && v.videoWidth > 0 && v.videoWidth <= 320;
        },
        B,
        { timeout: 30_000 },
      );
      // Audio only: no video is received at all, sound still is.
      await ada.page.getByRole("radio", { name: "Audio only" }).check();
      await tile(ada.page, B).locator(".avatar").waitFor();
      await tile(ada.page, C).locator(".avatar").waitFor();
      await ada.page.waitForTimeout(1000); // what was in flight lands
      const video0 = await inboundBytes(ada.page, "video");
      const audio0 = await inboundBytes(ada.page, "audio");
      await ada.page.waitForTimeout(2000);
      assert.equal(await inboundBytes(ada.page, "video"), video0, "no video arrives");
      assert.ok(await inboundBytes(ada.page, "audio") > audio0 + 1000, "audio still arrives");
      await screenshot(ada.page, "71-data-saver-audio-only");
      // Back to automatic: video again.
      await ada.page.getByRole("radio", { name: "Automatic" }).check();
      await seesVideoOf(ada.page, B);
      assert.ok(await videoWidth(ada.page, B) > 0);
      for (const p of [ada, bob, cy]) assert.deepEqual(p.errors, []);
    }),
);

callTest(
  "call experience - keyboard shortcuts and their help, push-to-talk, leaving with Shift+L",
  () =>
    withCall(async (world) => {
      const { ada, bob } = await twoInCall(world);
      const B = bob.user!.id;
      await seesVideoOf(ada.page, B);
      const bobOnAda = tile(ada.page, B);
      const muted = () => bobOnAda.getAttribute("aria-label").then((l) => /muted/.test(l!));

      // M mutes; the others see it.
      await bob.page.keyboard.press("m");
      await untilMuted(ada.page, B, true);
      // Push-to-talk: Space held opens the microphone, released closes it.
      await bob.page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      await bob.page.keyboard.down(" ");
      await bob.page.getByText("Talking").waitFor();
      await untilMuted(ada.page, B, false);
      await bob.page.keyboard.up(" ");
      await untilMuted(ada.page, B, true);
      assert.ok(await muted());
      // V stops the camera.
      await bob.page.keyboard.press("v");
      await bobOnAda.locator(".avatar").waitFor();
      await bob.page.keyboard.press("v");
      await seesVideoOf(ada.page, B);
      // C opens the chat; keys typed into it are text, not shortcuts.
      await bob.page.keyboard.press("c");
      await bob.page.getByPlaceholder("Message everyone").fill("mvh");
      await bob.page.getByPlaceholder("Message everyone").press("m");
      assert.equal(await bob.page.getByRole("button", { name: "Start camera" }).count(), 0);
      await bob.page.getByRole("button", { name: "Send" }).click();
      await ada.page.getByRole("button", { name: "Chat, 1 new" }).waitFor();
      await bob.page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
      await bob.page.keyboard.press("c");
      await bob.page.locator(".panel.chat").waitFor({ state: "detached" });
      // H raises the hand, in everyone's queue; again lowers it.
      await bob.page.keyboard.press("h");
      await bobOnAda.and(ada.page.locator('[data-hand="1"]')).waitFor();
      await bob.page.keyboard.press("h");
      await bobOnAda.and(ada.page.locator("[data-hand]")).waitFor({ state: "detached" });
      // ? shows the shortcuts; Escape closes them.
      await bob.page.keyboard.press("?");
      const help = bob.page.getByRole("dialog", { name: "Keyboard shortcuts" });
      await help.waitFor();
      assert.match(await help.innerText(), /Shift \+ L[\s\S]*Leave the call/);
      await screenshot(bob.page, "72-shortcuts-help");
      await bob.page.keyboard.press("Escape");
      await help.waitFor({ state: "hidden" });
      // Shift+L leaves.
      await bob.page.keyboard.press("Shift+L");
      await bob.page.getByText("You left the meeting.").waitFor();
      await bobOnAda.waitFor({ state: "detached" });
      for (const p of [ada, bob]) assert.deepEqual(p.errors, []);
    }),
);

callTest(
  "call experience - a phone held upright: one-line header, controls at the thumb, panels as sheets, End for all asked once more",
  () =>
    withCall(async (world) => {
      const { app } = world;
      const ada = await world.person("Ada", { viewport: PHONE });
      const bob = await world.person("Bob");
      const room = await world.meeting(ada, { room_name: "A rather long meeting name" }, [bob]);
      await ada.page.goto(`${app.base}/dashboard`);
      const header = await ada.page.locator("header.top").boundingBox();
      assert.ok(header && header.height < 60, `header ${header?.height}px high`);
      await screenshot(ada.page, "76-dashboard-phone");
      for (const p of [ada, bob]) await p.page.goto(`${app.base}/meeting/room?room=${room}`);
      await seesVideoOf(ada.page, bob.user!.id);
      await seesVideoOf(bob.page, ada.user!.id);

      // Nothing wider than the screen; the bar along the bottom edge, every button on it.
      const fits = await ada.page.evaluate(() => ({
        scroll: document.documentElement.scrollWidth,
        bar: document.querySelector(".controls")!.getBoundingClientRect().toJSON(),
        buttons: [...document.querySelectorAll<HTMLElement>(".controls button")]
          .filter((b) => b.offsetParent !== null)
          .map((b) => b.getBoundingClientRect().toJSON()),
      }));
      assert.ok(fits.scroll <= PHONE.width, `page ${fits.scroll}px wide`);
      assert.equal(Math.round(fits.bar.bottom), PHONE.height);
      for (const b of fits.buttons) {
        assert.ok(b.left >= 0 && b.right <= PHONE.width && b.top >= fits.bar.top, "on the bar");
        assert.ok(b.width >= 44 && b.height >= 44, "big enough for a thumb");
      }
      // Portrait: the two tiles one above the other.
      const tiles = await ada.page.locator("li.tile").evaluateAll((els) =>
        els.map((e) => e.getBoundingClientRect().toJSON())
      );
      assert.equal(tiles.length, 2);
      assert.ok(tiles[1].top >= tiles[0].bottom, "stacked");
      assert.ok(await ada.page.locator(".call-head").evaluate((e) => e.clientHeight < 40));
      await screenshot(ada.page, "77-call-phone");

      // Chat as a sheet above the bar.
      await ada.page.getByRole("button", { name: "Chat" }).click();
      await ada.page.getByPlaceholder("Message everyone").fill("On my phone");
      await ada.page.getByRole("button", { name: "Send" }).click();
      await bob.page.getByRole("button", { name: "Chat, 1 new" }).waitFor();
      await screenshot(ada.page, "78-call-phone-chat");

      // End for all is under More on a phone, and asks once more.
      await ada.page.getByRole("button", { name: "More options" }).click();
      await ada.page.locator(".panel.settings").getByRole("button", { name: "End for all" })
        .click();
      const ask = ada.page.getByRole("dialog", {
        name: "End “A rather long meeting name” for everyone?",
      });
      await ask.waitFor();
      await screenshot(ada.page, "79-call-phone-end-asked");
      await ask.getByRole("button", { name: "Cancel" }).click();
      await ask.waitFor({ state: "hidden" });
      await seesVideoOf(bob.page, ada.user!.id);
      await ada.page.locator(".panel.settings").getByRole("button", { name: "End for all" })
        .click();
      await ask.getByRole("button", { name: "End for all" }).click();
      for (const p of [ada, bob]) await p.page.getByText("This meeting has ended.").waitFor();
      for (const p of [ada, bob]) assert.deepEqual(p.errors, []);
    }),
);
