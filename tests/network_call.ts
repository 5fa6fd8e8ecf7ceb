// Calls across the test network (tests/netns.ts): the stack on the server host
// (tests/network_stack.ts), a profile applied between it and the clients, and one Chromium per
// client host. A person's page comes through the entrance on 443, as from anywhere else.
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { joinNow, signedIn } from "./browser.ts";
import {
  firstFrameOf,
  inboundAudioBytes,
  localCandidates,
  oneCallAtATime,
  type Person,
  preparePage,
  seesVideoOf,
  selectedPaths,
  speechLikeWav,
} from "./call_fixture.ts";
import { addContacts, call, registerUser, type TestUser } from "./harness.ts";
import { SKIP_CALLS } from "./media.ts";
import { applyProfile, type Network, type Profile, SKIP_NETWORKS, withNetwork } from "./netns.ts";
import { clientBrowser, type NetworkStack, startNetworkStack } from "./network_stack.ts";

export interface NetWorld {
  net: Network;
  stack: NetworkStack;
  /** The profile as applied (what this machine could not do included). */
  applied: string;
  /** One browser per client host. */
  browsers: Browser[];
  /** A signed-in person in client host `client` (0-based), with a page of their own. */
  person(name: string, client: number, options?: { check?: boolean }): Promise<NetPerson>;
}

export type NetPerson = Person & { user: TestUser };

/** A network test: skipped outside CI when namespaces or the media servers are missing. */
export function networkTest(name: string, fn: () => Promise<void>) {
  Deno.test({
    name,
    ignore: SKIP_NETWORKS || SKIP_CALLS,
    fn,
    sanitizeOps: false,
    sanitizeResources: false,
  });
}

/**
 * Runs `fn` on a fresh network with the stack on its server host and `profile` applied, one
 * browser per client host; everything is stopped and torn down afterwards.
 */
export function withNetworkCall(profile: Profile, fn: (world: NetWorld) => Promise<void>) {
  return oneCallAtATime(() =>
    withNetwork(async (net) => {
      const stack = await startNetworkStack(net);
      const browsers: Browser[] = [];
      try {
        const audio = `--use-file-for-fake-audio-capture=${await speechLikeWav()}`;
        for (const k of net.clients.keys()) browsers.push(await clientBrowser(stack, k, [audio]));
        const applied = await applyProfile(net, profile, stack.ports);
        await fn({
          applied,
          net,
          stack,
          browsers,
          async person(name, client, options = {}) {
            const user = await registerUser(stack.app, { display_name: name });
            const context = await signedIn(browsers[client], { base: stack.appUrl }, user);
            return { user, ...(await preparePage(context, "all", options.check)) };
          },
        });
      } catch (err) {
        console.error(stack.tails());
        throw err;
      } finally {
        for (const b of browsers) await b.close().catch(() => {});
        await stack.stop();
      }
    })
  );
}

/** A meeting `host` creates with `members` invited (made contacts first). */
export async function meetingOf(world: NetWorld, host: NetPerson, members: NetPerson[]) {
  await addContacts(world.stack.app, host.user, members.map((m) => m.user));
  const res = await call(world.stack.app, "POST", "/api/livekit/rooms", {
    token: host.user.token,
    json: {
      room_name: "Across the network",
      call_type: "video",
      entry: "open",
      participants: members.map((m) => m.user.id),
    },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id as string;
}

/** Opens the room page at its device check and presses Join; ms from the press to `until`. */
async function join(world: NetWorld, p: NetPerson, room: string, until: () => Promise<void>) {
  await p.page.goto(`${world.stack.appUrl}/meeting/room?room=${room}`);
  await p.page.getByRole("button", { name: "Join now" }).waitFor({ timeout: 30_000 });
  const t0 = performance.now();
  await joinNow(p.page);
  await until();
  return Math.round(performance.now() - t0);
}

/**
 * Ada (client host 1) hosts, Bob (client host 2) is invited; each passes the device check and
 * joins. Both see and hear the other. Returns the ms from Bob's Join to Ada's first frame.
 */
export async function callAcross(world: NetWorld) {
  const ada = await world.person("Ada", 0, { check: true });
  const bob = await world.person("Bob", 1, { check: true });
  const room = await meetingOf(world, ada, [bob]);
  await join(world, ada, room, async () => {
    await ada.page.locator(`li.tile[data-identity="${ada.user.id}"]`).waitFor({ timeout: 60_000 });
  });
  const joinMs = await join(world, bob, room, () => firstFrameOf(bob.page, ada.user.id, 60_000));
  await seesVideoOf(ada.page, bob.user.id, 60_000);
  await seesVideoOf(bob.page, ada.user.id, 60_000);
  for (const p of [ada, bob]) await hearsOthers(p.page);
  return { ada, bob, room, joinMs };
}

/** Audio keeps arriving at `page` (bytes received grow over two seconds). */
export async function hearsOthers(page: Page) {
  const before = await inboundAudioBytes(page);
  await page.waitForTimeout(2000);
  const after = await inboundAudioBytes(page);
  assert.ok(after > before + 1000, `audio arrives (${before} → ${after} bytes)`);
}

/**
 * Every connected peer connection's selected path (at least one), each asserted by `check`;
 * a failure lists every candidate the page gathered.
 */
export async function assertPaths(
  page: Page,
  check: (path: Awaited<ReturnType<typeof selectedPaths>>[number]) => boolean,
) {
  const paths = await selectedPaths(page);
  assert.ok(paths.length >= 1, "a connected peer connection");
  for (const path of paths) {
    if (!check(path)) {
      assert.fail(`unexpected path ${JSON.stringify(path)}; gathered: ${await candidatesOf(page)}`);
    }
  }
  return paths;
}

/** The page's local candidates and ICE errors, for a failure's message. */
async function candidatesOf(page: Page): Promise<string> {
  const seen = new Set(
    (await localCandidates(page)).map((c) =>
      `${c.type}/${c.protocol}/${c.address}/${c.relayProtocol ?? ""}/${c.url ?? ""}`
    ),
  );
  const errors = await page.evaluate(() =>
    (globalThis as unknown as { __iceErrors: string[] }).__iceErrors
  );
  return `${[...seen].join(", ")}; ICE errors: ${errors.join("; ") || "none"}`;
}

/** What the tile of `identity` says about that person's connection (its quality class). */
export async function qualityOf(page: Page, identity: string): Promise<string> {
  const cls = await page.locator(`li.tile[data-identity="${identity}"] .quality`).getAttribute(
    "class",
  );
  return /q-(\w+)/.exec(cls ?? "")?.[1] ?? "none";
}

/**
 * `deno task doctor` run inside client host `client` against the network's deployment (its
 * .env and the entrance's CA; names from the network's DNS): its exit code and report.
 */
export async function doctorFrom(world: NetWorld, client: number, extra: string[] = []) {
  const { stack } = world;
  const envFile = await Deno.makeTempFile({ prefix: "urbania-net-env-" });
  const env = { ...stack.env, ACME_EMAIL: "ops@urbania.test" };
  await Deno.writeTextFile(
    envFile,
    Object.entries(env).map(([k, v]) => `${k}=${v}`).join("\n") + "\n",
  );
  const [bin, args] = world.net.clients[client].command(Deno.execPath(), [
    "run",
    "--allow-net",
    "--allow-read",
    "--allow-env",
    new URL("../scripts/doctor.ts", import.meta.url).pathname,
    `--env-file=${envFile}`,
    `--ca-file=${stack.rootCa}`,
    ...extra,
  ]);
  try {
    // Only the file's settings: none of this process's environment (which would win over it).
    const keep = Object.fromEntries(
      ["PATH", "HOME", "DENO_DIR"].flatMap((k) => Deno.env.get(k) ? [[k, Deno.env.get(k)!]] : []),
    );
    const out = await new Deno.Command(bin, {
      args,
      stdout: "piped",
      stderr: "piped",
      clearEnv: true,
      env: keep,
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    return { code: out.code, text };
  } finally {
    await Deno.remove(envFile).catch(() => {});
  }
}
