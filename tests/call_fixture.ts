// Real calls: the app, the real LiveKit and coturn (tests/media.ts) posting their webhooks to
// that app, and Chromium with a fake camera and microphone. Every page gets an init script
// that keeps its RTCPeerConnections (and the ICE errors they met) where the test can read
// their statistics.
import type { Browser, BrowserContext, Page } from "playwright-core";
import { launchChromium, screenshot, signedIn, startPageApp, watchErrors } from "./browser.ts";
import {
  addContacts,
  call,
  freePort,
  registerUser,
  type TestApp,
  type TestUser,
} from "./harness.ts";
import { type MediaStack, SKIP_CALLS, startMediaStack } from "./media.ts";

/** Console noise a call page may print that is not a failure of ours. */
export const CALL_NOISE = [
  // livekit-client logs a failed attempt it then retries, and reconnections as errors.
  /could not (establish|connect)|reconnect|signal|websocket|ping timeout|leave request/i,
  // ...and the data channels the server closed when it ended the call or removed someone.
  /DataChannel error on \w+: User-Initiated Abort|data channel '\w+' closed unexpectedly/,
];

export interface Person {
  user: TestUser | null;
  context: BrowserContext;
  page: Page;
  errors: string[];
}

export interface CallWorld {
  app: TestApp;
  media: MediaStack;
  browser: Browser;
  /** A signed-in person with a page of their own. */
  person(name: string, options?: PageOptions): Promise<Person>;
  /** Someone without an account (a guest), with a page of their own. */
  stranger(options?: PageOptions): Promise<Person>;
  /** A meeting `host` creates with `members` (made contacts and rung). */
  meeting(host: Person, fields?: Record<string, unknown>, members?: Person[]): Promise<string>;
}

/**
 * Runs `fn` holding this machine's call lock: one call at a time (test files run in parallel,
 * and a call of three or four browsers encoding video already takes what two cores have).
 */
export async function oneCallAtATime<T>(fn: () => Promise<T>): Promise<T> {
  const lock = await Deno.open(`${Deno.env.get("TMPDIR") ?? "/tmp"}/urbania-calls.lock`, {
    create: true,
    write: true,
  });
  await lock.lock(true);
  try {
    return await fn();
  } finally {
    await lock.unlock();
    lock.close();
  }
}

/** Runs `fn` with a fresh app, media stack and browser; stops all three. */
export function withCall(
  fn: (world: CallWorld) => Promise<void>,
  options: { app?: Parameters<typeof startPageApp>[0] } = {},
): Promise<void> {
  return oneCallAtATime(() => withCallLocked(fn, options));
}

async function withCallLocked(
  fn: (world: CallWorld) => Promise<void>,
  options: { app?: Parameters<typeof startPageApp>[0] },
): Promise<void> {
  const port = freePort();
  const media = await startMediaStack({
    webhookUrl: `http://127.0.0.1:${port}/api/livekit/webhook`,
  });
  let app: TestApp | undefined;
  let browser: Browser | undefined;
  try {
    app = await startPageApp({
      ...options.app,
      port,
      env: { ...media.appEnv, ...options.app?.env },
    });
    browser = await launchChromium([`--use-file-for-fake-audio-capture=${await speechLikeWav()}`]);
    const world: CallWorld = {
      app,
      media,
      browser,
      async person(name, opts = {}) {
        const user = await registerUser(app!, { display_name: name });
        const context = await signedIn(browser!, app!, user, contextOptions(opts));
        return { user, ...(await preparePage(context, opts.ice, opts.check)) };
      },
      async stranger(opts = {}) {
        const context = await browser!.newContext(contextOptions(opts));
        return { user: null, ...(await preparePage(context, opts.ice, opts.check)) };
      },
      async meeting(host, fields = {}, members = []) {
        const others = members.map((m) => m.user!);
        await addContacts(app!, host.user!, others);
        const res = await call(app!, "POST", "/api/livekit/rooms", {
          token: host.user!.token,
          json: {
            room_name: "Weekly sync",
            call_type: "video",
            // Open to its link unless the test says otherwise (the lobby's tests knock).
            entry: "open",
            participants: others.map((u) => u.id),
            ...fields,
          },
        });
        if (res.status !== 201) throw new Error(`create room: ${res.status}`);
        return res.body.id;
      },
    };
    await fn(world);
  } catch (err) {
    // What the media servers said last helps read a failure.
    console.error(
      `LiveKit said:\n${media.livekit.tail(30)}\ncoturn said:\n${media.coturn.tail(10)}`,
    );
    throw err;
  } finally {
    await browser?.close();
    await app?.stop();
    await media.stop();
  }
}

const contextOptions = (opts: PageOptions) => ({
  ...(opts.viewport ? { viewport: opts.viewport } : {}),
  ...(opts.locale ? { locale: opts.locale } : {}),
});

let wav: Promise<string> | undefined;
/**
 * A WAV the fake microphone plays in a loop: bursts of a varying tone, like syllables. The
 * default fake microphone only beeps briefly, too little for LiveKit to call anyone speaking,
 * and a steady tone is what noise suppression removes.
 */
export function speechLikeWav(): Promise<string> {
  wav ??= (async () => {
    const rate = 48_000, seconds = 4;
    const samples = new Int16Array(rate * seconds);
    for (let i = 0; i < samples.length; i++) {
      const t = i / rate;
      const syllable = Math.floor(t / 0.25);
      const on = (t % 0.25) < 0.18 ? Math.sin(Math.PI * ((t % 0.25) / 0.18)) : 0;
      const f = 180 + (syllable % 5) * 45;
      const v = Math.sin(2 * Math.PI * f * t) + 0.5 * Math.sin(4 * Math.PI * f * t) +
        0.25 * Math.sin(6 * Math.PI * f * t);
      samples[i] = Math.round(on * v * 9000);
    }
    const header = new DataView(new ArrayBuffer(44));
    const text = (o: number, s: string) =>
      [...s].forEach((c, k) => header.setUint8(o + k, c.charCodeAt(0)));
    text(0, "RIFF");
    header.setUint32(4, 36 + samples.byteLength, true);
    text(8, "WAVEfmt ");
    header.setUint32(16, 16, true);
    header.setUint16(20, 1, true);
    header.setUint16(22, 1, true);
    header.setUint32(24, rate, true);
    header.setUint32(28, rate * 2, true);
    header.setUint16(32, 2, true);
    header.setUint16(34, 16, true);
    text(36, "data");
    header.setUint32(40, samples.byteLength, true);
    const path = await Deno.makeTempFile({ prefix: "urbania-voice-", suffix: ".wav" });
    const bytes = new Uint8Array(44 + samples.byteLength);
    bytes.set(new Uint8Array(header.buffer), 0);
    bytes.set(new Uint8Array(samples.buffer), 44);
    await Deno.writeFile(path, bytes);
    return path;
  })();
  return wav;
}

/**
 * What a page's WebRTC may use: everything, or nothing at all (media can never connect, while
 * signalling does). Firewalls and NATs are not imitated in the browser: tests/networks_test.ts
 * puts browsers behind real ones.
 */
export type IcePolicy = "all" | "none";

export interface PageOptions {
  ice?: IcePolicy;
  /**
   * Shows the device check before every call (a person who never chose to skip it). Without
   * it, the page starts as if they had ticked "go straight in" (the tests of everything else).
   */
  check?: boolean;
  viewport?: { width: number; height: number };
  /** The browser's language (its Accept-Language and Intl), e.g. "fr-FR". */
  locale?: string;
}

/** The viewport of a phone held upright. */
export const PHONE = { width: 390, height: 844 };

export async function preparePage(context: BrowserContext, ice: IcePolicy = "all", check = false) {
  if (!check) {
    await context.addInitScript(() => {
      if (!localStorage.getItem("urbania.media")) {
        localStorage.setItem("urbania.media", JSON.stringify({ remember: true }));
      }
    });
  }
  await context.addInitScript((policy: string) => {
    const Native = globalThis.RTCPeerConnection;
    const list: RTCPeerConnection[] = [];
    Object.defineProperty(globalThis, "__pcs", { value: list });
    // ICE servers the browser could not use, for a failure's message.
    const iceErrors: string[] = [];
    Object.defineProperty(globalThis, "__iceErrors", { value: iceErrors });
    const adjust = (config?: RTCConfiguration): RTCConfiguration | undefined =>
      policy === "all" ? config : { ...config, iceTransportPolicy: "relay", iceServers: [] };
    globalThis.RTCPeerConnection = class extends Native {
      constructor(config?: RTCConfiguration) {
        super(adjust(config));
        list.push(this);
        this.addEventListener("icecandidateerror", (e) => {
          const err = e as RTCPeerConnectionIceErrorEvent;
          if (iceErrors.length < 20) iceErrors.push(`${err.url} ${err.errorCode} ${err.errorText}`);
        });
      }
      override setConfiguration(config?: RTCConfiguration) {
        super.setConfiguration(adjust(config));
      }
    } as typeof RTCPeerConnection;
  }, ice);
  const page = await context.newPage();
  return { context, page, errors: watchErrors(page, CALL_NOISE) };
}

/** A call test: skipped only outside CI when the servers are missing (tests/media.ts). */
export function callTest(name: string, fn: () => Promise<void>) {
  Deno.test({ name, ignore: SKIP_CALLS, fn, sanitizeOps: false, sanitizeResources: false });
}

/** Ada hosts a meeting with Bob invited; both have the room page open. */
export async function twoInCall(world: CallWorld, bobOptions: { ice?: IcePolicy } = {}) {
  const ada = await world.person("Ada");
  const bob = await world.person("Bob", bobOptions);
  const room = await world.meeting(ada, {}, [bob]);
  await openRoom(ada, world.app, room);
  await openRoom(bob, world.app, room);
  return { ada, bob, room };
}

/**
 * Ada hosts a meeting (with `fields`) with Bob and Cy invited; each page is readied by
 * `prepare` (init scripts) and then opens the room.
 */
export async function threeInCall(
  world: CallWorld,
  options: { fields?: Record<string, unknown>; prepare?: (p: Person) => Promise<unknown> } = {},
) {
  const ada = await world.person("Ada");
  const bob = await world.person("Bob");
  const cy = await world.person("Cy");
  const room = await world.meeting(ada, options.fields, [bob, cy]);
  for (const p of [ada, bob, cy]) {
    await options.prepare?.(p);
    await openRoom(p, world.app, room);
  }
  return { ada, bob, cy, room };
}

/** A guest joins from the meeting's link under `name`, landing on the room page. */
export async function joinAsGuest(
  world: CallWorld,
  room: string,
  name: string,
  prepare?: (guest: Person) => Promise<unknown>,
): Promise<Person> {
  const guest = await world.stranger();
  await prepare?.(guest);
  await guest.page.goto(`${world.app.base}/meeting/invite?room=${room}`);
  await guest.page.getByLabel("Your name").fill(name);
  await guest.page.getByRole("button", { name: "Join as guest" }).click();
  await guest.page.waitForURL(/\/meeting\/room\?room=/);
  return guest;
}

/** Opens the meeting's room page. */
export async function openRoom(p: Person, app: TestApp, roomId: string) {
  await p.page.goto(`${app.base}/meeting/room?room=${roomId}`);
}

/** Resolves once the tile of `identity` shows a first frame of video. */
export async function firstFrameOf(page: Page, identity: string, timeout = 30_000) {
  await page.waitForFunction(
    (sel) => {
      const video = document.querySelector<HTMLVideoElement>(sel);
      return !!video && video.videoWidth > 0 && video.readyState >= 2;
    },
    `li.tile[data-identity="${identity}"] video`,
    { timeout },
  );
}

/** Every local ICE candidate of the page's peer connections. */
export function localCandidates(
  page: Page,
): Promise<
  { type: string; protocol: string; address: string; relayProtocol?: string; url?: string }[]
> {
  return page.evaluate(async () => {
    const found: {
      type: string;
      protocol: string;
      address: string;
      relayProtocol?: string;
      url?: string;
    }[] = [];
    for (const pc of (globalThis as unknown as { __pcs: RTCPeerConnection[] }).__pcs) {
      (await pc.getStats()).forEach((s) => {
        if (s.type !== "local-candidate") return;
        found.push({
          type: s.candidateType,
          protocol: s.protocol,
          address: s.address,
          relayProtocol: s.relayProtocol,
          url: s.url,
        });
      });
    }
    return found;
  });
}

/** Resolves once the tile of `identity` plays video whose frames keep coming. */
export async function seesVideoOf(page: Page, identity: string, timeout = 30_000) {
  const tile = `li.tile[data-identity="${identity}"] video`;
  await firstFrameOf(page, identity, timeout);
  const frames = () =>
    page.evaluate(
      (sel) =>
        document.querySelector<HTMLVideoElement>(sel)!.getVideoPlaybackQuality().totalVideoFrames,
      tile,
    );
  const first = await frames();
  await page.waitForFunction(
    ([sel, n]) =>
      (document.querySelector<HTMLVideoElement>(sel as string)?.getVideoPlaybackQuality()
        .totalVideoFrames ?? 0) > (n as number) + 5,
    [tile, first] as const,
    { timeout },
  );
}

/** Bytes of audio received so far by the page's peer connections (WebRTC statistics). */
export function inboundAudioBytes(page: Page): Promise<number> {
  return inboundBytes(page, "audio");
}

/** Bytes received so far by the page's peer connections for one kind of media. */
export async function inboundBytes(page: Page, kind: "audio" | "video"): Promise<number> {
  return await page.evaluate(async (kind) => {
    let bytes = 0;
    for (const pc of (globalThis as unknown as { __pcs: RTCPeerConnection[] }).__pcs) {
      if (pc.connectionState === "closed") continue;
      (await pc.getStats()).forEach((s) => {
        if (s.type === "inbound-rtp" && s.kind === kind) bytes += s.bytesReceived ?? 0;
      });
    }
    return bytes;
  }, kind);
}

/** The page's selected ICE paths: the local candidate's type and how it reaches its server. */
export async function selectedPaths(
  page: Page,
): Promise<{ type: string; protocol: string; relayProtocol?: string; url?: string }[]> {
  return await page.evaluate(async () => {
    const paths: { type: string; protocol: string; relayProtocol?: string; url?: string }[] = [];
    for (const pc of (globalThis as unknown as { __pcs: RTCPeerConnection[] }).__pcs) {
      if (pc.connectionState !== "connected") continue;
      const stats = await pc.getStats();
      stats.forEach((s) => {
        if (s.type === "transport" && s.selectedCandidatePairId) {
          const pair = stats.get(s.selectedCandidatePairId);
          const local = pair && stats.get(pair.localCandidateId);
          if (local) {
            paths.push({
              type: local.candidateType,
              protocol: local.protocol,
              relayProtocol: local.relayProtocol,
              url: local.url,
            });
          }
        }
      });
    }
    return paths;
  });
}

/** The room as its host sees it through the API. */
export async function roomAs(app: TestApp, who: Person, roomId: string) {
  const res = await call(app, "GET", `/api/livekit/rooms/${roomId}`, { token: who.user!.token });
  if (res.status !== 200) throw new Error(`room: ${res.status}`);
  return res.body;
}

/** Waits until `check` holds for the room as `who` sees it (presence arrives by webhook). */
export async function untilRoom(
  app: TestApp,
  who: Person,
  roomId: string,
  check: (
    room: Record<string, unknown> & { participants: { id: string; in_call: boolean }[] },
  ) => boolean,
  timeout = 30_000,
) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    last = await roomAs(app, who, roomId);
    if (check(last)) return last;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the room never reached the expected state: ${JSON.stringify(last)}`);
}

export { screenshot };
