// The connection test page in Chromium, against the real stack behind the tls profile's
// entrance on loopback: it names the path media takes (direct; relayed over UDP; relayed over
// TLS on the entrance's port), and says clearly that the media server cannot be reached when
// LiveKit is down. Pre-join runs the compact version. What it says from behind a firewall that
// lets only 443 out, or with no route to the server, is in tests/networks_doctor_test.ts.
import assert from "node:assert/strict";
import { runConnectionTest, screenshot } from "./browser.ts";
import { callTest } from "./call_fixture.ts";
import { edgePerson, withEdge, withEdgeBrowser } from "./edge_fixture.ts";

callTest(
  "connection test - names each path: direct, relayed over UDP, relayed over TLS on the entrance's port",
  async () => {
    await withEdge(async (media, app) => {
      await withEdgeBrowser(media, async (browser) => {
        const ada = await edgePerson(browser, app, media, "Ada");
        await ada.page.goto(`${media.edge!.appUrl}/connection-test`);
        const { verdict, paths } = await runConnectionTest(ada.page);
        assert.match(paths.signalling, /Media server: reached/);
        assert.match(paths.automatic, /works, direct over UDP/);
        const text = await ada.page.locator("pre.report").textContent();
        assert.match(paths["relay-udp"], /works, relayed \(TURN over UDP on port \d+\)/, text!);
        assert.match(
          paths["relay-tls"],
          new RegExp(`works, relayed \\(TURN over TLS on port ${media.edge!.port}\\)`),
        );
        assert.match(verdict, /Your calls will connect direct over UDP/);
        // The report for the administrator says the same, with the server and the browser.
        const report = await ada.page.locator("pre.report").textContent();
        assert.match(report!, /Media server: wss:\/\/livekit\.urbania\.test:\d+/);
        assert.match(report!, /relay-tls: ok, relayed \(TURN over TLS/);
        assert.match(report!, /Verdict: Your calls will connect direct over UDP/);
        await screenshot(ada.page, "41-connection-test");
        assert.deepEqual(ada.errors, []);

        // Pre-join's compact version: the automatic path only, and a link to the full test.
        await ada.page.goto(`${media.edge!.appUrl}/meeting/pre-join`);
        const compact = await runConnectionTest(ada.page);
        assert.match(compact.paths.automatic, /works, direct over UDP/);
        assert.equal(compact.paths["relay-tls"], undefined);
        assert.ok(await ada.page.getByRole("link", { name: "Full connection test" }).isVisible());
        await ada.page.setViewportSize({ width: 390, height: 844 });
        await ada.page.locator(".connection-test").scrollIntoViewIfNeeded();
        await screenshot(ada.page, "44-prejoin-connection-check-phone");
      });
    });
  },
);

callTest(
  "connection test - a TURN certificate the browser does not trust: the TLS relay fails, and the report says why",
  async () => {
    await withEdge(async (media, app) => {
      // The entrance's CA is not trusted: the page is let in (a person clicking through a
      // warning), but Chromium still checks the TURN server's certificate itself.
      await withEdgeBrowser(media, async (browser) => {
        const dee = await edgePerson(browser, app, media, "Dee", "all", true);
        await dee.page.goto(`${media.edge!.appUrl}/connection-test`);
        const { verdict, paths } = await runConnectionTest(dee.page);
        assert.match(paths.automatic, /works, direct over UDP/);
        assert.match(paths["relay-udp"], /works/);
        assert.match(paths["relay-tls"], /fails/);
        assert.match(verdict, /Your calls will connect direct over UDP/);
        const report = await dee.page.locator("pre.report").textContent();
        assert.match(report!, /relay-tls: FAILED/);
        assert.match(
          await dee.page.locator("p.advice").textContent() ?? "",
          /The relay over TLS \(port 443\) fails from here/,
        );
        await screenshot(dee.page, "45-connection-test-untrusted-turn-certificate");
        assert.match(report!, /ICE error: turns:turn\.urbania\.test:\d+\?transport=tcp/, report!);
      }, { trustCa: false });
    });
  },
);

callTest(
  "connection test - LiveKit down: the page says the media server cannot be reached",
  async () => {
    await withEdge(async (media, app) => {
      await media.killLiveKit();
      await withEdgeBrowser(media, async (browser) => {
        const cy = await edgePerson(browser, app, media, "Cy");
        await cy.page.goto(`${media.edge!.appUrl}/connection-test`);
        const { verdict, paths } = await runConnectionTest(cy.page);
        assert.match(paths.signalling, /Media server: not reached/);
        assert.equal(paths.automatic, undefined, "no media path tried without signalling");
        assert.match(verdict, /cannot reach the media server \(wss:\/\/livekit\.urbania\.test/);
        assert.ok(await cy.page.locator("details[open] pre.report").isVisible());
        await screenshot(cy.page, "43-connection-test-livekit-down");
      });
    });
  },
);
