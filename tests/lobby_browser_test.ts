// Who gets in, in Chromium against the real LiveKit (tests/call_fixture.ts): guests knocking,
// hosts' call pages and dashboards answering live, co-hosts, the lock, invited-only meetings;
// raised hands, reactions and muting everyone in a real call.
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { call } from "./harness.ts";
import {
  callTest,
  openRoom,
  type Person,
  screenshot,
  seesVideoOf,
  threeInCall,
  withCall,
} from "./call_fixture.ts";

/** A stranger opens the link, gives a name and asks to join; they wait on the room page. */
async function guestAsks(page: Page, base: string, room: string, name: string) {
  await page.goto(`${base}/meeting/invite?room=${room}`);
  await page.getByLabel("Your name").fill(name);
  await page.getByRole("button", { name: "Ask to join as a guest" }).click();
  await page.waitForURL(/\/meeting\/room\?room=/);
  await page.getByText("Waiting for a host to let you in").waitFor();
}

/** The "wants to join" prompt for `name` on a host's page. */
const prompt = (page: Page, name: string) =>
  page.getByRole("alertdialog", { name: `${name} (guest) wants to join` });

/** Marks the page so that a reload (which would drop the mark) shows. */
const mark = (p: Person) =>
  p.page.evaluate(() => (globalThis as unknown as { __stay: boolean }).__stay = true);
const stillMarked = (p: Person) =>
  p.page.evaluate(() => (globalThis as unknown as { __stay?: boolean }).__stay === true);

callTest(
  "lobby ui - a guest knocks; the host's call and dashboard show it; Admit, Deny, a co-host, the lock",
  () =>
    withCall(async (world) => {
      const { app } = world;
      const ada = await world.person("Ada");
      const bob = await world.person("Bob");
      const room = await world.meeting(ada, { entry: "knock" }, [bob]);
      await openRoom(ada, app, room);
      await openRoom(bob, app, room);
      await seesVideoOf(bob.page, ada.user!.id);
      const dashboard = await ada.context.newPage();
      await dashboard.goto(`${app.base}/dashboard`);

      // Nobody in a moment ago: a guest asks and waits, with their own preview.
      const gus = await world.stranger();
      await guestAsks(gus.page, app.base, room, "Gus");
      await mark(gus);
      // Their own preview plays while they wait.
      await gus.page.waitForFunction(() =>
        (document.querySelector<HTMLVideoElement>(".lobby video")?.videoWidth ?? 0) > 0
      );
      await screenshot(gus.page, "50-lobby-waiting");
      // Every tab of the host: the call page and the dashboard.
      await prompt(ada.page, "Gus").waitFor();
      await prompt(dashboard, "Gus").waitFor();
      await screenshot(ada.page, "51-lobby-host-call");
      await screenshot(dashboard, "52-lobby-host-dashboard");
      await prompt(ada.page, "Gus").getByRole("button", { name: "Admit Gus (guest)" }).click();
      // In the call, without a reload: Gus sees Ada, Ada sees Gus.
      await seesVideoOf(gus.page, ada.user!.id);
      assert.ok(await stillMarked(gus), "the guest's page was not reloaded");
      await ada.page.locator('li.tile[data-role="guest"]').waitFor({ timeout: 30_000 });
      await prompt(dashboard, "Gus").waitFor({ state: "detached" });
      await screenshot(gus.page, "53-lobby-admitted-guest-in-call");

      // Denied from the dashboard: told so on their page.
      const dan = await world.stranger();
      await guestAsks(dan.page, app.base, room, "Dan");
      await prompt(dashboard, "Dan").getByRole("button", { name: "Deny Dan (guest)" }).click();
      await dan.page.getByText("A host did not let you into this meeting.").waitFor();
      await screenshot(dan.page, "54-lobby-denied");

      // Bob made co-host from the People panel: he now answers, and lets Cy in.
      await ada.page.getByRole("button", { name: "People" }).click();
      await ada.page.getByRole("button", { name: "Make co-host (Bob)" }).click();
      await ada.page.getByRole("button", { name: "Remove co-host (Bob)" }).waitFor();
      const cy = await world.stranger();
      await guestAsks(cy.page, app.base, room, "Cy");
      await prompt(bob.page, "Cy").getByRole("button", { name: "Admit Cy (guest)" }).click();
      await seesVideoOf(cy.page, ada.user!.id);

      // Locked from the People panel: a newcomer's link offers no way in; those inside stay.
      await ada.page.getByRole("button", { name: "Lock meeting" }).click();
      await ada.page.getByRole("button", { name: "Unlock meeting" }).waitFor();
      await screenshot(ada.page, "55-lobby-host-people-panel-locked");
      const eve = await world.stranger();
      await eve.page.goto(`${app.base}/meeting/invite?room=${room}`);
      await eve.page.getByText("The meeting is locked").waitFor();
      assert.equal(await eve.page.getByRole("button", { name: /Ask to join/ }).count(), 0);
      const refused = await call(app, "POST", `/api/livekit/rooms/${room}/knock`, {
        json: { display_name: "Eve" },
      });
      assert.equal(refused.body.error.code, "meeting_locked");
      await seesVideoOf(gus.page, ada.user!.id);
      await seesVideoOf(cy.page, ada.user!.id);

      // A meeting for invited people only: the link shows it and offers no way in.
      const closed = await world.meeting(ada, { entry: "invited" }, []);
      await eve.page.goto(`${app.base}/meeting/invite?room=${closed}`);
      await eve.page.getByText("Only people the host invited can join this meeting.").waitFor();
      assert.equal(await eve.page.locator("main").getByRole("button").count(), 0);
      await screenshot(eve.page, "56-invite-invited-only");

      for (const p of [ada, bob, gus, cy]) assert.deepEqual(p.errors, [], "no errors");
    }, { app: { env: { KNOCK_SECONDS: "120" } } }),
);

callTest(
  "lobby ui - raised hands in order, lowered by the host; a reaction on the sender's tile; mute everyone",
  () =>
    withCall(async (world) => {
      const { ada, bob, cy } = await threeInCall(world);
      await seesVideoOf(ada.page, bob.user!.id);
      await seesVideoOf(ada.page, cy.user!.id);
      await bob.page.getByRole("button", { name: "Raise hand" }).click();
      await bob.page.getByRole("button", { name: "Lower hand" }).waitFor();
      await cy.page.getByRole("button", { name: "Raise hand" }).click();
      const queue = ada.page.locator(".hand-queue li");
      await ada.page.waitForFunction(
        () => document.querySelectorAll(".hand-queue li").length === 2,
      );
      assert.deepEqual(
        await queue.evaluateAll((els) => els.map((e) => e.getAttribute("data-identity"))),
        [bob.user!.id, cy.user!.id],
      );
      // Everyone sees the same order, on the tiles too.
      await cy.page.locator(`li.tile[data-identity="${bob.user!.id}"][data-hand="1"]`).waitFor();
      await cy.page.locator(`li.tile[data-identity="${cy.user!.id}"][data-hand="2"]`).waitFor();
      await screenshot(ada.page, "57-call-raised-hands");

      await ada.page.getByRole("button", { name: "Lower Bob's hand" }).click();
      await cy.page.locator(`li.tile[data-identity="${cy.user!.id}"][data-hand="1"]`).waitFor();
      await bob.page.getByRole("button", { name: "Raise hand" }).waitFor();
      await ada.page.getByRole("button", { name: "Lower all" }).click();
      await ada.page.locator(".hands").waitFor({ state: "detached" });
      // Someone who is not a host cannot lower anyone's hand.
      const refused = await call(
        world.app,
        "DELETE",
        `/api/livekit/rooms/${roomOf(ada)}/hands`,
        {
          token: bob.user!.token,
        },
      );
      assert.equal(refused.status, 403);

      // A reaction: a burst on Bob's tile, on everyone's page.
      await bob.page.getByRole("button", { name: "Reactions" }).click();
      await bob.page.getByRole("button", { name: "React 👏" }).click();
      const burst = ada.page.locator(`li.tile[data-identity="${bob.user!.id}"] .reaction`);
      await burst.waitFor({ timeout: 5000 });
      assert.equal(await burst.innerText(), "👏");
      await screenshot(ada.page, "58-call-reaction");
      await burst.waitFor({ state: "detached", timeout: 10_000 });

      // Mute everyone: Bob's and Cy's microphones, not the host's.
      await ada.page.getByRole("button", { name: "People" }).click();
      await ada.page.getByRole("button", { name: "Mute everyone" }).click();
      for (const who of [bob, cy]) {
        await ada.page.locator(`li.tile[data-identity="${who.user!.id}"] .badge`, {
          hasText: "muted",
        }).waitFor({ timeout: 15_000 });
      }
      assert.equal(
        await ada.page.locator(`li.tile[data-identity="${ada.user!.id}"] .badge`, {
          hasText: "muted",
        }).count(),
        0,
      );
      for (const p of [ada, bob, cy]) assert.deepEqual(p.errors, []);
    }),
);

/** The meeting id of the room page a person has open. */
function roomOf(p: Person): string {
  return new URL(p.page.url()).searchParams.get("room")!;
}
