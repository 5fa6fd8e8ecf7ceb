// deno task bench:call [--joins=10] [--look=2] [--hold=30] [--phone=0] [--meet=URL]
//
// Against the real LiveKit and coturn on loopback (tests/call_fixture.ts):
// (a) joins: one person publishes video in a meeting; a second person opens the room page
//     `--joins` times, looks at the device check for `--look` seconds as a person would, and
//     presses Join. Each time the page records when it loaded, when its device check was usable,
//     when Join was pressed, when the LiveKit token arrived, when signalling answered, when media
//     connected and when the first remote video frame was painted (requestVideoFrameCallback).
//     Interleaved with these, the same join made by a bare page that only runs livekit-client
//     (already loaded) with a token minted in advance: the baseline, measured in the same run,
//     from its connect() as the app's is from Join. With `--meet=URL` (a LiveKit Meet build on
//     the same LiveKit; never required), Meet's custom-connection page joins too, from its
//     "Join Room". `--phone=N` adds N rounds of the same under an emulated phone (Chrome
//     DevTools Protocol: CPU ×4, 150 ms round trip, 1.6 Mbit/s).
// (b) a four-person call held `--hold` seconds: main-thread task time per second of wall time
//     and JS heap of one call page (Chrome DevTools Protocol Performance.getMetrics).
// Budgets (DESIGN.md, issue "Joining as fast as livekit-client alone"): Join → first remote
// frame p50 within 1.2× the bare client's, p95 under 2 s; task time < 15 % of wall time.
import type { BrowserContext, Page } from "playwright-core";
import { flag } from "./load.ts";
import { call } from "../tests/harness.ts";
import { openRoom, type Person, seesVideoOf, withCall } from "../tests/call_fixture.ts";
import { mediaMissing } from "../ops/media.ts";

const JOINS = flag("joins", 10);
const LOOK_MS = flag("look", 2) * 1000;
const HOLD_SECONDS = flag("hold", 30);
const PHONE_JOINS = Number(Deno.args.find((a) => a.startsWith("--phone="))?.slice(8) ?? 0);
if (!Number.isInteger(PHONE_JOINS) || PHONE_JOINS < 0) {
  throw new Error("--phone must be a whole number of joins (0 for none)");
}
const MEET = Deno.args.find((a) => a.startsWith("--meet="))?.slice("--meet=".length);

const missing = mediaMissing({ caddy: false });
if (missing.length > 0) {
  console.error(`not installed: ${missing.join(", ")}; run bash scripts/install_media.sh`);
  Deno.exit(1);
}

/**
 * Init script: timestamps (ms since navigation start) of the join's steps. `joinButton` is the
 * selector of the page's way in: "check" is when it first shows, "join" when it is pressed.
 */
function instrument(joinButton: string) {
  const marks: Record<string, number> = {};
  Object.defineProperty(globalThis, "__marks", { value: marks });
  const mark = (k: string) => marks[k] ??= performance.now();
  const NativeWS = globalThis.WebSocket;
  globalThis.WebSocket = class extends NativeWS {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      if (String(url).includes("/rtc")) {
        mark("socket");
        this.addEventListener("message", () => mark("signalling"), { once: true });
      }
    }
  } as typeof WebSocket;
  const NativePC = globalThis.RTCPeerConnection;
  globalThis.RTCPeerConnection = class extends NativePC {
    constructor(config?: RTCConfiguration) {
      super(config);
      mark("pc");
      this.addEventListener("connectionstatechange", () => {
        if (this.connectionState === "connected") mark("media");
      });
    }
  } as typeof RTCPeerConnection;
  const NativeFetch = globalThis.fetch;
  globalThis.fetch = async (...args: Parameters<typeof fetch>) => {
    const res = await NativeFetch(...args);
    const path = String(args[0] instanceof Request ? args[0].url : args[0]);
    if (/\/token|\/join/.test(path) && res.headers.get("content-type")?.includes("json")) {
      const body = await res.clone().json().catch(() => null);
      if (body?.token) mark("token");
    }
    return res;
  };
  const src = Object.getOwnPropertyDescriptor(HTMLMediaElement.prototype, "srcObject")!;
  Object.defineProperty(HTMLMediaElement.prototype, "srcObject", {
    ...src,
    set(v) {
      if ((this as HTMLElement).dataset.remote && v) mark("srcObject");
      src.set!.call(this, v);
    },
  });
  addEventListener("load", () => mark("loaded"));
  addEventListener("click", (e) => {
    if ((e.target as Element).closest?.(joinButton)) mark("join");
  }, true);
  new MutationObserver(() => {
    if (document.querySelector(joinButton)) mark("check");
    for (const v of document.querySelectorAll<HTMLVideoElement>("video[data-remote]")) {
      if (v.dataset.watched) continue;
      v.dataset.watched = "1";
      mark("attached");
      v.requestVideoFrameCallback(() => mark("frame"));
    }
  }).observe(document, { subtree: true, childList: true, attributes: true });
}

/** Init script: remote videos are told apart from one's own by the tile they sit in. */
function tagRemote(selector: string) {
  new MutationObserver(() => {
    // Set once: setting an attribute, even to its value, is a mutation that would call back.
    for (const v of document.querySelectorAll<HTMLVideoElement>(selector)) {
      if (!v.dataset.remote) v.dataset.remote = "1";
    }
  }).observe(document, { subtree: true, childList: true, attributes: true });
}

/** An emulated phone: CPU ×4, 150 ms round trip, 1.6 Mbit/s each way. */
async function emulatePhone(context: BrowserContext, page: Page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
  await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 150,
    downloadThroughput: 1_600_000 / 8,
    uploadThroughput: 1_600_000 / 8,
  });
}

type Marks = Record<string, number>;

async function marksOf(page: Page): Promise<Marks> {
  const read = () => page.evaluate(() => (globalThis as unknown as { __marks: Marks }).__marks);
  try {
    await page.waitForFunction(
      () => "frame" in (globalThis as unknown as { __marks: object }).__marks,
      undefined,
      { timeout: 60_000 },
    );
  } catch (err) {
    throw new Error(`no remote frame within 60 s; steps seen: ${JSON.stringify(await read())}`, {
      cause: err,
    });
  }
  return await read();
}

/** Opens `url`, waits for the way in, looks for LOOK_MS, presses it; the page's marks. */
async function joinThrough(
  context: BrowserContext,
  url: string,
  button: string,
  phone: boolean,
): Promise<Marks> {
  const page = await context.newPage();
  try {
    if (phone) await emulatePhone(context, page);
    await page.goto(url);
    await page.locator(button).waitFor({ timeout: 60_000 });
    await page.waitForTimeout(LOOK_MS);
    await page.locator(button).click();
    return await marksOf(page);
  } finally {
    await page.close();
  }
}

/** The steps after the way in, and the ones before it, as the table prints them. */
const BEFORE = ["loaded", "check"] as const;
const AFTER = ["token", "socket", "signalling", "media", "attached", "srcObject", "frame"] as const;

function pct(values: number[], p: number): number {
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** Per step, the values of every join: from navigation before the way in, from it after. */
function phasesOf(runs: Marks[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const s of BEFORE) out[s] = runs.map((m) => m[s] ?? NaN);
  // A token fetched before Join counts as ready at Join.
  for (const s of AFTER) out[s] = runs.map((m) => Math.max(0, (m[s] ?? NaN) - m.join));
  return out;
}

function table(title: string, columns: [string, Marks[]][]) {
  const ph = columns.map(([, runs]) => phasesOf(runs));
  const cell = (v: number) => (Number.isFinite(v) ? v.toFixed(0) : "–").padStart(7);
  console.log(`\n${title}`);
  console.log(
    "  ms".padEnd(30) + columns.map(([name]) => name.padStart(16)).join(""),
  );
  console.log("".padEnd(30) + columns.map(() => "    p50     p95").join(""));
  const row = (label: string, s: string) =>
    console.log(
      `  ${label}`.padEnd(30) + ph.map((p) => cell(pct(p[s], 50)) + cell(pct(p[s], 95)) + "  ")
        .join(""),
    );
  console.log("  from navigation start:");
  row("page loaded", "loaded");
  row("device check usable", "check");
  console.log("  from Join (the bare client: connect()):");
  row("token in hand", "token");
  row("LiveKit socket opened", "socket");
  row("signalling answered", "signalling");
  row("media connected", "media");
  row("remote video on the page", "attached");
  row("remote track attached", "srcObject");
  row("first remote frame", "frame");
  const [app, bare] = [ph[0].frame, ph[1].frame];
  const ratio = pct(app, 50) / pct(bare, 50);
  console.log(
    `  Join → first remote frame: p50 ${pct(app, 50).toFixed(0)} ms, ` +
      `${ratio.toFixed(2)}× the bare client's (budget 1.2×); p95 ${
        pct(app, 95).toFixed(0)
      } ms (budget 2000)` +
      (ph[2] ? `; LiveKit Meet p50 ${pct(ph[2].frame, 50).toFixed(0)} ms` : ""),
  );
}

await withCall(async ({ app, media, person, meeting, browser }) => {
  const ada = await person("Ada");
  const bob = await person("Bob", { check: true });
  const room = await meeting(ada, {}, [bob]);
  await openRoom(ada, app, room);
  // Ada publishes before anyone joins.
  await ada.page.locator(`li.tile[data-identity="${ada.user!.id}"] video`).waitFor();

  // Urbania: Bob's own signed-in browser, the room page with its device check.
  await bob.context.addInitScript(tagRemote, `li.tile[data-identity="${ada.user!.id}"] video`);
  await bob.context.addInitScript(instrument, ".joiner button.primary.big");
  const urbania = (phone: boolean) =>
    joinThrough(
      bob.context,
      `${app.base}/meeting/room?room=${room}`,
      ".joiner button.primary.big",
      phone,
    );

  // The baseline: livekit-client alone, loaded beforehand, with a token minted in advance.
  const bundle = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--platform", "browser", "--minify", "-q", "npm:livekit-client"],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const lk = new TextDecoder().decode(bundle.stdout);
  // The bare page: a button that connects with the token in its URL's fragment.
  const barePage = `<!doctype html><body><button id="go">Join</button><script type="module">
    import { Room, RoomEvent } from "/lk.js";
    const [url, token] = decodeURIComponent(location.hash.slice(1)).split(" ");
    const room = new Room({ adaptiveStream: true, dynacast: true });
    room.on(RoomEvent.TrackSubscribed, (track) => {
      if (track.kind !== "video") return;
      const v = document.createElement("video");
      v.dataset.remote = "1";
      v.muted = true;
      document.body.append(v);
      track.attach(v);
    });
    go.onclick = () => room.connect(url, token);
  </script></body>`;
  // Served from a real local server: Chromium blocks a page with no address from loopback.
  const bareServer = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) =>
      new URL(req.url).pathname.endsWith(".js")
        ? new Response(lk, { headers: { "Content-Type": "text/javascript" } })
        : new Response(barePage, { headers: { "Content-Type": "text/html" } }),
  );
  const bareContext = await browser.newContext();
  await bareContext.addInitScript(instrument, "#go");
  const minted = async () =>
    (await call(app, "POST", "/api/livekit/token", {
      token: bob.user!.token,
      json: { room_name: room },
    })).body.token as string;
  const bare = async (phone: boolean) => {
    const hash = encodeURIComponent(`${media.livekitUrl} ${await minted()}`);
    return await joinThrough(
      bareContext,
      `http://127.0.0.1:${bareServer.addr.port}/#${hash}`,
      "#go",
      phone,
    );
  };

  // LiveKit Meet's custom connection (a URL and a token), when a build is given.
  let meet: ((phone: boolean) => Promise<Marks>) | undefined;
  if (MEET) {
    const meetContext = await browser.newContext();
    await meetContext.addInitScript(
      tagRemote,
      `.lk-participant-tile[data-lk-local-participant="false"] video`,
    );
    await meetContext.addInitScript(instrument, "button.lk-join-button");
    meet = async (phone) => {
      const q = new URLSearchParams({ liveKitUrl: media.livekitUrl, token: await minted() });
      return await joinThrough(meetContext, `${MEET}/custom?${q}`, "button.lk-join-button", phone);
    };
  }

  for (const [phone, rounds] of [[false, JOINS], [true, PHONE_JOINS]] as const) {
    if (rounds === 0) continue;
    const runs: { app: Marks[]; bare: Marks[]; meet: Marks[] } = { app: [], bare: [], meet: [] };
    for (let i = 0; i < rounds; i++) {
      runs.app.push(await urbania(phone));
      runs.bare.push(await bare(phone));
      if (meet) runs.meet.push(await meet(phone));
    }
    const columns: [string, Marks[]][] = [["Urbania", runs.app], ["bare client", runs.bare]];
    if (meet) columns.push(["LiveKit Meet", runs.meet]);
    table(
      `bench:call (a) ${rounds} joins${
        phone ? " on an emulated phone (CPU ×4, 150 ms, 1.6 Mbit/s)" : ""
      } of a second person into a room with one video publisher, ${LOOK_MS} ms on the device check`,
      columns,
    );
  }
  await bareContext.close();
  await bareServer.shutdown();

  // (b) four people, held.
  const cy = await person("Cy");
  const dan = await person("Dan");
  const bob2 = await person("Bo");
  const four = await meeting(ada, {}, [bob2, cy, dan]);
  const pages: Person[] = [ada, bob2, cy, dan];
  for (const p of pages) await openRoom(p, app, four);
  for (const p of pages.slice(1)) await seesVideoOf(ada.page, p.user!.id, 30_000);
  const cdp = await ada.context.newCDPSession(ada.page);
  await cdp.send("Performance.enable");
  const metrics = async () =>
    Object.fromEntries(
      ((await cdp.send("Performance.getMetrics")) as { metrics: { name: string; value: number }[] })
        .metrics.map((m) => [m.name, m.value]),
    );
  const start = await metrics();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, HOLD_SECONDS * 1000));
  const end = await metrics();
  const wall = (performance.now() - t0) / 1000;
  const task = (end.TaskDuration - start.TaskDuration) / wall;
  const script = (end.ScriptDuration - start.ScriptDuration) / wall;
  console.log(`\nbench:call (b) four-person call held ${HOLD_SECONDS} s, one call page:`);
  console.log(
    `  main-thread task time ${(task * 100).toFixed(1)} % of wall time (budget 15 %), ` +
      `script ${(script * 100).toFixed(1)} %, JS heap ${
        (end.JSHeapUsedSize / 1048576).toFixed(1)
      } MB`,
  );
});
