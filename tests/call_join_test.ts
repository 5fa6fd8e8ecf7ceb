// Joining from the device check in Chromium against the real LiveKit: what can be done before
// the person decides is done while they look at the check (a token fetched, nothing connected,
// nobody shown as in the call), Join makes one request, and the call publishes the check's
// running camera and microphone instead of opening the devices again.
import assert from "node:assert/strict";
import type { Request } from "playwright-core";
import { callTest, openRoom, seesVideoOf, withCall } from "./call_fixture.ts";

/** Init script: counts the page's getUserMedia calls in `__gum`. */
function countGetUserMedia() {
  const calls = { n: 0 };
  Object.defineProperty(globalThis, "__gum", { value: calls });
  const native = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = (constraints) => {
    calls.n++;
    return native(constraints);
  };
}

callTest(
  "call join - the check fetches the token ahead without connecting; Join makes one request and publishes the check's camera",
  () =>
    withCall(async ({ app, person, meeting }) => {
      const ada = await person("Ada");
      const bob = await person("Bob", { check: true });
      const room = await meeting(ada, {}, [bob]);
      await openRoom(ada, app, room);
      await ada.page.locator(`li.tile[data-identity="${ada.user!.id}"] video`).waitFor();

      await bob.context.addInitScript(countGetUserMedia);
      const posts: string[] = [];
      bob.page.on("request", (r: Request) => {
        if (r.method() === "POST") posts.push(new URL(r.url()).pathname);
      });
      const sockets: string[] = [];
      bob.page.on("websocket", (ws) => sockets.push(new URL(ws.url()).pathname));
      const early = bob.page.waitForResponse((r) =>
        r.url().endsWith("/api/livekit/token") && r.request().method() === "POST"
      );
      await openRoom(bob, app, room);
      const join = bob.page.getByRole("button", { name: "Join now" });
      await join.waitFor();
      // The token is fetched while Bob looks at his preview...
      assert.equal((await early).status(), 200);
      await bob.page.waitForFunction(() => {
        const v = document.querySelector<HTMLVideoElement>("video.preview");
        return !!v && v.videoWidth > 0;
      });
      // ...but nothing is connected, nothing recorded, and nobody sees him in the call.
      assert.deepEqual(sockets.filter((p) => p.includes("/rtc")), [], "no LiveKit socket yet");
      assert.deepEqual(posts.filter((p) => p.endsWith("/join")), [], "no join recorded yet");
      assert.equal(
        await ada.page.locator(`li.tile[data-identity="${bob.user!.id}"]`).count(),
        0,
        "Bob is not shown in the call before Join",
      );

      await join.click();
      await bob.page.locator('.call[data-phase="connected"]').waitFor();
      // Ada sees Bob's camera: the one his check opened, published as it ran.
      await seesVideoOf(ada.page, bob.user!.id);
      await seesVideoOf(bob.page, ada.user!.id);
      assert.equal(posts.filter((p) => p.endsWith("/join")).length, 1, "one join request");
      assert.equal(
        posts.filter((p) => p === "/api/livekit/token").length,
        1,
        "Join used the token fetched ahead",
      );
      assert.equal(sockets.filter((p) => p.includes("/rtc")).length, 1, "one LiveKit socket");
      const gum = () =>
        bob.page.evaluate(() => (globalThis as unknown as { __gum: { n: number } }).__gum.n);
      assert.equal(await gum(), 1, "the devices were opened once, by the check");

      // The published camera is the call's own: turning it off stops it, turning it on opens
      // the camera again, and Ada sees it again.
      await bob.page.getByRole("button", { name: "Stop camera" }).click();
      await ada.page.locator(`li.tile[data-identity="${bob.user!.id}"] .avatar`).waitFor();
      await bob.page.waitForFunction(() =>
        !document.querySelector(".call video.mirror") ||
        (document.querySelector<HTMLVideoElement>(".call video.mirror")!.srcObject as MediaStream)
          ?.getVideoTracks().every((t) => t.readyState === "ended")
      );
      await bob.page.getByRole("button", { name: "Start camera" }).click();
      await seesVideoOf(ada.page, bob.user!.id);
      assert.equal(await gum(), 2, "the camera was opened again for Start camera");
    }),
);
