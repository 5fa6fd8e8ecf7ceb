// A real call through a real LiveKit: two Chromium pages with fake camera and microphone join
// one meeting through the app, each sees the other's video, chat crosses, the host mutes the
// other, then ends the meeting and both pages say so. It runs when a LiveKit answers at
// LIVEKIT_URL (with LIVEKIT_API_KEY and LIVEKIT_API_SECRET, as the stack's `tests` service
// sets them) and reports itself skipped otherwise: nothing here stands in for LiveKit.
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { addContacts, call, registerUser } from "./harness.ts";
import { launchChromium, screenshot, signedIn, startPageApp, watchErrors } from "./browser.ts";

const LIVEKIT_URL = Deno.env.get("LIVEKIT_URL");
const LIVEKIT_API_KEY = Deno.env.get("LIVEKIT_API_KEY");
const LIVEKIT_API_SECRET = Deno.env.get("LIVEKIT_API_SECRET");

/** LiveKit's HTTP root answers "OK" when the server is up. */
async function livekitAnswers(): Promise<boolean> {
  if (!LIVEKIT_URL || !LIVEKIT_API_KEY || !LIVEKIT_API_SECRET) return false;
  try {
    const res = await fetch(LIVEKIT_URL.replace(/^ws/, "http"), {
      signal: AbortSignal.timeout(2000),
    });
    await res.body?.cancel();
    return res.ok;
  } catch {
    return false;
  }
}

const available = await livekitAnswers();
if (!available) {
  console.log(
    "call e2e: skipped — no LiveKit answers at LIVEKIT_URL (set LIVEKIT_URL, LIVEKIT_API_KEY " +
      "and LIVEKIT_API_SECRET, or run the tests inside the compose stack)",
  );
}

/** Resolves once the tile of `identity` plays video with real frames. */
async function seesVideoOf(page: Page, identity: string) {
  await page.waitForFunction(
    (id) => {
      const video = document.querySelector<HTMLVideoElement>(
        `li.tile[data-identity="${id}"] video`,
      );
      return !!video && video.videoWidth > 0 && video.readyState >= 2;
    },
    identity,
    { timeout: 15_000 },
  );
}

Deno.test({
  name: "call e2e - two browsers see each other, chat, the host mutes and ends the meeting",
  ignore: !available,
  async fn() {
    const app = await startPageApp({
      env: {
        LIVEKIT_URL: LIVEKIT_URL!,
        LIVEKIT_API_KEY: LIVEKIT_API_KEY!,
        LIVEKIT_API_SECRET: LIVEKIT_API_SECRET!,
        ...(Deno.env.get("LIVEKIT_API_URL")
          ? { LIVEKIT_API_URL: Deno.env.get("LIVEKIT_API_URL")! }
          : {}),
      },
    });
    const browser = await launchChromium();
    try {
      const ada = await registerUser(app, { display_name: "Ada" });
      const bob = await registerUser(app, { display_name: "Bob" });
      await addContacts(app, ada, [bob]);
      const created = await call(app, "POST", "/api/livekit/rooms", {
        token: ada.token,
        json: { room_name: "End to end", call_type: "video", participants: [bob.id] },
      });
      assert.equal(created.status, 201);
      const roomId = created.body.id;
      const adaPage = await (await signedIn(browser, app, ada)).newPage();
      const bobPage = await (await signedIn(browser, app, bob)).newPage();
      const adaErrors = watchErrors(adaPage);
      const bobErrors = watchErrors(bobPage);

      await adaPage.goto(`${app.base}/meeting/room?room=${roomId}`);
      await bobPage.goto(`${app.base}/meeting/room?room=${roomId}`);
      await Promise.all([seesVideoOf(adaPage, bob.id), seesVideoOf(bobPage, ada.id)]);
      await screenshot(adaPage, "30-call-two-people");

      await adaPage.getByRole("button", { name: /^Chat/ }).click();
      await adaPage.getByRole("textbox", { name: "Message" }).fill("Hello from Ada");
      await adaPage.getByRole("button", { name: "Send" }).click();
      await bobPage.getByRole("button", { name: /^Chat 1 new/ }).click();
      await bobPage.getByRole("complementary", { name: "Chat" }).getByText("Hello from Ada")
        .waitFor({ timeout: 5000 });

      // The host mutes Bob through the app; Bob's own page shows his microphone off.
      await adaPage.locator(`li.tile[data-identity="${bob.id}"]`).hover();
      await adaPage.getByRole("button", { name: "Mute Bob" }).click();
      await bobPage.getByRole("button", { name: "Unmute" }).waitFor({ timeout: 5000 });

      await adaPage.getByRole("button", { name: "End for all" }).click();
      for (const page of [adaPage, bobPage]) {
        await page.getByText("This meeting has ended.").waitFor({ timeout: 10_000 });
      }
      const room = await call(app, "GET", `/api/livekit/rooms/${roomId}`, { token: ada.token });
      assert.equal(room.body.status, "ended");
      assert.deepEqual(adaErrors, []);
      assert.deepEqual(bobErrors, []);
    } finally {
      await browser.close();
      await app.stop();
    }
  },
});
