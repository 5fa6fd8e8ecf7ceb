// Who is in a call, as the real LiveKit reports it through its webhooks: a closed tab leaves,
// a person whose media never connects is never shown in the call, leaving works from every
// state, and a LiveKit gone for long ends in an honest state rather than a spinner.
import assert from "node:assert/strict";
import { LiveKit } from "../lib/meetings/livekit.ts";
import { reconcilePresence } from "../lib/meetings/presence.ts";
import { call } from "./harness.ts";
import { connects } from "./livekit_webhook.ts";
import {
  callTest,
  openRoom,
  roomAs,
  screenshot,
  seesVideoOf,
  threeInCall,
  twoInCall,
  untilRoom,
  withCall,
} from "./call_fixture.ts";

const inCall = (r: { participants: { id: string; in_call: boolean }[] }, id: string) =>
  r.participants.find((p) => p.id === id)?.in_call;

callTest(
  "presence - a closed tab leaves the call on the host's dashboard, live",
  () =>
    withCall(async ({ app, person, meeting }) => {
      const ada = await person("Ada");
      const bob = await person("Bob");
      const room = await meeting(ada, {}, [bob]);
      await openRoom(bob, app, room);
      const dashboard = ada.page;
      await dashboard.goto(`${app.base}/dashboard`);
      const bobOnDashboard = dashboard.locator(
        `[data-room="${room}"] [data-person="${bob.user!.id}"]`,
      );
      await bobOnDashboard.and(dashboard.locator('[data-state="in-call"]')).waitFor({
        timeout: 20_000,
      });
      await bob.page.close();
      await bobOnDashboard.and(dashboard.locator('[data-state="away"]')).waitFor({
        timeout: 60_000,
      });
      assert.equal(inCall(await roomAs(app, ada, room), bob.user!.id), false);
      assert.deepEqual(ada.errors, []);
    }),
);

callTest(
  "presence - media that never connects is never in the call; Leave from there",
  () =>
    withCall(async ({ app, person, meeting }) => {
      const ada = await person("Ada");
      // Bob's browser cannot make any media path: signalling connects, media never does.
      const bob = await person("Bob", { ice: "none" });
      const room = await meeting(ada, {}, [bob]);
      await openRoom(ada, app, room);
      await untilRoom(app, ada, room, (r) => inCall(r, ada.user!.id) === true);
      // Bob's real-time socket is held until his join has been answered: the update that join
      // pushed is certainly missed, and the page must not keep the room it was drawn with.
      let joined!: () => void;
      const joinAnswered = new Promise<void>((done) => joined = done);
      bob.page.on("response", (r) => {
        if (r.url().endsWith(`/api/livekit/rooms/${room}/join`)) joined();
      });
      await bob.context.routeWebSocket(/\/ws$/, async (ws) => {
        await joinAnswered;
        ws.connectToServer();
      });
      await openRoom(bob, app, room);
      await bob.page.getByText("The media server cannot be reached").waitFor({ timeout: 60_000 });
      // Joining answered the call that rang Bob for this meeting: his own page says so.
      await bob.page.locator(`[data-person="${bob.user!.id}"][data-state="away"]`).waitFor({
        timeout: 10_000,
      });
      await screenshot(bob.page, "36-call-media-never-connects");
      let seen = await roomAs(app, ada, room);
      assert.equal(inCall(seen, bob.user!.id), false, "never shown in the call");
      assert.equal(seen.in_call_count, 1);
      // LiveKit showed Bob to the room while he tried; once his page gives up, he is gone.
      await ada.page.locator(`li.tile[data-identity="${bob.user!.id}"]`).waitFor({
        state: "detached",
        timeout: 15_000,
      });

      await bob.page.getByRole("button", { name: "Leave" }).click();
      await bob.page.getByText("You left the meeting.").waitFor();
      seen = await roomAs(app, ada, room);
      assert.equal(inCall(seen, bob.user!.id), false);
      assert.equal(seen.status, "active");
    }),
);

callTest(
  "presence - Leave while connected and while reconnecting takes the person out",
  () =>
    withCall(async (world) => {
      const { app, media } = world;
      const { ada, bob, cy, room } = await threeInCall(world);
      await untilRoom(app, ada, room, (r) => r.in_call_count === 3);

      await cy.page.getByRole("button", { name: "Leave" }).click();
      await cy.page.getByText("You left the meeting.").waitFor();
      await untilRoom(app, ada, room, (r) => inCall(r, cy.user!.id) === false);
      await ada.page.locator(`li.tile[data-identity="${cy.user!.id}"]`).waitFor({
        state: "detached",
        timeout: 15_000,
      });

      // LiveKit goes away: while Bob's page reconnects, he leaves; the app takes him out at
      // once (LiveKit, being down, cannot say so).
      await media.killLiveKit();
      await bob.page.getByText("Connection lost. Reconnecting…").waitFor({ timeout: 20_000 });
      await bob.page.getByRole("button", { name: "Leave" }).click();
      await bob.page.getByText("You left the meeting.").waitFor();
      await untilRoom(app, ada, room, (r) => inCall(r, bob.user!.id) === false);
      // "Rejoin" right away is not refused (the meeting is not ended by the last one leaving).
      await media.startLiveKit();
      await bob.page.getByRole("button", { name: "Rejoin" }).click();
      await seesVideoOf(bob.page, ada.user!.id, 40_000);
    }),
);

callTest(
  "presence - LiveKit gone for long: an honest state with Leave and Try again",
  () =>
    withCall(async (world) => {
      const { app, media } = world;
      const { ada, bob, room } = await twoInCall(world);
      await seesVideoOf(bob.page, ada.user!.id);
      await media.killLiveKit();
      await bob.page.getByText("Connection lost. Reconnecting…").waitFor({ timeout: 20_000 });
      // livekit-client gives up after its reconnect attempts (about 50 s).
      await bob.page.getByText("You were disconnected from the meeting.").waitFor({
        timeout: 90_000,
      });
      await screenshot(bob.page, "37-call-disconnected");
      await bob.page.getByRole("button", { name: "Leave" }).waitFor();
      // LiveKit is back: "Try again" joins without a reload (Ada's page gave up as well).
      await media.startLiveKit();
      await bob.page.getByRole("button", { name: "Try again" }).click();
      // Ada's page gave up too, or is still in its own attempts and gets back by itself.
      const adaBack = ada.page.locator('[data-phase="connected"]');
      const adaRetry = ada.page.getByRole("button", { name: "Try again" });
      await adaBack.or(adaRetry).first().waitFor({ timeout: 60_000 });
      if (await adaRetry.count() > 0) await adaRetry.click();
      await seesVideoOf(bob.page, ada.user!.id, 30_000);
      await seesVideoOf(ada.page, bob.user!.id, 30_000);
      assert.equal((await roomAs(app, ada, room)).status, "active");
    }),
);

callTest(
  "presence - a lone participant who drops for half a minute finds the meeting open",
  () =>
    withCall(async ({ app, person, meeting }) => {
      // LiveKit ends an emptied room after its departure timeout (20 s by default, which
      // ended meetings under a lone participant whose network dropped); the stack sets 120 s.
      const ada = await person("Ada");
      const room = await meeting(ada);
      await openRoom(ada, app, room);
      await untilRoom(app, ada, room, (r) => r.in_call_count === 1);
      await ada.page.close();
      // LiveKit waits a little for a connection that closed without a word to come back.
      await untilRoom(app, ada, room, (r) => r.in_call_count === 0, 60_000);
      await new Promise((r) => setTimeout(r, 30_000));
      assert.equal((await roomAs(app, ada, room)).status, "active");
      const page = await ada.context.newPage();
      await page.goto(`${app.base}/meeting/room?room=${room}`);
      await page.locator('[data-phase="connected"]').waitFor({ timeout: 20_000 });
      await untilRoom(app, ada, room, (r) => r.in_call_count === 1);
    }),
);

callTest(
  "presence - departures LiveKit never reported are read from its own list",
  () =>
    withCall(async (world) => {
      const { app, media } = world;
      const ada = await world.person("Ada");
      const bob = await world.person("Bob");
      const cy = await world.person("Cy");
      const room = await world.meeting(ada, {}, [bob, cy]);
      await openRoom(ada, app, room);
      await openRoom(bob, app, room);
      await untilRoom(app, ada, room, (r) => r.in_call_count === 2);
      const livekit = new LiveKit(app.config);
      const now = { graceSeconds: 0, departureSeconds: 120 };

      // A departure that was never delivered: the app has Cy in the call, LiveKit does not.
      await call(app, "POST", `/api/livekit/rooms/${room}/join`, { token: cy.user!.token });
      await connects(app, room, cy.user!.id);
      assert.equal(inCall(await roomAs(app, ada, room), cy.user!.id), true);
      assert.deepEqual(await reconcilePresence(app.sql, livekit, now), { takenOut: 1, ended: 0 });
      let seen = await roomAs(app, ada, room);
      assert.equal(inCall(seen, cy.user!.id), false);
      assert.equal(seen.in_call_count, 2, "Ada and Bob, whom LiveKit lists, stay");

      // LiveKit dies; both tabs close meanwhile (no webhook can say so). While LiveKit does not
      // answer, nothing is concluded.
      await media.killLiveKit();
      await ada.page.close();
      await bob.page.close();
      await assert.rejects(() => reconcilePresence(app.sql, livekit, now));
      assert.equal((await roomAs(app, ada, room)).in_call_count, 2);

      // Back, LiveKit has no such room: both are out, and the meeting ends once nobody has been
      // in it for the departure timeout.
      await media.startLiveKit();
      assert.deepEqual(await reconcilePresence(app.sql, livekit, now), { takenOut: 2, ended: 0 });
      seen = await roomAs(app, ada, room);
      assert.equal(seen.in_call_count, 0);
      assert.equal(seen.status, "active", "not before the departure timeout");
      assert.deepEqual(
        await reconcilePresence(app.sql, livekit, { graceSeconds: 0, departureSeconds: 0 }),
        { takenOut: 0, ended: 1 },
      );
      assert.equal((await roomAs(app, ada, room)).status, "ended");
    }),
);
