// The tls profile's entrance, run for real: Caddy with the layer4 module and the repository's
// livekit/Caddyfile in front of the app, LiveKit and coturn (certificates from Caddy's own CA,
// names under .urbania.test mapped to 127.0.0.1, a free port standing in for 443). A browser
// that may use nothing but the relay reached over TLS, as on a network that lets only https
// out, loads the app, signals and sends media through that one port.
import assert from "node:assert/strict";
import { screenshot } from "./browser.ts";
import { callTest, seesVideoOf, selectedPaths, speechLikeWav } from "./call_fixture.ts";
import { edgePerson, withEdge, withEdgeBrowser } from "./edge_fixture.ts";
import { addContacts, call } from "./harness.ts";
import { configComplaints } from "./media.ts";
import { turnAllocate } from "../ops/turn_client.ts";

callTest(
  "edge - everything through one TLS port: TURN over TLS allocates through Caddy, LiveKit and the app answer by name",
  async () => {
    await withEdge(async (media, app) => {
      const edge = media.edge!;
      const caCerts = [await Deno.readTextFile(edge.rootCa)];
      // TURN over TLS: Caddy ends TLS for the TURN name and passes TURN to coturn.
      const ok = await turnAllocate({
        transport: "tls",
        port: edge.port,
        serverName: "turn.urbania.test",
        caCerts,
        secret: media.turn.secret,
      });
      assert.equal(ok.result, "allocated", JSON.stringify(ok));
      const refused = await turnAllocate({
        transport: "tls",
        port: edge.port,
        serverName: "turn.urbania.test",
        caCerts,
        secret: "not-the-secret-0123456789-0123456789",
      });
      assert.deepEqual(refused, { result: "error", code: 401, reason: "Unauthorized" });

      // The same port answers https for the app and LiveKit, each by its name.
      const get = async (name: string, path: string) => {
        // fetch resolves names itself: reach 127.0.0.1 and ask for the name (SNI and Host).
        const conn = await Deno.connect({ hostname: "127.0.0.1", port: edge.port });
        const tls = await Deno.startTls(conn, { hostname: name, caCerts });
        await tls.write(
          new TextEncoder().encode(
            `GET ${path} HTTP/1.1\r\nHost: ${name}\r\nConnection: close\r\n\r\n`,
          ),
        );
        const text = new TextDecoder().decode(
          await new Response(tls.readable).arrayBuffer(),
        );
        return { status: Number(text.split(" ")[1]), text };
      };
      const health = await get("app.urbania.test", "/healthz");
      assert.equal(health.status, 200, health.text);
      assert.match(health.text, /"ok"/);
      // The metrics are for the machine itself: the app serves them on loopback, the entrance
      // never does.
      assert.equal((await call(app, "GET", "/metrics")).status, 200);
      const metrics = await get("app.urbania.test", "/metrics");
      assert.equal(metrics.status, 404);
      assert.doesNotMatch(metrics.text, /urbania_/);
      const livekit = await get("livekit.urbania.test", "/");
      assert.equal(livekit.status, 200, livekit.text);
      assert.match(livekit.text, /OK/);

      assert.deepEqual(configComplaints(media.coturn), [], media.coturn.tail());
      // Caddy took the stack's file as written (the layer4 route included).
      assert.ok(
        !edge.caddy.lines.some((l) => /"level":"(error|fatal)"/.test(l)),
        edge.caddy.tail(),
      );
      // A certificate challenge for the TURN name (TLS-ALPN, "acme-tls/1") stays with Caddy:
      // it never reaches coturn.
      await assert.rejects(() =>
        turnAllocate({
          transport: "tls",
          port: edge.port,
          serverName: "turn.urbania.test",
          caCerts,
          alpn: ["acme-tls/1"],
          secret: media.turn.secret,
          timeoutMs: 3000,
        })
      );
    });
  },
);

callTest(
  "edge - a browser allowed only TURN over TLS gets video both ways through Caddy and coturn",
  async () => {
    await withEdge(async (media, app) => {
      const edge = media.edge!;
      await withEdgeBrowser(media, async (browser) => {
        const person = (name: string) => edgePerson(browser, app, media, name, "relay-tls");
        const ada = await person("Ada");
        const bob = await person("Bob");
        await addContacts(app, ada.user, [bob.user]);
        const created = await call(app, "POST", "/api/livekit/rooms", {
          token: ada.user.token,
          json: {
            room_name: "Behind the firewall",
            call_type: "video",
            participants: [bob.user.id],
          },
        });
        assert.equal(created.status, 201);
        for (const p of [ada, bob]) {
          await p.page.goto(`${edge.appUrl}/meeting/room?room=${created.body.id}`);
        }
        await seesVideoOf(ada.page, bob.user.id);
        await seesVideoOf(bob.page, ada.user.id);
        for (const p of [ada, bob]) {
          const paths = await selectedPaths(p.page);
          assert.ok(paths.length > 0, "connected peer connections");
          for (const path of paths) {
            assert.equal(path.type, "relay", JSON.stringify(paths));
            assert.equal(path.relayProtocol, "tls", JSON.stringify(paths));
            assert.equal(path.url, `turns:turn.urbania.test:${edge.port}?transport=tcp`);
          }
          assert.deepEqual(p.errors, []);
        }
        await screenshot(bob.page, "40-call-through-tls-443");
      }, {
        extra: [
          `--use-file-for-fake-audio-capture=${await speechLikeWav()}`,
        ],
      });
    });
  },
);
