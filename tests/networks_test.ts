// Calls through real firewalls and NATs: two people on client hosts of their own reach the
// stack on its server host through a router (tests/netns.ts), with the network between them
// shaped by a profile. Nothing in the browser forces a path: each test asserts the path ICE
// chose (the selected candidate pair, from getStats) and prints the time from Join to the first
// remote frame (a figure, not an assertion).
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { screenshot } from "./browser.ts";
import { inboundBytes, localCandidates, seesVideoOf } from "./call_fixture.ts";
import {
  assertPaths,
  callAcross,
  hearsOthers,
  networkTest,
  type NetWorld,
  qualityOf,
  withNetworkCall,
} from "./network_call.ts";
import { NET, type Profile } from "./netns.ts";

const figure = (world: NetWorld, ms: number) =>
  console.log(`networks: ${world.applied}: Join → first remote frame ${ms} ms`);

type Path = Parameters<Parameters<typeof assertPaths>[1]>[0];

/** The browser's addresses as STUN and TURN servers saw them (its non-host candidates). */
async function reflexiveAddresses(page: Page): Promise<string[]> {
  return (await localCandidates(page)).filter((c) => c.type !== "host").map((c) => c.address);
}

const CASES: {
  profile: Profile;
  name: string;
  /** What every selected pair of both people must be. */
  path: (path: Path) => boolean;
  /** More to check on each person's page. */
  also?: (page: Page) => Promise<void>;
  screenshot?: string;
}[] = [
  {
    profile: "open",
    name: "open: media goes direct over UDP to LiveKit",
    path: (p) => p.type === "host" && p.protocol === "udp",
    screenshot: "90-network-open",
  },
  {
    profile: "no-udp",
    name: "no UDP out: media goes over TCP (ICE over TCP or TURN over TLS)",
    // ICE over TCP: the browser's side is an active TCP candidate (host, or prflx once LiveKit
    // learns its ephemeral port); or else the relay over TLS.
    path: (p) =>
      (p.type !== "relay" && p.protocol === "tcp") ||
      (p.type === "relay" && p.relayProtocol === "tls"),
  },
  {
    profile: "corporate",
    name: "corporate, only TCP 443 out: relayed over TLS through the entrance",
    path: (p) =>
      p.type === "relay" && p.relayProtocol === "tls" &&
      p.url === "turns:turn.urbania.test:443?transport=tcp",
    screenshot: "91-network-corporate-443",
  },
  {
    profile: "symmetric-nat",
    name: "symmetric NAT: direct UDP still works (LiveKit is on a public address)",
    path: (p) => p.type !== "relay" && p.protocol === "udp",
    // The browser's address as the server sees it is the router's: the NAT is in the way.
    also: async (page) => {
      const seen = await reflexiveAddresses(page);
      assert.ok(seen.includes(NET.routerWan), JSON.stringify(seen));
    },
  },
  {
    profile: "symmetric-nat-closed",
    name: "symmetric NAT with LiveKit's ports closed: relayed over UDP by coturn",
    path: (p) =>
      p.type === "relay" && p.relayProtocol === "udp" &&
      p.url === "turn:turn.urbania.test:3478?transport=udp",
  },
];

for (const c of CASES) {
  networkTest(`networks - ${c.name}`, async () => {
    await withNetworkCall(c.profile, async (world) => {
      const { ada, bob, joinMs } = await callAcross(world);
      for (const p of [ada, bob]) {
        await assertPaths(p.page, c.path);
        await c.also?.(p.page);
        assert.deepEqual(p.errors, []);
      }
      // What the page says of the other's connection on these links.
      assert.match(await qualityOf(bob.page, ada.user.id), /excellent|good/);
      figure(world, joinMs);
      if (c.screenshot) await screenshot(bob.page, c.screenshot);
    });
  });
}

networkTest(
  "networks - poor hotel link: the call stays up, the tile no longer says excellent, data saver stops the video",
  async () => {
    await withNetworkCall("hotel", async (world) => {
      const { ada, bob, joinMs } = await callAcross(world);
      figure(world, joinMs);
      // Still up after a while: video keeps coming and sound too.
      await bob.page.waitForTimeout(10_000);
      await seesVideoOf(bob.page, ada.user.id, 60_000);
      await hearsOthers(bob.page);
      // The tile stops saying "excellent": LiveKit's own rating of Ada's connection, as its
      // server measures the loss and delay of what she sends.
      await bob.page.waitForFunction(
        (id) =>
          /q-(good|poor|lost)/.test(
            document.querySelector(`li.tile[data-identity="${id}"] .quality`)?.className ?? "",
          ),
        ada.user.id,
        { timeout: 60_000 },
      );
      console.log(
        `networks: ${world.applied}: Ada's tile says "${await qualityOf(bob.page, ada.user.id)}"`,
      );
      await screenshot(bob.page, "92-network-hotel-poor");
      // Audio only: no video arrives any more, sound still does.
      await bob.page.getByRole("button", { name: "More options" }).click();
      await bob.page.getByRole("radio", { name: "Audio only" }).check();
      await bob.page.locator(`li.tile[data-identity="${ada.user.id}"] .avatar`).waitFor();
      await bob.page.waitForTimeout(2000); // what was in flight lands
      const video0 = await inboundBytes(bob.page, "video");
      await bob.page.waitForTimeout(3000);
      assert.equal(await inboundBytes(bob.page, "video"), video0, "no video arrives");
      await hearsOthers(bob.page);
    });
  },
);
