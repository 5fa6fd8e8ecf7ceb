// The stack on test hosts of its own (tests/netns.ts): LiveKit, coturn and the entrance (Caddy
// on 443) on the server host, with the stack's own rendered files, its own ports, and only
// addresses changed (NETWORK_OVERRIDES); the app on the machine's end of the app's link, where
// PostgreSQL is; and Chromium inside each client host, trusting the entrance's CA.
import type { Browser } from "playwright-core";
import { parse, stringify } from "yaml";
import { renderTemplate } from "../ops/stack_config.ts";
import {
  CADDY_BIN,
  LIVEKIT_BIN,
  mediaMissing,
  overrideConf,
  ServerProcess,
  testCaddyfile,
  TURNSERVER_BIN,
  untilCertificates,
  waitUntil,
} from "../ops/media.ts";
import { CHROMIUM, startPageApp } from "./browser.ts";
import { trustingBrowser } from "./edge_fixture.ts";
import { freePort, TEST_LIVEKIT_KEY, TEST_LIVEKIT_SECRET, type TestApp } from "./harness.ts";
import { TEST_TURN_SECRET } from "./media.ts";
import { type LiveKitPorts, NET, type Network, TEST_DOMAINS } from "./netns.ts";

const ROOT = new URL("../", import.meta.url);

/** Everything changed in the stack's files on the test hosts, and why: addresses only. */
export const NETWORK_OVERRIDES = {
  env: {
    // The server host's address stands in for the VM's public IP.
    PUBLIC_IP: NET.server,
    TURN_DOMAIN: TEST_DOMAINS.TURN_DOMAIN,
  },
  livekit: {
    // The server host's other link is the app's, which no browser reaches: offer eth0 only.
    "rtc.interfaces.includes": ["eth0"],
  },
  coturn: {
    // Relay from the public address (the server host also has the app's link).
    "relay-ip": NET.server,
  },
  caddy: {
    // No ACME on a test network: certificates from Caddy's own CA, kept in the run's folder.
    "email": "replaced by local_certs, admin off and a storage folder",
  },
} as const;

export interface NetworkStack {
  net: Network;
  app: TestApp;
  /** https://app.urbania.test: the app through the entrance on 443. */
  appUrl: string;
  /** Caddy's root certificate (PEM file). */
  rootCa: string;
  livekit: ServerProcess;
  coturn: ServerProcess;
  caddy: ServerProcess;
  /** LiveKit's media ports, as the stack's livekit.yaml sets them. */
  ports: LiveKitPorts;
  /** The rendered files, as the servers read them. */
  files: { livekit: string; coturn: string; caddy: string };
  /** The .env a deployment of this network would have (for the doctor). */
  env: Record<string, string>;
  /** What the servers said last, for a failure's message. */
  tails(): string;
  stop(): Promise<void>;
}

/** Starts the stack on `net`; stops what it started when a step fails. */
export async function startNetworkStack(net: Network): Promise<NetworkStack> {
  const missing = mediaMissing();
  if (missing.length > 0) {
    throw new Error(`not installed: ${missing.join(", ")}; run bash scripts/install_media.sh`);
  }
  const dir = await Deno.makeTempDir({ prefix: "urbania-net-" });
  const appPort = freePort();
  const env = {
    ...NETWORK_OVERRIDES.env,
    LIVEKIT_API_KEY: TEST_LIVEKIT_KEY,
    LIVEKIT_API_SECRET: TEST_LIVEKIT_SECRET,
    TURN_SECRET: TEST_TURN_SECRET,
    LIVEKIT_WEBHOOK_URL: `http://${NET.appLink}:${appPort}/api/livekit/webhook`,
  };
  const template = (name: string) => Deno.readTextFile(new URL(`livekit/${name}`, ROOT));
  const files = {
    livekit: `${dir}/livekit.yaml`,
    coturn: `${dir}/turnserver.conf`,
    caddy: `${dir}/Caddyfile`,
  };
  const coturnConf = overrideConf(renderTemplate(await template("turnserver.conf"), env), {
    "relay-ip": NETWORK_OVERRIDES.coturn["relay-ip"],
  });
  await Deno.writeTextFile(files.coturn, coturnConf);
  // deno-lint-ignore no-explicit-any
  const doc = parse(renderTemplate(await template("livekit.yaml"), env)) as any;
  doc.rtc.interfaces = { includes: NETWORK_OVERRIDES.livekit["rtc.interfaces.includes"] };
  await Deno.writeTextFile(files.livekit, stringify(doc));
  await Deno.writeTextFile(
    files.caddy,
    testCaddyfile(await template("Caddyfile"), `${dir}/caddy`, null),
  );
  const turnPort = Number(/^listening-port=(\d+)$/m.exec(coturnConf)![1]);
  const ports: LiveKitPorts = {
    tcp: doc.rtc.tcp_port,
    udp: [doc.rtc.port_range_start, doc.rtc.port_range_end],
  };

  const inServer = (name: string, bin: string, args: string[], envs?: Record<string, string>) =>
    new ServerProcess(name, ...net.server.command(bin, args), envs);
  const coturn = inServer("coturn", TURNSERVER_BIN, ["-c", files.coturn]);
  const livekit = inServer("livekit", LIVEKIT_BIN, ["--config", files.livekit]);
  const caddy = inServer("caddy", CADDY_BIN, [
    "run",
    "--config",
    files.caddy,
    "--adapter",
    "caddyfile",
  ], {
    ...TEST_DOMAINS,
    APP_UPSTREAM: `${NET.appLink}:${appPort}`,
    LIVEKIT_UPSTREAM: `127.0.0.1:${doc.port}`,
    TURN_UPSTREAM: `127.0.0.1:${turnPort}`,
    HOME: dir,
    XDG_DATA_HOME: `${dir}/xdg-data`,
    XDG_CONFIG_HOME: `${dir}/xdg-config`,
  });
  let app: TestApp | undefined;
  const tails = () =>
    `LiveKit said:\n${livekit.tail(25)}\ncoturn said:\n${coturn.tail(10)}\n` +
    `Caddy said:\n${caddy.tail(10)}`;
  const stop = async () => {
    await app?.stop();
    for (const p of [caddy, livekit, coturn]) await p.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    // The machine reaches the server host on the app's link only.
    const server = NET.serverAppLink;
    coturn.start();
    await waitUntil("coturn", async () => {
      (await Deno.connect({ hostname: server, port: turnPort })).close();
      return true;
    }, coturn);
    livekit.start();
    await waitUntil("LiveKit", async () => {
      const res = await fetch(`http://${server}:${doc.port}`, {
        signal: AbortSignal.timeout(1000),
      });
      await res.body?.cancel();
      return res.ok;
    }, livekit);
    caddy.start();
    const rootCa = `${dir}/caddy/pki/authorities/local/root.crt`;
    await untilCertificates(caddy, { hostname: server, port: 443 }, rootCa);
    const appUrl = `https://${TEST_DOMAINS.APP_DOMAIN}`;
    const appEnv = {
      PUBLIC_URL: appUrl,
      LIVEKIT_URL: `wss://${TEST_DOMAINS.LIVEKIT_DOMAIN}`,
      LIVEKIT_API_URL: `http://${server}:${doc.port}`,
      LIVEKIT_API_KEY: TEST_LIVEKIT_KEY,
      LIVEKIT_API_SECRET: TEST_LIVEKIT_SECRET,
      TRUST_PROXY: "true",
    };
    app = await startPageApp({ hostname: NET.appLink, port: appPort, env: appEnv });
    return {
      net,
      app,
      appUrl,
      rootCa,
      livekit,
      coturn,
      caddy,
      ports,
      files,
      env: { ...appEnv, ...TEST_DOMAINS, PUBLIC_IP: NET.server, TURN_SECRET: TEST_TURN_SECRET },
      tails,
      stop,
    };
  } catch (err) {
    console.error(tails());
    await stop();
    throw err;
  }
}

/** Chromium inside `client`'s host, trusting the entrance as a machine trusts a public CA. */
export async function clientBrowser(
  stack: NetworkStack,
  client: number,
  args: string[] = [],
): Promise<Browser> {
  const dir = await Deno.makeTempDir({ prefix: "urbania-net-chromium-" });
  const wrapper = await stack.net.clients[client].wrapper(dir, CHROMIUM);
  const browser = await trustingBrowser(stack.rootCa, args, wrapper);
  browser.on("disconnected", () => {
    Deno.remove(dir, { recursive: true }).catch(() => {});
  });
  return browser;
}
