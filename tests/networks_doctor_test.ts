// The connection test page and `deno task doctor`, run from inside restricted client hosts
// (tests/netns.ts), name what calls from that network get: relayed over TLS on 443 when only
// 443 gets out, and "not reached" when nothing reaches the server.
import assert from "node:assert/strict";
import { runConnectionTest, screenshot } from "./browser.ts";
import { doctorFrom, networkTest, withNetworkCall } from "./network_call.ts";
import { applyProfile } from "./netns.ts";

networkTest(
  "networks - only TCP 443 out: the connection test and the doctor say calls go relayed over TLS on 443",
  async () => {
    await withNetworkCall("corporate", async (world) => {
      const ada = await world.person("Ada", 0);
      await ada.page.goto(`${world.stack.appUrl}/connection-test`);
      const { verdict, paths, report } = await runConnectionTest(ada.page);
      assert.match(paths.signalling, /Media server: reached/);
      assert.match(paths.automatic, /works, relayed \(TURN over TLS on port 443\)/, report);
      assert.match(paths["relay-udp"], /fails/, report);
      assert.match(paths["relay-tls"], /works, relayed \(TURN over TLS on port 443\)/, report);
      assert.match(verdict, /Your calls will connect relayed \(TURN over TLS on port 443\)/);
      await screenshot(ada.page, "93-network-connection-test-443");
      assert.deepEqual(ada.errors, []);

      const doctor = await doctorFrom(world, 0);
      assert.match(doctor.text, /FAIL {2}TURN over UDP/, doctor.text);
      assert.match(doctor.text, /FAIL {2}LiveKit ICE\/TCP/, doctor.text);
      assert.match(doctor.text, /ok {4}TURN over TLS/, doctor.text);
      assert.match(doctor.text, /ok {4}LiveKit:/, doctor.text);
      assert.match(
        doctor.text,
        /From this network: only TLS gets through; calls will work, relayed over TLS on 443\./,
        doctor.text,
      );
    });
  },
);

networkTest(
  "networks - open, then no route to the server: the doctor says calls work, then that nothing answers; the page says the server is not reached",
  async () => {
    await withNetworkCall("open", async (world) => {
      const open = await doctorFrom(world, 0, ["--timeout=2"]);
      assert.match(open.text, /From this network: calls will work over UDP/, open.text);
      assert.equal(open.code, 0, open.text);

      const ada = await world.person("Ada", 0);
      await ada.page.goto(`${world.stack.appUrl}/connection-test`);
      await applyProfile(world.net, "offline", world.stack.ports);
      const { verdict, paths } = await runConnectionTest(ada.page);
      assert.match(paths.signalling, /Media server: not reached/);
      assert.match(verdict, /cannot reach|not reach/i);
      await screenshot(ada.page, "94-network-connection-test-offline");

      // Each step would wait its 5 s for nothing: 1 s tells as well.
      const offline = await doctorFrom(world, 0, ["--timeout=1"]);
      assert.equal(offline.code, 1);
      assert.match(
        offline.text,
        /From this network: calls cannot work, the server does not answer at all/,
        offline.text,
      );
    });
  },
);
