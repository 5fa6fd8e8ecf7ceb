// The deployment doctor against the real stack on loopback: the app, LiveKit, coturn and the
// tls profile's entrance (Caddy with layer4 and the repository's Caddyfile, its own CA, names
// under .urbania.test resolved to 127.0.0.1 as --resolve does). It passes on the healthy stack
// and names the fault when the TURN secret is wrong, coturn is stopped, the advertised address
// is wrong, or a certificate has expired.
import assert from "node:assert/strict";
import { type DoctorOptions, type Finding, report, runDoctor } from "../ops/doctor.ts";
import { callTest, withCall } from "./call_fixture.ts";
import { withEdge } from "./edge_fixture.ts";
import { type MediaStack, TEST_OVERRIDES } from "./media.ts";

const DOMAINS = TEST_OVERRIDES.domains;
/**
 * A port nothing listens on (tcpmux): unlike a port found free a moment ago, nothing can
 * start using it meanwhile.
 */
const CLOSED_PORT = 1;

/** The deployment's .env as the doctor reads it: a real https deployment's settings. */
function deploymentEnv(
  secrets: { apiKey: string; apiSecret: string; turnSecret: string },
): Record<string, string> {
  return {
    PUBLIC_URL: `https://${DOMAINS.APP_DOMAIN}`,
    LIVEKIT_URL: `wss://${DOMAINS.LIVEKIT_DOMAIN}`,
    ...DOMAINS,
    ACME_EMAIL: "ops@urbania.test",
    TRUST_PROXY: "true",
    PUBLIC_IP: "127.0.0.1",
    LIVEKIT_API_KEY: secrets.apiKey,
    LIVEKIT_API_SECRET: secrets.apiSecret,
    TURN_SECRET: secrets.turnSecret,
  };
}

async function doctorOptions(media: MediaStack): Promise<DoctorOptions> {
  return {
    env: deploymentEnv({ ...media, turnSecret: media.turn.secret }),
    resolve: Object.fromEntries(Object.values(DOMAINS).map((d) => [d, "127.0.0.1"])),
    caCerts: [await Deno.readTextFile(media.edge!.rootCa)],
    httpsPort: media.edge!.port,
    httpPort: media.edge!.httpPort,
    turnPort: media.turn.port,
    iceTcpPort: media.iceTcpPort,
    local: true,
    timeoutMs: 3000,
  };
}

const failed = (findings: Finding[]) => findings.filter((f) => f.status === "fail");
const byCheck = (findings: Finding[], check: string) => findings.filter((f) => f.check === check);

callTest(
  "doctor - the healthy stack passes every check, from the library and the command line",
  async () => {
    await withEdge(async (media) => {
      const options = await doctorOptions(media);
      const findings = await runDoctor(options);
      assert.deepEqual(findings.filter((f) => f.status !== "ok"), [], report(findings));
      const checks = new Set(findings.map((f) => f.check));
      for (
        const c of [
          "settings",
          `DNS ${DOMAINS.APP_DOMAIN}`,
          `certificate ${DOMAINS.TURN_DOMAIN}`,
          "port 80",
          "app",
          "LiveKit",
          "webhook",
          "TURN over UDP",
          "TURN over TLS",
          "TURN relay ports",
          "LiveKit ICE/TCP",
        ]
      ) assert.ok(checks.has(c), `${c} was checked`);
      // The webhook check really went through LiveKit: the room it made reached the app.
      assert.equal(byCheck(findings, "webhook")[0].status, "ok");

      // `deno task doctor`, with the deployment's .env in a file.
      const dir = await Deno.makeTempDir();
      try {
        await Deno.writeTextFile(
          `${dir}/.env`,
          Object.entries(options.env).map(([k, v]) => `${k}=${v}`).join("\n") + "\n",
        );
        await Deno.writeTextFile(`${dir}/root.pem`, options.caCerts![0]);
        const run = (args: string[]) =>
          new Deno.Command(Deno.execPath(), {
            args: [
              "run",
              "--allow-net",
              "--allow-read",
              "--allow-env",
              new URL("../scripts/doctor.ts", import.meta.url).pathname,
              ...args,
            ],
            // Nothing from this process' environment: the file alone describes the deployment.
            clearEnv: true,
            env: { PATH: Deno.env.get("PATH") ?? "", NO_COLOR: "1" },
            stdout: "piped",
            stderr: "piped",
          }).output();
        const ok = await run([
          `--env-file=${dir}/.env`,
          ...Object.values(DOMAINS).map((d) => `--resolve=${d}:127.0.0.1`),
          `--ca-file=${dir}/root.pem`,
          `--https-port=${options.httpsPort}`,
          `--http-port=${options.httpPort}`,
          `--turn-port=${options.turnPort}`,
          `--ice-port=${options.iceTcpPort}`,
          "--local",
        ]);
        const out = new TextDecoder().decode(ok.stdout);
        assert.equal(ok.code, 0, out + new TextDecoder().decode(ok.stderr));
        assert.match(out, /^ok {4}TURN over TLS: /m);
        assert.match(out, /Nothing blocks calls/);
        // Without --local, the same loopback PUBLIC_IP is refused as a deployment's address.
        const real = await run([`--env-file=${dir}/.env`]);
        assert.equal(real.code, 1);
        assert.match(
          new TextDecoder().decode(real.stdout),
          /FAIL {2}settings: PUBLIC_IP is 127\.0\.0\.1, a loopback address/,
        );
        const bad = await run(["--no-such-option"]);
        assert.equal(bad.code, 2);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });
  },
);

callTest(
  "doctor - names the fault: a wrong TURN secret, coturn stopped, the wrong advertised address",
  async () => {
    await withEdge(async (media) => {
      const options = await doctorOptions(media);

      // .env holds another TURN secret than the one coturn runs with.
      const wrongSecret = await runDoctor({
        ...options,
        env: { ...options.env, TURN_SECRET: "another-secret-0123456789abcdefghijklmn" },
      });
      assert.deepEqual(
        failed(wrongSecret).map((f) => f.check).sort(),
        ["TURN over TLS", "TURN over UDP"],
        report(wrongSecret),
      );
      for (const f of failed(wrongSecret)) {
        assert.match(f.detail, /refused an allocation \(401/);
        assert.match(f.fix!, /TURN_SECRET/);
      }

      // The address .env advertises is not where the names point (nor what the relay announces).
      const wrongIp = await runDoctor({
        ...options,
        env: { ...options.env, PUBLIC_IP: "127.0.0.2" },
      });
      const dns = byCheck(wrongIp, `DNS ${DOMAINS.APP_DOMAIN}`)[0];
      assert.equal(dns.status, "fail");
      assert.match(dns.detail, /resolves to 127\.0\.0\.1, but PUBLIC_IP is 127\.0\.0\.2/);
      const relay = byCheck(wrongIp, "TURN over UDP")[0];
      assert.equal(relay.status, "fail");
      assert.match(relay.detail, /announces 127\.0\.0\.1, not PUBLIC_IP 127\.0\.0\.2/);

      // Nothing on port 80 (a firewall closed it): certificates could not be renewed.
      const closed80 = await runDoctor({ ...options, httpPort: CLOSED_PORT });
      assert.deepEqual(failed(closed80).map((f) => f.check), ["port 80"], report(closed80));
      assert.match(failed(closed80)[0].fix!, /Open 80\/tcp/);

      // coturn stopped: TURN fails over UDP and through Caddy; everything else still passes.
      await media.stopCoturn();
      const stopped = await runDoctor(options);
      assert.deepEqual(
        failed(stopped).map((f) => f.check).sort(),
        ["TURN over TLS", "TURN over UDP"],
        report(stopped),
      );
      for (const f of failed(stopped)) assert.match(f.fix!, /coturn running/);
      assert.match(byCheck(stopped, "TURN over UDP")[0].detail, /no answer/);
      await media.startCoturn();
      assert.deepEqual(failed(await runDoctor(options)), []);
    });
  },
);

/** An EC certificate for `name` that was valid in January 2020 only (openssl ca). */
async function expiredCertificate(dir: string, name: string) {
  await Deno.writeTextFile(`${dir}/index.txt`, "");
  await Deno.writeTextFile(`${dir}/serial`, "01\n");
  await Deno.writeTextFile(
    `${dir}/ca.cnf`,
    [
      "[ca]",
      "default_ca = d",
      "[d]",
      `database = ${dir}/index.txt`,
      `new_certs_dir = ${dir}`,
      `serial = ${dir}/serial`,
      "default_md = sha256",
      "policy = p",
      "copy_extensions = copy",
      "[p]",
      "commonName = supplied",
    ].join("\n"),
  );
  const openssl = async (args: string[]) => {
    const out = await new Deno.Command("openssl", { args, stdout: "null", stderr: "piped" })
      .output();
    if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  };
  await openssl([
    "req",
    "-new",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-subj",
    `/CN=${name}`,
    "-addext",
    `subjectAltName=DNS:${name}`,
    "-keyout",
    `${dir}/key.pem`,
    "-out",
    `${dir}/req.csr`,
  ]);
  await openssl([
    "ca",
    "-batch",
    "-config",
    `${dir}/ca.cnf`,
    "-selfsign",
    "-keyfile",
    `${dir}/key.pem`,
    "-in",
    `${dir}/req.csr`,
    "-startdate",
    "20200101000000Z",
    "-enddate",
    "20200201000000Z",
    "-out",
    `${dir}/cert.pem`,
  ]);
  return {
    cert: await Deno.readTextFile(`${dir}/cert.pem`),
    key: await Deno.readTextFile(`${dir}/key.pem`),
  };
}

callTest(
  "doctor - a local deployment: the app, LiveKit's key pair, its webhooks, TURN; LiveKit stopped is named",
  async () => {
    await withCall(async ({ app, media }) => {
      const options: DoctorOptions = {
        env: {
          PUBLIC_URL: app.base,
          LIVEKIT_URL: media.livekitUrl,
          LIVEKIT_API_KEY: media.apiKey,
          LIVEKIT_API_SECRET: media.apiSecret,
          TURN_SECRET: media.turn.secret,
          PUBLIC_IP: "127.0.0.1",
        },
        turnPort: media.turn.port,
        timeoutMs: 3000,
      };
      const findings = await runDoctor(options);
      assert.deepEqual(findings.filter((f) => f.status !== "ok"), [], report(findings));
      assert.deepEqual(
        [...new Set(findings.map((f) => f.check))],
        ["settings", "app", "LiveKit", "webhook", "TURN over UDP", "TURN relay ports"],
      );
      // A wrong key pair is LiveKit's refusal, not a network problem.
      const wrongKey = await runDoctor({
        ...options,
        env: { ...options.env, LIVEKIT_API_SECRET: `${media.apiSecret}x` },
      });
      assert.match(byCheck(wrongKey, "LiveKit")[0].detail, /refuses the key pair/);

      await media.killLiveKit();
      const down = await runDoctor(options);
      const livekit = byCheck(down, "LiveKit")[0];
      assert.equal(livekit.status, "fail", report(down));
      assert.match(livekit.detail, /^LiveKit's API at 127\.0\.0\.1:\d+: /);
      assert.match(livekit.fix!, /deno task up/);
      assert.deepEqual(byCheck(down, "webhook"), [], "no webhook check without LiveKit");
    });
  },
);

Deno.test("doctor - an expired certificate is named, with its date", async () => {
  const dir = await Deno.makeTempDir();
  // A TLS server presenting, for every name, a certificate that expired in 2020.
  const { cert, key } = await expiredCertificate(dir, DOMAINS.APP_DOMAIN);
  const listener = Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert, key });
  const serving = (async () => {
    for await (const conn of listener) {
      conn.handshake().catch(() => {}).finally(() => conn.close());
    }
  })();
  try {
    const findings = await runDoctor({
      env: deploymentEnv({
        apiKey: "urbania",
        apiSecret: "s".repeat(40),
        turnSecret: "t".repeat(40),
      }),
      resolve: Object.fromEntries(Object.values(DOMAINS).map((d) => [d, "127.0.0.1"])),
      // Trusted, so that what fails is the date alone.
      caCerts: [cert],
      httpsPort: listener.addr.port,
      httpPort: CLOSED_PORT,
      turnPort: CLOSED_PORT,
      iceTcpPort: CLOSED_PORT,
      local: true,
      timeoutMs: 1000,
    });
    const app = byCheck(findings, `certificate ${DOMAINS.APP_DOMAIN}`)[0];
    assert.equal(app.status, "fail", report(findings));
    assert.match(app.detail, /expired on 2020-02-01/);
    assert.match(app.fix!, /docker compose logs caddy/);
    // Any other name than the certificate's is named as such.
    const turn = byCheck(findings, `certificate ${DOMAINS.TURN_DOMAIN}`)[0];
    assert.equal(turn.status, "fail");
  } finally {
    listener.close();
    await serving.catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});
