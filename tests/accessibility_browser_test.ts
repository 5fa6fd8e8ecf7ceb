// The main journeys in English and in French, with axe-core (WCAG 2.2 A and AA) at every state
// they reach, at desktop and phone width, light and dark: signed out (sign-in, a refused
// registration, the invitation), the dashboard with meetings and history, an incoming call,
// pre-join, the device check, a call of several people with the chat and the people panels
// open, the lobby (the one waiting and the host asked), and an ended meeting. In French, no
// English sentence of the catalog and no raw key may be left anywhere on screen.
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { en } from "../i18n/en.ts";
import { fr } from "../i18n/fr.ts";
import type { Key } from "../i18n/t.ts";
import { addContacts, call } from "./harness.ts";
import { assertNoEnglish, audit } from "./a11y.ts";
import { callTest, screenshot, seesVideoOf, withCall } from "./call_fixture.ts";

for (const lang of ["en", "fr"] as const) {
  const words = lang === "fr" ? fr : en;
  /** A string of the page's language, as a whole name to find elements by. */
  const say = (key: Key, vars: Record<string, string> = {}) =>
    words[key].replace(/\{(\w+)\}/g, (_, k: string) => vars[k] ?? "");
  const exact = (key: Key, vars?: Record<string, string>) => ({
    name: say(key, vars),
    exact: true,
  });
  const locale = lang === "fr" ? "fr-FR" : "en-GB";
  /** Audits the page; a French page also has no English left. */
  const check = async (page: Page, where: string, shot?: string) => {
    await audit(page, `${lang} ${where}`);
    if (lang === "fr") await assertNoEnglish(page, where);
    if (shot) await screenshot(page, `${shot}-${lang}`);
  };

  callTest(
    `accessibility - ${lang}: every state of the main journeys passes axe-core`,
    () =>
      withCall(async (world) => {
        const { app } = world;

        // Signed out: sign-in, a registration refused field by field, in the browser's language.
        const visitor = await world.stranger({ locale });
        await visitor.page.goto(`${app.base}/login`);
        assert.equal(await visitor.page.getAttribute("html", "lang"), lang);
        await check(visitor.page, "sign-in", "80-sign-in");
        await visitor.page.goto(`${app.base}/register`);
        await visitor.page.getByLabel(say("auth.name")).fill("Zoé");
        await visitor.page.getByLabel(say("auth.email")).fill("zoe@example.test");
        await visitor.page.getByLabel(say("auth.password")).fill("short");
        await visitor.page.evaluate(() =>
          document.querySelectorAll("input").forEach((i) => i.removeAttribute("minlength"))
        );
        await visitor.page.getByRole("button", exact("auth.create")).click();
        await visitor.page.locator("[aria-invalid=true]").waitFor();
        await check(visitor.page, "registration refused", "81-register-refused");

        const ada = await world.person("Ada", { locale });
        const bob = await world.person("Bob", { locale, check: true });
        await addContacts(app, ada.user!, [bob.user!]);
        // A meeting in Ada's history, and one waiting.
        const old = await call(app, "POST", "/api/livekit/rooms", {
          token: ada.user!.token,
          json: { room_name: "Retro", call_type: "audio" },
        });
        await call(app, "DELETE", `/api/livekit/rooms/${old.body.id}`, { token: ada.user!.token });
        await call(app, "POST", "/api/livekit/rooms", {
          token: ada.user!.token,
          json: { room_name: "Planning", call_type: "video" },
        });
        await ada.page.goto(`${app.base}/dashboard`);
        await ada.page.locator("li.room.ended").waitFor();
        await check(ada.page, "dashboard", "82-dashboard");

        // Pre-join, then a call ringing Bob; people with the link knock.
        await bob.page.goto(`${app.base}/dashboard`);
        await bob.page.waitForFunction(() => !document.querySelector(".banner.offline"));
        await ada.page.goto(`${app.base}/meeting/pre-join`);
        await ada.page.getByLabel(say("prejoin.name")).fill("Design review");
        await ada.page.getByRole("checkbox", { name: /Bob/ }).check();
        await ada.page.waitForFunction(() =>
          (document.querySelector<HTMLVideoElement>("video.preview")?.videoWidth ?? 0) > 0
        );
        await check(ada.page, "pre-join", "83-prejoin");
        await ada.page.getByRole("button", exact("prejoin.start")).click();
        await ada.page.locator('.call[data-phase="connected"]').waitFor();
        const room = new URL(ada.page.url()).searchParams.get("room")!;

        // Bob's incoming call: a dialog holding the focus on Accept.
        const dialog = bob.page.getByRole("alertdialog", {
          name: say("inbox.calling", { name: "Ada" }),
        });
        await dialog.waitFor();
        assert.equal(
          await bob.page.evaluate(() => (document.activeElement as HTMLElement).dataset.answer),
          "accept",
        );
        await check(bob.page, "incoming call", "84-incoming");
        await dialog.getByRole("button", exact("common.accept")).click();

        // The device check, then the call of two.
        await bob.page.getByRole("button", exact("call.joinNow")).waitFor();
        await bob.page.waitForFunction(() =>
          (document.querySelector<HTMLVideoElement>("video.preview")?.videoWidth ?? 0) > 0
        );
        await check(bob.page, "device check", "85-check");
        await bob.page.getByRole("button", exact("call.joinNow")).click();
        await seesVideoOf(ada.page, bob.user!.id);
        await seesVideoOf(bob.page, ada.user!.id);
        await check(ada.page, "call of two", "86-call");

        // The chat and the people panels.
        await ada.page.getByRole("button", exact("chat.title")).click();
        await ada.page.getByLabel(say("chat.message")).fill("Bonjour");
        await ada.page.keyboard.press("Enter");
        await bob.page.getByRole("button", { name: say("call.chatNew", { n: "1" }) }).waitFor();
        await check(ada.page, "chat open", "87-chat");
        await ada.page.getByRole("button", exact("call.people")).click();
        await ada.page.locator(".people-panel").waitFor();
        await check(ada.page, "people open", "88-people");
        await ada.page.getByRole("button", exact("call.people")).click();

        // A guest asks to join: the invitation, the lobby, and Ada asked.
        const guest = await world.stranger({ locale });
        await guest.page.goto(`${app.base}/meeting/invite?room=${room}`);
        await check(guest.page, "invitation (guest)", "89-invite");
        await guest.page.getByLabel(say("auth.name")).fill("Gus");
        await guest.page.getByRole("button", exact("invite.askGuest")).click();
        await guest.page.locator('.lobby[data-knock="waiting"]').waitFor();
        await check(guest.page, "lobby", "90-lobby");
        const asked = ada.page.locator(".lobby-alert");
        await asked.waitFor();
        await check(ada.page, "host asked", "91-asked");
        await asked.getByRole("button", {
          name: say("inbox.denyNamed", { name: say("common.guest", { name: "Gus" }) }),
        }).click();
        await guest.page.locator('.lobby[data-knock="denied"]').waitFor();
        await check(guest.page, "lobby denied");

        // Ada ends it for all: Bob's page says so.
        await ada.page.getByRole("button", exact("call.more")).click();
        await ada.page.locator(".settings").getByRole("button", exact("common.endForAll"))
          .or(ada.page.locator(".controls").getByRole("button", exact("common.endForAll")))
          .first().click();
        await ada.page.getByRole("dialog").getByRole("button", exact("common.endForAll")).click();
        await bob.page.locator('.call-state[data-phase="ended"]').waitFor();
        await check(bob.page, "ended", "92-ended");

        for (const p of [ada, bob]) assert.deepEqual(p.errors, []);
        assert.deepEqual(visitor.errors, ["400 POST /register"]);
      }),
  );
}
