// Calls through real firewalls and NATs: two people on client hosts of their own reach the
// stack on its server host through a router (tests/netns.ts), with the network between them
// shaped by a profile. Nothing in the browser forces a path: each test asserts the path ICE
// chose (the selected candidate pair, from getStats) and prints the time from Join to the first
// remote frame (a figure, not an assertion).
import assert from "node:assert/strict";
import { screenshot } from "./browser.ts";
import { inboundBytes, seesVideoOf } from "./call_fixture.ts";
import {
  assertPaths,
  callAcross,
  hearsOthers,
  networkTest,
  type NetWorld,
  qualityOf,
  withNetworkCall,
} from "./network_call.ts";
import { NET } from "./netns.ts";

const figure = (world: NetWorld, ms: number) =>
  console.log(`networks: ${world.applied}: Join → first remote frame ${ms} ms`);

networkTest("networks - open: media goes direct over UDP to LiveKit", async () => {
  await withNetworkCall("open", async (world) => {
    const { ada, bob, joinMs } = await callAcross(world);
    for (const p of [ada, bob]) {
      await assertPaths(p.page, (path) => path.type === "host" && path.protocol === "udp");
      assert.deepEqual(p.errors, []);
    }
    assert.match(await qualityOf(bob.page, ada.user.id), /excellent|good/);
    figure(world, joinMs);
    await screenshot(bob.page, "90-network-open");
  });
});

networkTest(
  "networks - no UDP out: media goes over TCP (ICE over TCP or TURN over TLS)",
  async () => {
    await withNetworkCall("no-udp", async (world) => {
      const { ada, bob, joinMs } = await callAcross(world);
      for (const p of [ada, bob]) {
        // ICE over TCP: the browser's side is an active TCP candidate (host, or prflx once
        // LiveKit learns its ephemeral port); or else the relay over TLS.
        await assertPaths(
          p.page,
          (path) =>
            (path.type !== "relay" && path.protocol === "tcp") ||
            (path.type === "relay" && path.relayProtocol === "tls"),
        );
        assert.deepEqual(p.errors, []);
      }
      figure(world, joinMs);
    });
  },
);

networkTest(
  "networks - corporate, only TCP 443 out: relayed over TLS through the entrance",
  async () => {
    await withNetworkCall("corporate", async (world) => {
      const { ada, bob, joinMs } = await callAcross(world);
      for (const p of [ada, bob]) {
        await assertPaths(
          p.page,
          (path) =>
            path.type === "relay" && path.relayProtocol === "tls" &&
            path.url === "turns:turn.urbania.test:443?transport=tcp",
        );
        assert.deepEqual(p.errors, []);
      }
      figure(world, joinMs);
      await screenshot(bob.page, "91-network-corporate-443");
    });
  },
);

networkTest(
  "networks - symmetric NAT: direct UDP still works (LiveKit is on a public address)",
  async () => {
    await withNetworkCall("symmetric-nat", async (world) => {
      const { ada, bob, joinMs } = await callAcross(world);
      for (const p of [ada, bob]) {
        await assertPaths(p.page, (path) => path.type !== "relay" && path.protocol === "udp");
        // The browser's address as the server sees it is the router's: the NAT is in the way.
        const reflexive = await p.page.evaluate(async () => {
          const seen: string[] = [];
          for (const pc of (globalThis as unknown as { __pcs: RTCPeerConnection[] }).__pcs) {
            (await pc.getStats()).forEach((s) => {
              if (s.type === "local-candidate" && s.candidateType !== "host") seen.push(s.address);
            });
          }
          return seen;
        });
        assert.ok(reflexive.includes(NET.routerWan), JSON.stringify(reflexive));
        assert.deepEqual(p.errors, []);
      }
      figure(world, joinMs);
    });
  },
);

networkTest(
  "networks - symmetric NAT with LiveKit's ports closed: relayed over UDP by coturn",
  async () => {
    await withNetworkCall("symmetric-nat-closed", async (world) => {
      const { ada, bob, joinMs } = await callAcross(world);
      for (const p of [ada, bob]) {
        await assertPaths(
          p.page,
          (path) =>
            path.type === "relay" && path.relayProtocol === "udp" &&
            path.url === "turn:turn.urbania.test:3478?transport=udp",
        );
        assert.deepEqual(p.errors, []);
      }
      figure(world, joinMs);
    });
  },
);

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
