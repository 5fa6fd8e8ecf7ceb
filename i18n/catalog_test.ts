// The catalogs: English and French hold the same keys with the same placeholders; every key is
// used by the code and every key the code names exists; French is written, not copied; no
// catalog travels in the browser bundles. Then the language each request gets: the account's
// choice, the switch's cookie, Accept-Language, in that order, pages and API errors alike.
import assert from "node:assert/strict";
import { en, type Key } from "./en.ts";
import { fr } from "./fr.ts";
import { chooseLang, fromAcceptLanguage, tr } from "./server.ts";
import { call, registerUser, withApp } from "../tests/harness.ts";

const ROOT = new URL("../", import.meta.url);
const keys = Object.keys(en) as Key[];

async function sources(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  async function walk(dir: string) {
    for await (const e of Deno.readDir(new URL(dir, ROOT))) {
      const path = `${dir}${e.name}`;
      if (e.isDirectory) await walk(`${path}/`);
      else if (/\.tsx?$/.test(e.name) && !/_test\.tsx?$/.test(e.name)) {
        out.set(path, await Deno.readTextFile(new URL(path, ROOT)));
      }
    }
  }
  for (const dir of ["islands/", "components/", "routes/", "lib/"]) await walk(dir);
  out.set("i18n/t.ts", await Deno.readTextFile(new URL("i18n/t.ts", ROOT)));
  return out;
}

const placeholders = (s: string) =>
  [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1].toLowerCase()).sort();

Deno.test("catalogs - English and French hold the same keys, with the same placeholders", () => {
  assert.deepEqual(Object.keys(fr).sort(), [...keys].sort());
  for (const k of keys) {
    assert.ok(en[k].trim() && fr[k].trim(), `${k} is empty`);
    assert.deepEqual([...new Set(placeholders(fr[k]))], [...new Set(placeholders(en[k]))], k);
  }
});

Deno.test("catalogs - every key is used by the code, and every key the code names exists", async () => {
  const code = [...(await sources()).values()].join("\n");
  // Keys built from a value (`knock.${status}`) count their whole family as used.
  const families = [...code.matchAll(/`([a-z][a-zA-Z]*\.)\$\{/g)].map((m) => m[1]);
  const unused = keys.filter((k) =>
    !code.includes(`"${k}"`) && !families.some((f) => k.startsWith(f))
  );
  assert.deepEqual(unused, [], "keys no code uses");
  const named = [
    ...code.matchAll(/\bt[nr]?\(\s*(?:[^,()"]+,\s*)?"([a-z][a-zA-Z]*\.[a-zA-Z0-9_.]+)"/g),
  ].map((m) => m[1]);
  assert.ok(named.length > 300, `only ${named.length} t() calls found`);
  assert.deepEqual(named.filter((k) => !(k in en)), [], "keys the code names but no catalog has");
});

Deno.test("catalogs - French is written in French, not left in English", () => {
  // The same in both: names of languages, and words French shares.
  const same = new Set([
    "lang.en",
    "lang.fr",
    "common.audio",
    "dash.contacts",
    "summary.type",
    "chat.message",
    "stage.participants",
    "net.r.ok",
    "dash.callBackName",
    "call.said",
    "stage.page",
  ]);
  const copied = keys.filter((k) => !same.has(k) && en[k] === fr[k]);
  assert.deepEqual(copied, []);
  // French typography: a (narrow) no-break space before : ; ? ! and inside « ».
  const loose = keys.filter((k) => / [:;?!]|« | »/.test(fr[k]));
  assert.deepEqual(loose, []);
});

Deno.test("catalogs - the bundles carry keys, never a catalog's sentences", async () => {
  const manifest = JSON.parse(
    await Deno.readTextFile(new URL("static/build/manifest.json", ROOT)),
  ) as { files: string[]; entries: Record<string, { keys: string[] }> };
  const long = keys.filter((k) => en[k].length > 40);
  for (const file of manifest.files.filter((f) => f.endsWith(".js"))) {
    const js = await Deno.readTextFile(new URL(`static/build/${file}`, ROOT));
    for (const k of long) {
      assert.ok(!js.includes(en[k]) && !js.includes(fr[k]), `${file} holds the text of ${k}`);
    }
  }
  // ...and each page's list of keys is what its code names.
  assert.ok(manifest.entries.room.keys.includes("call.joinNow"));
  assert.ok(manifest.entries.room.keys.includes("inbox.calling"));
  assert.ok(!manifest.entries.room.keys.includes("dash.clearAsk"));
  assert.ok(manifest.entries.prejoin.keys.includes("net.connect"), "a chunk loaded on demand");
});

Deno.test("catalogs - Accept-Language, then the cookie, then the account", () => {
  assert.equal(fromAcceptLanguage("fr-CA,fr;q=0.9,en;q=0.8"), "fr");
  assert.equal(fromAcceptLanguage("de-DE,de;q=0.9,fr;q=0.5,en;q=0.7"), "en");
  assert.equal(fromAcceptLanguage("en;q=0,fr"), "fr");
  assert.equal(fromAcceptLanguage("de, it"), null);
  assert.equal(fromAcceptLanguage(undefined), null);
  assert.equal(fromAcceptLanguage("x".repeat(10_000)), null);
  assert.equal(chooseLang(null, undefined, "fr"), "fr");
  assert.equal(chooseLang(null, "en", "fr"), "en");
  assert.equal(chooseLang("fr", "en", "en"), "fr");
  assert.equal(chooseLang("de", "xx", undefined), "en");
  // Placeholders, plurals and nested keys in each language.
  assert.equal(
    tr("fr", ["error.rate_limited", { what: { t: "limit.calls" }, wait: "30" }]),
    "Trop d’appels\u202f; réessayez dans 30 s.",
  );
  assert.equal(
    tr("en", ["issue.empty", { field: { t: "field.display_name" } }]),
    "The name is empty: fill it in.",
  );
  assert.equal(tr("fr", ["done.cleared.one", { n: 0 }]), "0 réunion effacée.");
});

Deno.test("language - pages and API errors speak the request's language; the switch keeps the choice", () =>
  withApp(async (app) => {
    const fr = { "Accept-Language": "fr-FR,fr;q=0.9" };
    const login = await call(app, "GET", "/login", { headers: fr });
    assert.match(login.body, /<html lang="fr">/);
    assert.match(login.body, /<title>Connexion · Urbania<\/title>/);
    assert.equal(login.headers.get("Content-Language"), "fr");
    assert.match(login.body, /value="en"[^>]*lang="en"[^>]*><span class="lang-long">English</);

    const missing = await call(app, "POST", "/api/auth/login", { json: {}, headers: fr });
    assert.equal(missing.status, 400);
    assert.match(missing.body.error.message, /^Le champ «\u00a0adresse e-mail\u00a0» manque\./);
    const english = await call(app, "POST", "/api/auth/login", { json: {} });
    assert.match(english.body.error.message, /^The email address is missing\./);

    // The switch: a form post from the app's pages, back to where it was pressed.
    const ada = await registerUser(app, { display_name: "Ada" });
    const form = (lang: string, extra: { origin?: string | null } = {}) =>
      call(app, "POST", "/lang", {
        body: new URLSearchParams({ lang, next: "/dashboard?x=1" }).toString(),
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        cookie: ada.cookie,
        ...extra,
      });
    assert.equal((await form("fr", { origin: "https://evil.example" })).status, 403);
    assert.equal((await form("de")).status, 400);
    const switched = await form("fr");
    assert.equal(switched.status, 303);
    assert.equal(switched.headers.get("Location"), "/dashboard?x=1");
    assert.match(switched.headers.get("Set-Cookie") ?? "", /urbania_lang=fr/);

    // The account keeps it: a browser asking for English gets French pages and errors.
    const page = await call(app, "GET", "/dashboard", {
      cookie: ada.cookie,
      headers: { "Accept-Language": "en" },
    });
    assert.match(page.body, /<html lang="fr">/);
    assert.match(page.body, /Tableau de bord/);
    const err = await call(app, "GET", "/api/livekit/rooms/zzzz-zzzz-zzzz", {
      token: ada.token,
      headers: { "Accept-Language": "en" },
    });
    assert.equal(err.body.error.message, "Cette réunion est introuvable.");
    const me = await call(app, "GET", "/api/auth/me", { token: ada.token });
    assert.equal(me.body.lang, "fr");

    // Signed out, the cookie alone decides over Accept-Language.
    const cookieOnly = await call(app, "GET", "/login", { cookie: "urbania_lang=fr" });
    assert.match(cookieOnly.body, /<html lang="fr">/);
  }));
