// The stack's LiveKit and coturn configuration, run by the real servers: both start with the
// rendered files and complain about nothing; a key either does not know is caught; TURN
// allocates with credentials derived from the shared secret, as LiveKit hands them out.
import assert from "node:assert/strict";
import { parse } from "yaml";
import { AccessToken, RoomServiceClient } from "livekit-server-sdk";
import {
  configComplaints,
  overrideConf,
  SKIP_CALLS,
  startMediaStack,
  TURNSERVER_BIN,
} from "./media.ts";
import { turnAllocate } from "../ops/turn_client.ts";
import { freePort } from "./harness.ts";

const WEBHOOK = "http://127.0.0.1:9/api/livekit/webhook";

Deno.test({
  name: "media - LiveKit and coturn run the stack's rendered configuration without complaint",
  ignore: SKIP_CALLS,
  async fn() {
    const media = await startMediaStack({ webhookUrl: WEBHOOK });
    try {
      // LiveKit answers its RoomService with the stack's key pair, and not with another.
      const rooms = new RoomServiceClient(
        media.livekitUrl.replace("ws", "http"),
        media.apiKey,
        media.apiSecret,
      );
      assert.deepEqual(await rooms.listRooms(), []);
      const wrong = new RoomServiceClient(
        media.livekitUrl.replace("ws", "http"),
        media.apiKey,
        "x".repeat(40),
      );
      await assert.rejects(() => wrong.listRooms());

      // What LiveKit read is what the template says, with the laptop's values.
      const doc = parse(await Deno.readTextFile(media.files.livekit));
      assert.equal(doc.rtc.node_ip, "127.0.0.1");
      assert.equal(doc.webhook.urls[0], WEBHOOK);
      assert.equal(doc.room.departure_timeout, 120);

      // TURN: an allocation with the REST credentials LiveKit derives from the shared secret
      // succeeds; with a wrong secret coturn refuses it.
      const ok = await turnAllocate({ port: media.turn.port, secret: media.turn.secret });
      assert.equal(ok.result, "allocated", JSON.stringify(ok));
      assert.equal(ok.relayedAddress, "127.0.0.1");
      assert.ok(
        ok.relayedPort! >= media.turn.relayPorts[0] && ok.relayedPort! <= media.turn.relayPorts[1],
        `relay port ${ok.relayedPort} in ${media.turn.relayPorts}`,
      );
      const bad = await turnAllocate({ port: media.turn.port, secret: "not-the-secret" });
      assert.deepEqual(bad, { result: "error", code: 401, reason: "Unauthorized" });
      // Over UDP as well (the port the firewall opens for TURN), and a datagram sent to the
      // relayed port comes back through the relay.
      const udp = await turnAllocate({
        transport: "udp",
        port: media.turn.port,
        secret: media.turn.secret,
        probeRelay: true,
      });
      assert.equal(udp.result, "allocated", JSON.stringify(udp));
      assert.deepEqual(udp.result === "allocated" && udp.relayPorts, {
        result: "open",
        seenFrom: "127.0.0.1",
      });

      // The relay may send to a public address (where LiveKit is in production), and to no
      // private, shared or link-local one. A permission sends nothing: no packet leaves here.
      const peer = async (ip: string) => {
        const r = await turnAllocate({
          port: media.turn.port,
          secret: media.turn.secret,
          peer: ip,
        });
        assert.equal(r.result, "allocated");
        return r.result === "allocated" ? r.permission : undefined;
      };
      assert.equal(await peer("203.0.113.7"), "granted");
      assert.equal(await peer("198.51.100.20"), "granted");
      for (const ip of ["10.1.2.3", "172.17.0.2", "192.168.1.1", "169.254.169.254", "100.64.0.1"]) {
        assert.deepEqual(await peer(ip), { code: 403, reason: "Forbidden IP" }, ip);
      }
      // A TCP relay (the relay as an outbound TCP proxy to anywhere) is refused.
      const tcpRelay = await turnAllocate({
        port: media.turn.port,
        secret: media.turn.secret,
        relay: "tcp",
      });
      assert.equal(tcpRelay.result, "error");
      assert.equal(tcpRelay.result === "error" && tcpRelay.code, 442, JSON.stringify(tcpRelay));

      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(configComplaints(media.coturn), [], media.coturn.tail());
      assert.deepEqual(configComplaints(media.livekit), [], media.livekit.tail());
      // A token the app would mint is accepted by LiveKit's validate endpoint.
      const at = new AccessToken(media.apiKey, media.apiSecret, { identity: "probe" });
      at.addGrant({ roomJoin: true, room: "probe-room" });
      const res = await fetch(
        `${media.livekitUrl.replace("ws", "http")}/rtc/validate?access_token=${await at
          .toJwt()}`,
      );
      await res.body?.cancel();
      assert.equal(res.status, 200);
    } finally {
      await media.stop();
    }
  },
});

Deno.test({
  name: "media - a key LiveKit does not know stops it; coturn's complaint is caught",
  ignore: SKIP_CALLS,
  async fn() {
    // LiveKit parses its configuration strictly: a misspelt key must not pass unnoticed.
    await assert.rejects(
      () =>
        startMediaStack({
          webhookUrl: WEBHOOK,
          livekitYaml: (doc) => {
            (doc.room as Record<string, unknown>).departure_timout = 5;
          },
        }),
      /departure_timout|field .* not found|did not start/,
    );

    // coturn does not stop on an unknown option; it logs "Bad configuration", which the
    // fixture reads. Run it on the rendered file plus one bad line.
    const media = await startMediaStack({ webhookUrl: WEBHOOK });
    const dir = await Deno.makeTempDir();
    try {
      const conf = overrideConf(await Deno.readTextFile(media.files.coturn), {
        "listening-port": String(freePort()),
        "no-such-option": "1",
      });
      await Deno.writeTextFile(`${dir}/bad.conf`, conf);
      // It does not stop either: read what it says in its first two seconds.
      const out = await new Deno.Command(TURNSERVER_BIN, {
        args: ["-c", `${dir}/bad.conf`],
        stdout: "piped",
        stderr: "piped",
        signal: AbortSignal.timeout(2000),
      }).output();
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      assert.match(text, /Bad configuration format: no-such-option/);
      const complaints = configComplaints({ lines: text.split("\n") });
      assert.ok(complaints.length > 0);
      for (const line of complaints) assert.match(line, /no-such-option/);
    } finally {
      await media.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "media - a relay that announces an address its ports are not on is found out",
  ignore: SKIP_CALLS,
  async fn() {
    // coturn told another external address than the one it relays on: the allocation works,
    // but nothing sent to the announced address reaches the relay (as with a wrong PUBLIC_IP,
    // or a relay range the firewall drops).
    const media = await startMediaStack({ webhookUrl: WEBHOOK });
    const dir = await Deno.makeTempDir();
    const port = freePort();
    const conf = overrideConf(await Deno.readTextFile(media.files.coturn), {
      "listening-port": String(port),
      "external-ip": "127.0.0.2",
    });
    await Deno.writeTextFile(`${dir}/wrong-ip.conf`, conf);
    const coturn = new Deno.Command(TURNSERVER_BIN, {
      args: ["-c", `${dir}/wrong-ip.conf`],
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      let result;
      for (let i = 0; i < 50; i++) {
        result = await turnAllocate({
          transport: "udp",
          port,
          secret: media.turn.secret,
          probeRelay: true,
          timeoutMs: 4000,
        }).catch(() => null);
        if (result) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(result && result.result === "allocated", JSON.stringify(result));
      assert.equal(result.relayedAddress, "127.0.0.2");
      assert.deepEqual(result.relayPorts, { result: "closed", seenFrom: "127.0.0.1" });
    } finally {
      coturn.kill();
      await coturn.status;
      await media.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
