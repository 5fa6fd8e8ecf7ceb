// Calls of two, against the real LiveKit and coturn (tests/call_fixture.ts): media both ways,
// chat, screen share, host controls, a token that expires during the call, LiveKit going away
// and coming back, and a browser that may only use the TURN relay.
import assert from "node:assert/strict";
import { call } from "./harness.ts";
import {
  callTest,
  inboundAudioBytes,
  joinAsGuest,
  openRoom,
  roomAs,
  screenshot,
  seesVideoOf,
  threeInCall,
  twoInCall,
  untilRoom,
  withCall,
} from "./call_fixture.ts";

callTest(
  "call 2-way - video both ways, remote audio flows, the speaker is highlighted",
  () =>
    withCall(async (world) => {
      const { app } = world;
      const { ada, bob, room } = await twoInCall(world);
      await Promise.all([
        seesVideoOf(ada.page, bob.user!.id),
        seesVideoOf(bob.page, ada.user!.id),
      ]);
      await screenshot(ada.page, "30-call-two-people");

      // Remote audio really arrives: the received byte count grows.
      const before = await inboundAudioBytes(bob.page);
      await bob.page.waitForTimeout(1500);
      const after = await inboundAudioBytes(bob.page);
      assert.ok(after > before + 1000, `audio bytes ${before} → ${after}`);
      // ...and plays from an element on the page (attached even for people already there).
      assert.ok(await bob.page.locator(".audio-sink audio").count() >= 1);

      // The fake microphone beeps: LiveKit reports Ada speaking and Bob's page shows it.
      await bob.page.locator(`li.tile.speaking[data-identity="${ada.user!.id}"]`).waitFor({
        timeout: 15_000,
      });

      // Presence comes from LiveKit's real webhooks.
      const seen = await untilRoom(app, ada, room, (r) => r.in_call_count === 2);
      assert.equal(seen.status, "active");
      assert.deepEqual(ada.errors, []);
      assert.deepEqual(bob.errors, []);
    }),
);

callTest(
  "call 2-way - chat both ways; the sender is the one LiveKit names",
  () =>
    withCall(async (world) => {
      const { ada, bob } = await twoInCall(world);
      await seesVideoOf(ada.page, bob.user!.id);

      await ada.page.getByRole("button", { name: /^Chat/ }).click();
      await ada.page.getByRole("textbox", { name: "Message" }).fill("Hello from Ada");
      await ada.page.getByRole("button", { name: "Send" }).click();
      await bob.page.getByRole("button", { name: "Chat, 1 new" }).click();
      const bobChat = bob.page.getByRole("complementary", { name: "Chat" });
      await bobChat.getByText("Hello from Ada").waitFor({ timeout: 10_000 });
      assert.equal(await bobChat.locator("li").first().locator("strong").innerText(), "Ada");

      // A payload claiming another sender changes nothing: the name is LiveKit's participant
      // (the page sends only {text}; a forged field is ignored).
      await bob.page.getByRole("textbox", { name: "Message" }).fill("Hi Ada");
      await bob.page.getByRole("button", { name: "Send" }).click();
      const adaChat = ada.page.getByRole("complementary", { name: "Chat" });
      await adaChat.getByText("Hi Ada").waitFor({ timeout: 10_000 });
      const line = adaChat.locator("li", { hasText: "Hi Ada" });
      assert.equal(await line.locator("strong").innerText(), "Bob");
      await screenshot(ada.page, "31-call-chat");
      assert.deepEqual(ada.errors, []);
      assert.deepEqual(bob.errors, []);
    }),
);

callTest(
  "call 2-way - host controls on the real LiveKit: mute, removal that lasts, end for all",
  () =>
    withCall(async (world) => {
      const { app } = world;
      const { ada, bob, room } = await twoInCall(world);
      await seesVideoOf(ada.page, bob.user!.id);

      // Mute: Bob's own controls show his microphone off; his tile on Ada's page says so.
      const bobTile = ada.page.locator(`li.tile[data-identity="${bob.user!.id}"]`);
      await bobTile.hover();
      await ada.page.getByRole("button", { name: "Mute Bob" }).click();
      await bob.page.getByRole("button", { name: "Unmute" }).waitFor({ timeout: 10_000 });
      await bobTile.locator(".badge", { hasText: "muted" }).waitFor({ timeout: 10_000 });

      // A guest joins from the link.
      const guest = await joinAsGuest(world, room, "Grace");
      const guestTile = ada.page.locator('li.tile[data-role="guest"]');
      await guestTile.waitFor({ timeout: 20_000 });

      // Remove Bob: LiveKit disconnects him, and neither a reload nor "Try again" brings him back.
      await bobTile.hover();
      await ada.page.getByRole("button", { name: "Remove Bob" }).click();
      await ada.page.getByRole("button", { name: "Yes, remove Bob" }).click();
      await bob.page.getByText("The host removed you from this meeting.").waitFor({
        timeout: 10_000,
      });
      assert.equal(await bob.page.getByRole("button", { name: "Try again" }).count(), 0);
      // Reloading leads to the invitation, which says so and offers no way in.
      await bob.page.reload();
      await bob.page.getByText("The host removed you from this meeting.").waitFor({
        timeout: 10_000,
      });
      assert.match(bob.page.url(), /\/meeting\/invite\?room=/);
      assert.equal(await bob.page.getByRole("button", { name: "Join meeting" }).count(), 0);
      await screenshot(bob.page, "32-call-removed");
      await bobTile.waitFor({ state: "detached", timeout: 10_000 });

      // Remove the guest: the same, for someone without an account.
      const guestName = await guestTile.locator(".name").innerText();
      assert.equal(guestName, "Grace");
      await guestTile.hover();
      await ada.page.getByRole("button", { name: "Remove Grace (guest)" }).click();
      await ada.page.getByRole("button", { name: "Yes, remove Grace (guest)" }).click();
      await guest.page.getByText("The host removed you from this meeting.").waitFor({
        timeout: 10_000,
      });
      await guest.page.reload();
      await guest.page.getByText("The host removed you from this meeting.").waitFor({
        timeout: 10_000,
      });
      // Nor by joining as a guest again from the same browser.
      await guest.page.goto(`${app.base}/meeting/invite?room=${room}`);
      await guest.page.getByLabel("Your name").fill("Grace again");
      await guest.page.getByRole("button", { name: "Join as guest" }).click();
      await guest.page.getByText("The host removed you from this meeting.").waitFor({
        timeout: 10_000,
      });

      // Invited again, Bob comes back.
      const again = await call(app, "POST", `/api/livekit/rooms/${room}/invite`, {
        token: ada.user!.token,
        json: { participants: [bob.user!.id] },
      });
      assert.equal(again.status, 200);
      await openRoom(bob, app, room);
      await seesVideoOf(ada.page, bob.user!.id);

      // End for all: everyone's page says so, LiveKit's room is gone.
      // ...asked once more.
      await ada.page.getByRole("button", { name: "End for all" }).click();
      await ada.page.getByRole("dialog", { name: "End “Weekly sync” for everyone?" })
        .getByRole("button", { name: "End for all" }).click();
      for (const p of [ada, bob]) {
        await p.page.getByText("This meeting has ended.").waitFor({ timeout: 10_000 });
      }
      assert.equal((await roomAs(app, ada, room)).status, "ended");
      assert.deepEqual(ada.errors, []);
      // Bob's refused token and the guest's refused joins are the answers we expect.
      assert.deepEqual(
        bob.errors.filter((e) => !/^403 POST \/api\/livekit\/(rooms\/[^/]+\/join|token)$/.test(e)),
        [],
      );
      assert.deepEqual(
        guest.errors.filter((e) =>
          !/^403 POST \/api\/livekit\/rooms\/[^/]+\/guest(\/token)?$/.test(e)
        ),
        [],
      );
    }),
);

callTest(
  "call 2-way - screen share: the others see it large, the sharer does not; two at once",
  () =>
    withCall(async (world) => {
      const { ada, bob, cy } = await threeInCall(world);
      await seesVideoOf(cy.page, ada.user!.id);

      await ada.page.getByRole("button", { name: "Share screen" }).click();
      const adaShare = `figure.screen[data-identity="${ada.user!.id}"] video`;
      await cy.page.locator(adaShare).waitFor({ timeout: 30_000 });
      await cy.page.getByText("Ada is sharing their screen").waitFor();
      // The sharer is told, and not shown their own screen large.
      await ada.page.getByText("You are sharing your screen.").waitFor();
      assert.equal(await ada.page.locator("figure.screen").count(), 0);

      // A second share: both are on the others' screens.
      await bob.page.getByRole("button", { name: "Share screen" }).click();
      await cy.page.locator(`figure.screen[data-identity="${bob.user!.id}"] video`).waitFor({
        timeout: 30_000,
      });
      assert.equal(await cy.page.locator("figure.screen").count(), 2);
      await ada.page.locator(`figure.screen[data-identity="${bob.user!.id}"]`).waitFor();
      await screenshot(cy.page, "33-call-two-shares");

      await ada.page.getByRole("button", { name: "Stop sharing" }).click();
      await cy.page.locator(adaShare).waitFor({ state: "detached", timeout: 30_000 });
      assert.deepEqual(ada.errors, []);
      assert.deepEqual(cy.errors, []);
    }),
);

callTest(
  "call 2-way - LiveKit down a few seconds: reconnecting, then the call goes on",
  () =>
    withCall(async (world) => {
      const { media } = world;
      const { ada, bob } = await twoInCall(world);
      await seesVideoOf(bob.page, ada.user!.id);

      await media.killLiveKit();
      await bob.page.getByText("Connection lost. Reconnecting…").waitFor({ timeout: 20_000 });
      await screenshot(bob.page, "35-call-reconnecting");
      await media.startLiveKit();
      // No reload: the same page is back in the call with the other's video.
      await bob.page.getByText("Connection lost. Reconnecting…").waitFor({
        state: "detached",
        timeout: 40_000,
      });
      await seesVideoOf(bob.page, ada.user!.id, 30_000);
      await seesVideoOf(ada.page, bob.user!.id, 30_000);
      assert.equal(
        await bob.page.evaluate(() => performance.getEntriesByType("navigation").length),
        1,
      );
    }),
);

callTest(
  "call 2-way - a call outlives its token; a member and a guest reload and join again",
  () =>
    withCall(async (world) => {
      const { ada, bob, room } = await twoInCall(world);
      const guest = await joinAsGuest(world, room, "Grace");
      await seesVideoOf(bob.page, ada.user!.id);
      await seesVideoOf(guest.page, ada.user!.id);
      // Tokens live 8 s here: well past that, the call goes on.
      await bob.page.waitForTimeout(12_000);
      await seesVideoOf(bob.page, ada.user!.id);
      await seesVideoOf(ada.page, bob.user!.id);
      assert.equal(await bob.page.locator('[data-phase="connected"]').count(), 1);
      // A reload asks for a fresh token and joins again: a guest's too (their pass, not a
      // saved token, gets them one).
      await bob.page.reload();
      await guest.page.reload();
      await seesVideoOf(bob.page, ada.user!.id);
      await seesVideoOf(ada.page, bob.user!.id);
      await seesVideoOf(guest.page, ada.user!.id);
      assert.deepEqual(bob.errors, []);
      assert.deepEqual(guest.errors, []);
    }, { app: { tokenTtlSeconds: 8 } }),
);

callTest(
  "call 2-way - a microphone refused leaves the camera on, with a message naming it",
  () =>
    withCall(async ({ app, person, meeting }) => {
      const ada = await person("Ada");
      const bob = await person("Bob");
      // Bob's browser refuses the microphone only (the page asks for it first).
      await bob.context.addInitScript(() => {
        const md = navigator.mediaDevices;
        const original = md.getUserMedia.bind(md);
        md.getUserMedia = (c?: MediaStreamConstraints) =>
          c?.audio
            ? Promise.reject(new DOMException("Permission denied", "NotAllowedError"))
            : original(c);
      });
      const room = await meeting(ada, {}, [bob]);
      await openRoom(ada, app, room);
      await openRoom(bob, app, room);
      await bob.page.getByText("Microphone access was denied.", { exact: false }).waitFor({
        timeout: 20_000,
      });
      assert.equal(await bob.page.getByText("Camera access was denied").count(), 0);
      // His camera is published all the same: Ada sees him.
      await seesVideoOf(ada.page, bob.user!.id);
      await screenshot(bob.page, "40-call-microphone-denied");
    }),
);

callTest(
  "call 2-way - a media connection slower than 12 s still connects",
  () =>
    withCall(async (world) => {
      const { app } = world;
      // Bob's browser takes 14 s to apply LiveKit's first session description, as a slow relayed
      // path might: within livekit-client's own media timeout, so the page must wait for it
      // rather than call the server unreachable.
      const ada = await world.person("Ada");
      const bob = await world.person("Bob");
      await bob.context.addInitScript(() => {
        const proto = RTCPeerConnection.prototype as unknown as {
          setRemoteDescription(d: RTCSessionDescriptionInit): Promise<void>;
        };
        const original = proto.setRemoteDescription;
        let first = true;
        proto.setRemoteDescription = async function (this: unknown, d: RTCSessionDescriptionInit) {
          if (first) {
            first = false;
            await new Promise((r) => setTimeout(r, 14_000));
          }
          return await original.call(this, d);
        };
      });
      const room = await world.meeting(ada, {}, [bob]);
      await openRoom(ada, app, room);
      await openRoom(bob, app, room);
      await seesVideoOf(bob.page, ada.user!.id, 60_000);
      assert.equal(await bob.page.getByText("The media server cannot be reached").count(), 0);
    }),
);
