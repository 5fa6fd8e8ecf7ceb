// The tls profile's entrance, run for real on loopback: Caddy with the layer4 module and the
// repository's livekit/Caddyfile in front of the app, LiveKit and coturn (certificates from
// Caddy's own CA, names under .urbania.test mapped to 127.0.0.1, a free port standing in for
// 443): TURN over TLS allocates through it, and the app and LiveKit answer by name. Calls
// through it from a network that lets only 443 out are in tests/networks_test.ts.
import assert from "node:assert/strict";
import { callTest } from "./call_fixture.ts";
import { withEdge } from "./edge_fixture.ts";
import { call } from "./harness.ts";
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
