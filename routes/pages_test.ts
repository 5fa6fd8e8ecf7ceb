// The pages over plain HTTP: redirects, form posts, error pages, the built files and what the
// HTML and scripts must never carry. The same pages in a browser: tests/pages_browser_test.ts.
import assert from "node:assert/strict";
import {
  builtAssets,
  call,
  registerUser,
  TEST_LIVEKIT_KEY,
  TEST_LIVEKIT_SECRET,
  TEST_SESSION_SECRET,
  withApp,
} from "../tests/harness.ts";
import { createRoom, withRooms } from "../tests/rooms_fixture.ts";
import { connects } from "../tests/livekit_webhook.ts";
import { safeNext } from "./pages.tsx";

const HTML = { Accept: "text/html" };

function form(fields: Record<string, string>) {
  return {
    body: new URLSearchParams(fields).toString(),
    headers: { "Content-Type": "application/x-www-form-urlencoded", ...HTML },
  };
}

Deno.test("pages - the return path after sign-in stays on this site", () => {
  assert.equal(
    safeNext("/meeting/invite?room=abcd-efgh-jkmn"),
    "/meeting/invite?room=abcd-efgh-jkmn",
  );
  assert.equal(safeNext("/dashboard"), "/dashboard");
  for (
    const bad of [
      undefined,
      "",
      "//evil.example/x",
      "/\\evil.example",
      "https://evil.example",
      "dashboard",
      "/a\nb",
      "/" + "x".repeat(600),
    ]
  ) {
    assert.equal(safeNext(bad), "/dashboard", String(bad));
  }
});

Deno.test("pages - anonymous visitors are sent to sign in and come back after", async () => {
  await withApp(async (app) => {
    for (const path of ["/dashboard", "/meeting/pre-join"]) {
      const res = await call(app, "GET", path, { headers: HTML });
      assert.equal(res.status, 303, path);
      assert.equal(res.headers.get("Location"), `/login?next=${encodeURIComponent(path)}`);
    }
    assert.equal((await call(app, "GET", "/")).headers.get("Location"), "/login");

    const user = await registerUser(app);
    const next = "/meeting/pre-join";
    const ok = await call(
      app,
      "POST",
      `/login?next=${encodeURIComponent(next)}`,
      form({ email: user.email, password: user.password }),
    );
    assert.equal(ok.status, 303);
    assert.equal(ok.headers.get("Location"), next);
    assert.match(ok.headers.get("Set-Cookie") ?? "", /urbania_session=[^;]+;.*HttpOnly/i);
    // A return path to another site is replaced by the dashboard.
    const evil = await call(
      app,
      "POST",
      "/login?next=//evil.example",
      form({ email: user.email, password: user.password }),
    );
    assert.equal(evil.headers.get("Location"), "/dashboard");
    // Signed in, the sign-in page forwards to where the user was going.
    const cookie = ok.headers.getSetCookie()[0].split(";")[0];
    const again = await call(app, "GET", "/login?next=/meeting/pre-join", { cookie });
    assert.equal(again.status, 303);
    assert.equal(again.headers.get("Location"), "/meeting/pre-join");
  });
});

Deno.test("pages - form posts need the app's origin and a web form; bad input re-renders the form", async () => {
  await withApp(async (app) => {
    const user = await registerUser(app);
    const fields = { email: user.email, password: user.password };
    const foreign = await call(app, "POST", "/login", {
      ...form(fields),
      origin: "https://evil.example",
    });
    assert.equal(foreign.status, 403);
    assert.equal(foreign.headers.get("Set-Cookie"), null);
    // Signing out relies on the cookie: without an Origin it is refused.
    const noOrigin = await call(app, "POST", "/logout", { cookie: user.cookie, origin: null });
    assert.equal(noOrigin.status, 403);
    assert.equal((await call(app, "GET", "/api/auth/me", { cookie: user.cookie })).status, 200);
    const out = await call(app, "POST", "/logout", { cookie: user.cookie });
    assert.equal(out.status, 303);
    assert.equal((await call(app, "GET", "/api/auth/me", { cookie: user.cookie })).status, 401);

    const json = await call(app, "POST", "/login", { json: fields, headers: HTML });
    assert.equal(json.status, 415);

    const missing = await call(
      app,
      "POST",
      "/register",
      form({ email: "not an email", display_name: "", password: "x" }),
    );
    assert.equal(missing.status, 400);
    assert.match(missing.body, /aria-invalid="true"/);
    assert.match(missing.body, /value="not an email"/, "what was typed is kept");
    const taken = await call(
      app,
      "POST",
      "/register",
      form({ email: user.email, display_name: "Again", password: "long enough" }),
    );
    assert.equal(taken.status, 409);
    assert.match(taken.body, /role="alert"/);
  });
});

Deno.test("pages - sign-in throttling answers the form with 429 and Retry-After", async () => {
  await withApp(async (app) => {
    const user = await registerUser(app);
    const wrong = form({ email: user.email, password: "wrong password" });
    assert.equal((await call(app, "POST", "/login", wrong)).status, 401);
    assert.equal((await call(app, "POST", "/login", wrong)).status, 401);
    const limited = await call(app, "POST", "/login", wrong);
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get("Retry-After")) > 0);
    assert.match(limited.body, /Too many sign-in attempts/i);
  }, { loginLimits: { perEmail: 2, perAddress: 100, windowSeconds: 60 } });
});

Deno.test("pages - unknown meetings get an HTML 404 page; the API keeps its JSON errors", async () => {
  await withApp(async (app) => {
    for (const room of ["abcd-efgh-jkmn", "not-a-room", ""]) {
      const res = await call(app, "GET", `/meeting/invite?room=${room}`, { headers: HTML });
      assert.equal(res.status, 404, room);
      assert.match(res.headers.get("Content-Type") ?? "", /text\/html/);
      assert.match(res.body, /This meeting was not found/);
    }
    const page = await call(app, "GET", "/no/such/page", { headers: HTML });
    assert.equal(page.status, 404);
    assert.match(page.headers.get("Content-Type") ?? "", /text\/html/);
    const api = await call(app, "GET", "/api/nothing", { headers: HTML });
    assert.equal(api.status, 404);
    assert.equal(api.body.error.code, "not_found");
  });
});

Deno.test("pages - the invitation shows link holders a count, members the names", async () => {
  await withRooms(async ({ app, host, friends, stranger }) => {
    const room = await createRoom(app, host, {
      room_name: "Budget <2027>",
      participants: [friends[0].id],
    });
    await call(app, "POST", `/api/livekit/rooms/${room.id}/join`, { token: host.token });
    await call(app, "POST", `/api/livekit/rooms/${room.id}/join`, { token: friends[0].token });
    await connects(app, room.id, host.id);
    await connects(app, room.id, friends[0].id);

    const anonymous = await call(app, "GET", `/meeting/invite?room=${room.id}`);
    assert.equal(anonymous.status, 200);
    assert.match(anonymous.body, /Budget &lt;2027>|Budget &lt;2027&gt;/, "the title is escaped");
    assert.match(anonymous.body, /2 people/);
    assert.match(anonymous.body, /Hana Host/, "the host is named");
    assert.doesNotMatch(anonymous.body, new RegExp(friends[0].display_name));
    assert.doesNotMatch(anonymous.body, new RegExp(friends[0].id));

    const member = await call(app, "GET", `/meeting/invite?room=${room.id}`, {
      cookie: friends[0].cookie,
    });
    assert.match(member.body, /Hana Host and Fred|Fred and Hana Host/);

    // Someone with the link but not in the room goes through the invitation first.
    const direct = await call(app, "GET", `/meeting/room?room=${room.id}`, {
      cookie: stranger.cookie,
    });
    assert.equal(direct.status, 303);
    assert.equal(direct.headers.get("Location"), `/meeting/invite?room=${room.id}`);

    // An ended meeting says so and offers no way in.
    await call(app, "DELETE", `/api/livekit/rooms/${room.id}`, { token: host.token });
    const ended = await call(app, "GET", `/meeting/invite?room=${room.id}`);
    assert.match(ended.body, /This meeting has ended/);
    assert.doesNotMatch(ended.body, /data-island="Invite"/);
  });
});

Deno.test("pages - built files are served by content hash, cached for a year, gzip when asked", async () => {
  const assets = await builtAssets();
  assert.ok(assets, "deno task build must run before the tests (deno task test does)");
  await withApp(async (app) => {
    const page = await call(app, "GET", "/login");
    assert.equal(page.status, 200);
    assert.ok(page.body.includes(`/static/build/${assets.css}`));
    assert.doesNotMatch(page.body, /<script type="module"/, "sign-in needs no JavaScript");
    const user = await registerUser(app);
    const dash = await call(app, "GET", "/dashboard", { cookie: user.cookie });
    assert.ok(dash.body.includes(`/static/build/${assets.entries.dashboard.file}`));

    for (const [name, file] of assets.files) {
      const res = await fetch(`${app.base}/static/build/${name}`, {
        headers: { "Accept-Encoding": "identity" },
      });
      assert.equal(res.status, 200, name);
      assert.equal(res.headers.get("Cache-Control"), "public, max-age=31536000, immutable");
      assert.equal(res.headers.get("Content-Type"), file.type);
      assert.deepEqual(new Uint8Array(await res.arrayBuffer()), file.body);
      const gz = await fetch(`${app.base}/static/build/${name}`, {
        headers: { "Accept-Encoding": "gzip" },
      });
      assert.equal(gz.headers.get("Content-Encoding"), "gzip");
      // fetch decompresses: the same bytes either way.
      assert.deepEqual(new Uint8Array(await gz.arrayBuffer()), file.body);
    }
    const missing = await fetch(`${app.base}/static/build/manifest.json`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    const traversal = await fetch(`${app.base}/static/build/..%2F..%2Fdeno.json`);
    assert.equal(traversal.status, 404);
    await traversal.body?.cancel();
  });
});

Deno.test("pages - no page and no script carries a secret", async () => {
  const assets = await builtAssets();
  assert.ok(assets);
  await withRooms(async ({ app, host }) => {
    const room = await createRoom(app, host);
    const pages = [
      "/login",
      "/register",
      "/dashboard",
      "/meeting/pre-join",
      `/meeting/room?room=${room.id}`,
      `/meeting/invite?room=${room.id}`,
    ];
    const secrets = [TEST_LIVEKIT_SECRET, TEST_SESSION_SECRET, `"${TEST_LIVEKIT_KEY}"`];
    let checked = 0;
    for (const path of pages) {
      for (const cookie of [host.cookie, undefined]) {
        const res = await call(app, "GET", path, { cookie, headers: HTML });
        const body = String(res.body);
        for (const secret of secrets) assert.ok(!body.includes(secret), `${path} holds a secret`);
        checked++;
      }
    }
    const decoder = new TextDecoder();
    for (const [name, file] of assets.files) {
      const text = decoder.decode(file.body);
      for (const secret of secrets) assert.ok(!text.includes(secret), `${name} holds a secret`);
      // No server module in a bundle: their marks would show.
      assert.doesNotMatch(
        text,
        /SESSION_SECRET|LIVEKIT_API_SECRET|DATABASE_URL|postgres:\/\//,
        name,
      );
      checked++;
    }
    assert.ok(checked >= pages.length * 2 + 5);
  });
});

Deno.test("pages - without a built bundle, pages answer 503 and say how to build it", async () => {
  await withApp(async (app) => {
    const res = await call(app, "GET", "/login", { headers: HTML });
    assert.equal(res.status, 503);
    assert.match(res.body, /deno task build/);
    // The API does not depend on the bundle.
    assert.equal((await call(app, "GET", "/healthz")).status, 200);
  }, { assets: null });
});

Deno.test("pages - island bundles reach only islands/, components/, protocol/, i18n/t.ts and browser packages", async () => {
  const root = new URL("../", import.meta.url).href;
  const entries = [...Deno.readDirSync(new URL("../islands/entries/", import.meta.url))]
    .map((e) => `islands/entries/${e.name}`);
  assert.ok(entries.length >= 4);
  // Packages the islands import directly (their own dependencies come with them).
  const allowedNpm = /^npm:\/(preact|@preact\/signals|livekit-client)@/;
  for (const entry of entries) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", entry],
      cwd: new URL("../", import.meta.url),
      stdout: "piped",
      stderr: "inherit",
    }).output();
    assert.ok(out.success, entry);
    const graph = JSON.parse(new TextDecoder().decode(out.stdout));
    const modules: string[] = graph.modules.map((m: { specifier: string }) => m.specifier);
    for (const spec of modules) {
      if (spec.startsWith(root)) {
        assert.match(
          spec.slice(root.length),
          // i18n/t.ts names en.ts for its Key type only: no catalog is bundled (i18n_test).
          /^(islands|components|protocol)\/|^i18n\/(t|en)\.ts$/,
          `${entry} imports ${spec}`,
        );
      } else {
        assert.match(spec, allowedNpm, `${entry} imports ${spec}`);
      }
    }
  }
});
