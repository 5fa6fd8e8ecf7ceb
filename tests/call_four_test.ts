// Calls of four, against the real LiveKit: three members and a guest in a video call, and an
// audio call where nobody is asked for a camera.
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import {
  callTest,
  joinAsGuest,
  screenshot,
  seesVideoOf,
  threeInCall,
  untilRoom,
  withCall,
} from "./call_fixture.ts";

async function sendChat(page: Page, text: string) {
  const box = page.getByRole("textbox", { name: "Message" });
  if (await box.count() === 0) await page.getByRole("button", { name: /^Chat/ }).click();
  await box.fill(text);
  await page.getByRole("button", { name: "Send" }).click();
}

callTest(
  "call 4-way - three members and a guest named like one: four tiles, the guest marked",
  () =>
    withCall(async (world) => {
      const { app } = world;
      const { ada, bob, cy, room } = await threeInCall(world);
      const guest = await joinAsGuest(world, room, "Ada");

      await bob.page.locator("li.tile").nth(3).waitFor({ timeout: 30_000 });
      assert.equal(await bob.page.locator("li.tile").count(), 4);
      await seesVideoOf(bob.page, ada.user!.id, 30_000);
      const guestTile = bob.page.locator('li.tile[data-role="guest"]');
      await guestTile.locator("video").waitFor({ timeout: 30_000 });
      // Same name, told apart: the guest's tile carries a badge, member Ada's does not.
      assert.equal(await guestTile.locator(".name").innerText(), "Ada");
      assert.equal(await guestTile.locator(".badge.guest").innerText(), "Guest");
      const memberAda = bob.page.locator(`li.tile[data-identity="${ada.user!.id}"]`);
      assert.equal(await memberAda.locator(".badge.guest").count(), 0);
      assert.match((await guestTile.getAttribute("aria-label"))!, /^Ada \(guest\)/);

      // In chat too: the sender's role comes from LiveKit, not from anything the guest sends.
      await sendChat(guest.page, "Hello from the guest");
      await sendChat(ada.page, "Hello from the host");
      const chat = bob.page.getByRole("complementary", { name: "Chat" });
      await bob.page.getByRole("button", { name: /^Chat/ }).click();
      await chat.getByText("Hello from the host").waitFor({ timeout: 10_000 });
      const from = async (text: string) =>
        await chat.locator("li", { hasText: text }).locator("strong").innerText();
      assert.equal(await from("Hello from the guest"), "Ada (guest)");
      assert.equal(await from("Hello from the host"), "Ada");
      await screenshot(bob.page, "38-call-four-with-guest");

      // Presence: three members and the guest, by LiveKit's webhooks.
      const seen = await untilRoom(app, ada, room, (r) => r.in_call_count === 4);
      assert.equal(seen.guests_in_call, 1);
      for (const p of [ada, bob, cy, guest]) assert.deepEqual(p.errors, []);
    }),
);

callTest(
  "call 4-way/audio - no camera is asked for; a guest publishes the microphone",
  () =>
    withCall(async (world) => {
      const { app } = world;
      const { ada, bob, cy, room } = await threeInCall(world, {
        fields: { call_type: "audio" },
        prepare: (p) => p.context.addInitScript(recordMediaRequests),
      });
      const guest = await joinAsGuest(
        world,
        room,
        "Grace",
        (g) => g.context.addInitScript(recordMediaRequests),
      );

      await ada.page.locator("li.tile").nth(3).waitFor({ timeout: 30_000 });
      // The guest's microphone is on (published), and nothing failed on their page.
      const guestTile = ada.page.locator('li.tile[data-role="guest"]');
      await ada.page.waitForFunction(
        () =>
          !/muted/.test(
            document.querySelector('li.tile[data-role="guest"]')
              ?.getAttribute("aria-label") ?? "muted",
          ),
        undefined,
        { timeout: 15_000 },
      );
      assert.equal(await guestTile.locator("video").count(), 0);
      for (const p of [ada, bob, cy, guest]) {
        const asked = await p.page.evaluate(() =>
          (globalThis as unknown as { __media: string[] }).__media
        );
        assert.ok(asked.length > 0, "the microphone was asked for");
        assert.deepEqual(asked.filter((a) => a !== "audio"), [], "never a camera");
        assert.equal(await p.page.getByRole("button", { name: /camera/i }).count(), 0);
        assert.equal(await p.page.getByRole("button", { name: "Share screen" }).count(), 0);
        assert.equal(await p.page.locator(".status.error:not([hidden])").count(), 0);
      }
      await screenshot(guest.page, "39-call-audio-guest");
      await untilRoom(app, ada, room, (r) => r.in_call_count === 4);
      for (const p of [ada, bob, cy, guest]) assert.deepEqual(p.errors, []);
    }),
);

/** Init script: records what each getUserMedia call asked for ("audio", "video", "audio+video"). */
function recordMediaRequests() {
  const list: string[] = [];
  Object.defineProperty(globalThis, "__media", { value: list });
  const md = navigator.mediaDevices;
  const original = md.getUserMedia.bind(md);
  md.getUserMedia = (c?: MediaStreamConstraints) => {
    list.push([c?.audio ? "audio" : "", c?.video ? "video" : ""].filter(Boolean).join("+"));
    return original(c);
  };
}
