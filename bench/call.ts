// deno task bench:call [--joins=20] [--hold=30]
//
// Against the real LiveKit and coturn on loopback (tests/call_fixture.ts):
// (a) joins: one person publishes video in a meeting; a second person opens the room page
//     `--joins` times, and each time the page records, from navigation start, when the page
//     loaded, when the LiveKit token arrived, when signalling answered, when media connected
//     and when the first remote video frame was painted (requestVideoFrameCallback). p50 and p95
//     of each, beside the same join made by a bare page that only runs livekit-client with a
//     token minted in advance (no app, no page load): the baseline, measured in the same run.
// (b) a four-person call held `--hold` seconds: main-thread task time per second of wall time
//     and JS heap of one call page (Chrome DevTools Protocol Performance.getMetrics).
// Budgets (DESIGN.md): first frame p50 < 1.5 s, p95 < 2.5 s; task time < 15 % of wall time.
import type { Page } from "playwright-core";
import { flag } from "./load.ts";
import { call } from "../tests/harness.ts";
import { openRoom, seesVideoOf, withCall } from "../tests/call_fixture.ts";
import { MEDIA_MISSING } from "../ops/media.ts";

const JOINS = flag("joins", 20);
const HOLD_SECONDS = flag("hold", 30);

if (MEDIA_MISSING.length > 0) {
  console.error(`not installed: ${MEDIA_MISSING.join(", ")}; run bash scripts/install_media.sh`);
  Deno.exit(1);
}

/** Init script: timestamps (ms since navigation start) of the join's steps. */
function instrument() {
  const marks: Record<string, number> = {};
  Object.defineProperty(globalThis, "__marks", { value: marks });
  const mark = (k: string) => marks[k] ??= performance.now();
  const NativeWS = globalThis.WebSocket;
  globalThis.WebSocket = class extends NativeWS {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      if (String(url).includes("/rtc")) {
        this.addEventListener("message", () => mark("signalling"), { once: true });
      }
    }
  } as typeof WebSocket;
  const NativePC = globalThis.RTCPeerConnection;
  globalThis.RTCPeerConnection = class extends NativePC {
    constructor(config?: RTCConfiguration) {
      super(config);
      this.addEventListener("connectionstatechange", () => {
        if (this.connectionState === "connected") mark("media");
      });
    }
  } as typeof RTCPeerConnection;
  const NativeFetch = globalThis.fetch;
  globalThis.fetch = async (...args: Parameters<typeof fetch>) => {
    const res = await NativeFetch(...args);
    if (String(args[0]).includes("/token")) mark("token");
    return res;
  };
  addEventListener("load", () => mark("loaded"));
  new MutationObserver(() => {
    for (const v of document.querySelectorAll<HTMLVideoElement>("video[data-remote]")) {
      if (v.dataset.watched) continue;
      v.dataset.watched = "1";
      v.requestVideoFrameCallback(() => mark("frame"));
    }
  }).observe(document, { subtree: true, childList: true, attributes: true });
}

const STEPS = ["loaded", "token", "signalling", "media", "frame"] as const;

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function marksOf(page: Page): Promise<Record<string, number>> {
  await page.waitForFunction(
    () => "frame" in (globalThis as unknown as { __marks: object }).__marks,
    undefined,
    {
      timeout: 30_000,
    },
  );
  return await page.evaluate(() =>
    (globalThis as unknown as { __marks: Record<string, number> }).__marks
  );
}

await withCall(async ({ app, media, person, meeting, browser }) => {
  const ada = await person("Ada");
  const bob = await person("Bob");
  const room = await meeting(ada, {}, [bob]);
  await openRoom(ada, app, room);
  await bob.context.addInitScript(instrument);

  // Remote video is told apart from one's own by the tile: the init script watches those.
  const tagRemote = (page: Page, identity: string) =>
    page.addInitScript((id: string) => {
      new MutationObserver(() => {
        document.querySelectorAll<HTMLVideoElement>(`li.tile[data-identity="${id}"] video`)
          .forEach((v) => v.dataset.remote = "1");
      }).observe(document, { subtree: true, childList: true });
    }, identity);

  const app_: Record<string, number[]> = Object.fromEntries(STEPS.map((s) => [s, []]));
  for (let i = 0; i < JOINS; i++) {
    const page = await bob.context.newPage();
    await tagRemote(page, ada.user!.id);
    await page.goto(`${app.base}/meeting/room?room=${room}`);
    const m = await marksOf(page);
    for (const s of STEPS) app_[s].push(m[s]);
    await page.close();
  }

  // The baseline: livekit-client alone, with a token minted beforehand, in an empty page.
  const bundle = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--platform", "browser", "--minify", "-q", "npm:livekit-client"],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const lk = new TextDecoder().decode(bundle.stdout);
  const bare: Record<string, number[]> = { signalling: [], media: [], frame: [] };
  // Served from a real local server: Chromium blocks a page with no address from loopback.
  const bareServer = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (req) =>
      new URL(req.url).pathname.endsWith(".js")
        ? new Response(lk, { headers: { "Content-Type": "text/javascript" } })
        : new Response("<!doctype html><body></body>", {
          headers: { "Content-Type": "text/html" },
        }),
  );
  const bareBase = `http://127.0.0.1:${bareServer.addr.port}`;
  const bareContext = await browser.newContext();
  await bareContext.addInitScript(instrument);
  for (let i = 0; i < JOINS; i++) {
    // Bob's own token, from the app ahead of time (the bare page does no request of its own).
    const minted = await call(app, "POST", "/api/livekit/token", {
      token: bob.user!.token,
      json: { room_name: room },
    });
    const token = minted.body.token;
    const page = await bareContext.newPage();
    await page.goto(`${bareBase}/`);
    await page.evaluate(async ([url, token, lib]) => {
      const { Room, RoomEvent } = await import(lib as string);
      const room = new Room({ adaptiveStream: true, dynacast: true });
      room.on(RoomEvent.TrackSubscribed, (track: { kind: string; attach(): HTMLVideoElement }) => {
        if (track.kind !== "video") return;
        const v = track.attach();
        v.dataset.remote = "1";
        v.muted = true;
        document.body.append(v);
      });
      (globalThis as unknown as { __marks: Record<string, number> }).__marks.start = performance
        .now();
      await room.connect(url as string, token as string);
    }, [media.livekitUrl, token, `${bareBase}/lk.js`]);
    const m = await marksOf(page);
    for (const s of ["signalling", "media", "frame"]) bare[s].push(m[s] - m.start);
    await page.close();
  }
  await bareContext.close();
  await bareServer.shutdown();

  console.log(
    `\nbench:call (a) ${JOINS} joins of a second person into a room with one video publisher`,
  );
  console.log("ms from navigation start        p50      p95");
  for (const s of STEPS) {
    console.log(
      `  ${s.padEnd(28)} ${pct(app_[s], 50).toFixed(0).padStart(6)} ${
        pct(app_[s], 95).toFixed(0).padStart(8)
      }`,
    );
  }
  console.log("bare livekit-client (from connect()):");
  for (const s of ["signalling", "media", "frame"]) {
    console.log(
      `  ${s.padEnd(28)} ${pct(bare[s], 50).toFixed(0).padStart(6)} ${
        pct(bare[s], 95).toFixed(0).padStart(8)
      }`,
    );
  }
  const p50 = pct(app_.frame, 50), p95 = pct(app_.frame, 95);
  console.log(
    `first frame: p50 ${p50.toFixed(0)} ms (budget 1500), p95 ${
      p95.toFixed(0)
    } ms (budget 2500); ` +
      `ratio to bare livekit-client p50 ${(p50 / pct(bare.frame, 50)).toFixed(2)}`,
  );

  // (b) four people, held.
  const cy = await person("Cy");
  const dan = await person("Dan");
  const four = await meeting(ada, {}, [bob, cy, dan]);
  const pages = [ada, bob, cy, dan];
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
