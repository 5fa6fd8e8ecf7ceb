// deno task bench:pages
//
// Loads each page in Chromium (fresh cache each time) from the app started as `deno task start`
// would, and adds up the JavaScript it fetched: raw bytes, and bytes on the wire (gzip, as
// served). Compared with the budgets in DESIGN.md.
import { launchChromium } from "../tests/browser.ts";
import { createTestDatabase, freePort, testEnv } from "../tests/harness.ts";
import { serve, waitFor } from "./load.ts";

const BUDGET_KB: Record<string, number> = {
  login: 10,
  dashboard: 20,
  invite: 25,
  "pre-join": 25,
  room: 180,
};

const db = await createTestDatabase();
const port = freePort();
const base = `http://127.0.0.1:${port}`;
const server = serve("main.ts", {
  ...testEnv(db.url),
  PORT: String(port),
  PUBLIC_URL: base,
  // No media server here: the room page loads all its code, then says LiveKit is unreachable.
  LIVEKIT_URL: `ws://127.0.0.1:${freePort()}`,
});
const browser = await launchChromium();
let overBudget = false;
try {
  await waitFor(`${base}/healthz`);
  const post = async (path: string, body: unknown, cookie?: string) => {
    const res = await fetch(base + path, {
      method: "POST",
      headers: {
        "Content-Type": "application/json",
        Origin: base,
        ...(cookie ? { Cookie: cookie } : {}),
      },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    return res;
  };
  const reg = await post("/api/auth/register", {
    email: "pages@example.test",
    password: "bench password",
    display_name: "Page Bench",
  });
  const cookie = reg.headers.getSetCookie()[0].split(";")[0];
  const room = await (await post("/api/livekit/rooms", {
    room_name: "Bench",
    call_type: "video",
  }, cookie)).json();

  const pages: [string, string, boolean][] = [
    ["login", "/login", false],
    ["dashboard", "/dashboard", true],
    ["invite", `/meeting/invite?room=${room.id}`, false],
    ["pre-join", "/meeting/pre-join", true],
    ["room", `/meeting/room?room=${room.id}`, true],
  ];
  console.log(`bench:pages — JavaScript per page, fresh cache, ${Deno.build.target}`);
  console.log("page        files   raw KB   gzip KB   budget KB");
  for (const [name, path, signedIn] of pages) {
    const context = await browser.newContext();
    if (signedIn) {
      const [k, v] = cookie.split("=");
      await context.addCookies([{ name: k, value: v, url: base }]);
    }
    const page = await context.newPage();
    const scripts: Promise<{ raw: number; wire: number }>[] = [];
    page.on("response", (res) => {
      if (res.request().resourceType() !== "script") return;
      scripts.push((async () => ({
        raw: (await res.body()).length,
        wire: (await res.request().sizes()).responseBodySize,
      }))());
    });
    await page.goto(base + path, { waitUntil: "networkidle" });
    if (new URL(page.url()).pathname !== path.split("?")[0]) {
      throw new Error(`${path} redirected to ${page.url()}`);
    }
    const sizes = await Promise.all(scripts);
    const raw = sizes.reduce((s, x) => s + x.raw, 0) / 1024;
    const wire = sizes.reduce((s, x) => s + x.wire, 0) / 1024;
    const ok = wire <= BUDGET_KB[name];
    overBudget ||= !ok;
    console.log(
      `${name.padEnd(10)} ${String(sizes.length).padStart(6)} ${raw.toFixed(1).padStart(8)} ${
        wire.toFixed(1).padStart(9)
      } ${String(BUDGET_KB[name]).padStart(11)}  ${ok ? "ok" : "OVER BUDGET"}`,
    );
    await context.close();
  }
  console.log(overBudget ? "OVER BUDGET" : "within budget");
} finally {
  await browser.close();
  server.kill();
  await server.status;
  await db.drop();
}
if (overBudget) Deno.exit(1);
