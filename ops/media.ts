// The media stack on one machine: the real LiveKit and coturn as processes on loopback,
// configured with the compose stack's own files (livekit/livekit.yaml and
// livekit/turnserver.conf, rendered by ./stack_config.ts) and the values a laptop would use; on
// request, the tls profile's entrance too (the real Caddy with layer4 and livekit/Caddyfile,
// certificates from its internal CA, names under .urbania.test mapped to 127.0.0.1). What
// differs from compose is in TEST_OVERRIDES, each with its reason. `deno task media` runs it for
// development; the tests' fixture (tests/media.ts) runs it with the tests' secrets. `bash
// scripts/install_media.sh` installs the servers.
import { parse, stringify } from "yaml";
import { renderTemplate } from "./stack_config.ts";
import { freePort, udpRange } from "./ports.ts";

const ROOT = new URL("../", import.meta.url);

/** The LiveKit version compose.yaml pins: the one pin, which install_media.sh builds too. */
export const LIVEKIT_VERSION = (() => {
  const compose = Deno.readTextFileSync(new URL("compose.yaml", ROOT));
  const m = /^\s*image: livekit\/livekit-server:(v[0-9.]+)\s*$/m.exec(compose);
  if (!m) throw new Error("compose.yaml names no livekit/livekit-server image");
  return m[1];
})();

const TOOLS = Deno.env.get("URBANIA_TOOLS") ??
  `${Deno.env.get("HOME") ?? "/root"}/.local/share/urbania`;
const INSTALLED_LIVEKIT = `${TOOLS}/livekit-${LIVEKIT_VERSION}/server`;
/**
 * LiveKit: LIVEKIT_SERVER when set; otherwise where install_media.sh puts it, or else a
 * `livekit-server` on PATH at the pinned version.
 */
export const LIVEKIT_BIN = Deno.env.get("LIVEKIT_SERVER") ?? (() => {
  try {
    Deno.statSync(INSTALLED_LIVEKIT);
    return INSTALLED_LIVEKIT; // its version is checked with the others (mediaMissing)
  } catch {
    const onPath = runs("livekit-server", ["--version"]);
    return onPath?.includes(LIVEKIT_VERSION.slice(1)) ? "livekit-server" : INSTALLED_LIVEKIT;
  }
})();
export const TURNSERVER_BIN = Deno.env.get("TURNSERVER") ?? "turnserver";

const DOCKERFILE = Deno.readTextFileSync(new URL("Dockerfile", ROOT));
const arg = (name: string) => {
  const m = new RegExp(`^ARG ${name}=(\\S+)\\s*$`, "m").exec(DOCKERFILE);
  if (!m) throw new Error(`the Dockerfile has no ARG ${name}`);
  return m[1];
};
/** Caddy and its layer4 module as the Dockerfile's caddy stage pins them. */
export const CADDY_VERSION = arg("CADDY_VERSION"), CADDY_L4_VERSION = arg("CADDY_L4_VERSION");
/** The Debian package the stack's coturn image installs; the tests run the same release. */
export const COTURN_VERSION = arg("COTURN_VERSION");
export const CADDY_BIN = Deno.env.get("CADDY") ??
  `${TOOLS}/caddy-${CADDY_VERSION}-l4-${CADDY_L4_VERSION}/caddy`;

function runs(bin: string, args: string[]): string | null {
  try {
    const out = new Deno.Command(bin, { args, stdout: "piped", stderr: "piped" }).outputSync();
    return new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  } catch {
    return null;
  }
}

/** Which of the servers are missing here (or not at the stack's version), by name. */
export function mediaMissing(
  want: { livekit?: boolean; coturn?: boolean; caddy?: boolean } = {},
): string[] {
  const { livekit = true, coturn = true, caddy = true } = want;
  const missing: string[] = [];
  const lk = livekit ? runs(LIVEKIT_BIN, ["--version"]) : "";
  if (lk === null) missing.push(`LiveKit ${LIVEKIT_VERSION} (${LIVEKIT_BIN})`);
  else if (livekit && !lk.includes(LIVEKIT_VERSION.slice(1))) {
    missing.push(`LiveKit ${LIVEKIT_VERSION} (${LIVEKIT_BIN} is ${lk.trim()})`);
  }
  const turn = coturn ? runs(TURNSERVER_BIN, ["--version"]) : "";
  const release = COTURN_VERSION.replace(/-[^-]*$/, "");
  if (turn === null) missing.push("coturn (turnserver)");
  else if (coturn && turn.trim().split("\n")[0].trim() !== release) {
    missing.push(`coturn ${release}, the stack's (${TURNSERVER_BIN} is ${turn.trim()})`);
  }
  const proxy = caddy ? runs(CADDY_BIN, ["list-modules"]) : "layer4";
  if (proxy === null || !/^layer4$/m.test(proxy)) {
    missing.push(`Caddy ${CADDY_VERSION} with layer4 ${CADDY_L4_VERSION} (${CADDY_BIN})`);
  }
  return missing;
}

/** What is missing to run every test's calls here; empty when all three are installed. */
export const MEDIA_MISSING: string[] = mediaMissing();

/**
 * Everything the tests change in the stack's configuration, and why. The rest is exactly what
 * compose runs.
 */
export const TEST_OVERRIDES = {
  livekit: {
    // Ports: free ones on this machine, so that test files can run side by side.
    "port": "free TCP port (signalling and RoomService)",
    "rtc.tcp_port": "free TCP port (ICE over TCP)",
    "rtc.port_range_start/end": "a UDP range of 100 picked at random in 20000–29999",
    // Traffic stays on loopback: LiveKit gathers and offers 127.0.0.1 only.
    "rtc.interfaces.includes": ["lo"],
    "rtc.enable_loopback_candidate": true,
    "rtc.turn_servers[].port": "coturn's test port (UDP); the entrance's (TLS)",
    // Without the entrance, TURN over TLS has nowhere to go.
    "rtc.turn_servers[tls]": "dropped unless the entrance runs",
    // Chromium looks TURN-over-UDP names up outside --host-resolver-rules (ICE error 701,
    // "TURN host lookup received error"): with the entrance, that entry names the address its
    // DNS record would hold. TURN over TLS keeps the name, which TLS needs.
    "rtc.turn_servers[udp].host": "127.0.0.1 when the entrance runs",
  },
  coturn: {
    "listening-port / min-port / max-port": "free ports",
    // Listen and relay on loopback only.
    "listening-ip": "127.0.0.1",
    "relay-ip": "127.0.0.1",
    // The relay's peer is the test's LiveKit, on loopback; coturn refuses loopback peers
    // unless told (in production LiveKit is reached on PUBLIC_IP, never loopback).
    "allow-loopback-peers": true,
    // RFC 5780's alternate port would be listening-port + 1, which may be taken.
    "no-rfc5780": true,
  },
  // The values a laptop's .env would hold; the webhook reaches the test app.
  env: {
    PUBLIC_IP: "127.0.0.1",
    TURN_DOMAIN: "127.0.0.1",
  },
  caddy: {
    // No ACME on loopback: certificates from Caddy's own CA, for names mapped to 127.0.0.1.
    "email": "replaced by local_certs",
    "http_port / https_port / servers :443": "free ports instead of 80 and 443",
    "default_bind": "127.0.0.1",
    "admin": "off (nothing reconfigures it)",
    "storage": "a folder of the run (certificates, the CA)",
  },
  /** The names the entrance serves; browsers map them to 127.0.0.1. */
  domains: {
    APP_DOMAIN: "app.urbania.test",
    LIVEKIT_DOMAIN: "livekit.urbania.test",
    TURN_DOMAIN: "turn.urbania.test",
  },
} as const;

/** Chromium's flag that sends the entrance's names to loopback (no DNS involved). */
export const RESOLVE_TEST_DOMAINS = "--host-resolver-rules=MAP *.urbania.test 127.0.0.1";

/** Lines kept of each server's output, for a failure's message. */
const LOG_LINES = 400;

export class ServerProcess {
  #child: Deno.ChildProcess | null = null;
  lines: string[] = [];
  #exited: Promise<Deno.CommandStatus> | null = null;
  #alive = false;

  constructor(
    readonly name: string,
    readonly bin: string,
    readonly args: string[],
    readonly env?: Record<string, string>,
    /** In a process group of its own: a terminal's Ctrl-C reaches whoever runs it, not it. */
    readonly detached = false,
  ) {}

  start() {
    this.#child = new Deno.Command(this.bin, {
      args: this.args,
      env: this.env,
      detached: this.detached,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    for (const stream of [this.#child.stdout, this.#child.stderr]) this.#drain(stream);
    this.#alive = true;
    this.#exited = this.#child.status.finally(() => this.#alive = false);
  }

  async #drain(stream: ReadableStream<Uint8Array>) {
    const decoder = new TextDecoder();
    let rest = "";
    try {
      for await (const chunk of stream) {
        const parts = (rest + decoder.decode(chunk, { stream: true })).split("\n");
        rest = parts.pop() ?? "";
        this.lines.push(...parts);
        if (this.lines.length > LOG_LINES * 2) this.lines.splice(0, this.lines.length - LOG_LINES);
      }
    } catch {
      // The process went away.
    }
  }

  get running(): boolean {
    return this.#alive;
  }

  async exited(): Promise<Deno.CommandStatus | null> {
    return this.#exited ? await this.#exited : null;
  }

  tail(n = 40): string {
    return this.lines.slice(-n).join("\n");
  }

  async stop(signal: Deno.Signal = "SIGTERM") {
    const child = this.#child;
    if (!child) return;
    this.#child = null;
    try {
      child.kill(signal);
    } catch {
      // Already gone.
    }
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    }, 3000);
    await child.status;
    clearTimeout(timer);
  }
}

/** Sets `value` at a dotted path of a parsed YAML document. */
function setPath(doc: Record<string, unknown>, path: string, value: unknown) {
  const keys = path.split(".");
  let node = doc;
  for (const k of keys.slice(0, -1)) {
    node[k] ??= {};
    node = node[k] as Record<string, unknown>;
  }
  node[keys.at(-1)!] = value;
}

/** A conf file's `key=value` / `flag` lines with `changes` applied (null removes a key). */
export function overrideConf(text: string, changes: Record<string, string | true | null>) {
  const keyOf = (line: string) => line.trim().split("=")[0];
  const kept = text.split("\n").filter((line) => !(keyOf(line) in changes));
  for (const [k, v] of Object.entries(changes)) {
    if (v === true) kept.push(k);
    else if (v !== null) kept.push(`${k}=${v}`);
  }
  return kept.join("\n") + "\n";
}

export interface MediaStack {
  /** ws://127.0.0.1:port, as browsers and the app reach LiveKit. */
  livekitUrl: string;
  apiKey: string;
  apiSecret: string;
  turn: { port: number; secret: string; relayPorts: [number, number] };
  /** LiveKit's ICE over TCP port. */
  iceTcpPort: number;
  /** The tls profile's entrance, when asked for. */
  edge: Edge | null;
  /** The rendered files, as the servers read them. */
  files: { livekit: string; coturn: string };
  livekit: ServerProcess;
  coturn: ServerProcess;
  /** coturn stopped (a crashed relay); `startCoturn` brings it back. */
  stopCoturn(): Promise<void>;
  startCoturn(): Promise<void>;
  /** The app settings that point at this LiveKit. */
  appEnv: Record<string, string>;
  /** LiveKit killed (as a crash or a lost host would); `startLiveKit` brings it back. */
  killLiveKit(): Promise<void>;
  startLiveKit(): Promise<void>;
  stop(): Promise<void>;
}

export async function waitUntil(what: string, ok: () => Promise<boolean>, proc: ServerProcess) {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (await ok().catch(() => false)) return;
    if (!proc.running) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not start:\n${proc.tail()}`);
}

/** Lines a server wrote that say its configuration was not taken as written. */
export function configComplaints(proc: { lines: string[] }): string[] {
  return proc.lines.filter((l) =>
    /Bad configuration|unknown option|Unknown option|could not parse config|field .* not found/i
      .test(l)
  );
}

/** The tls profile's entrance: Caddy on one port for the app, LiveKit and TURN over TLS. */
export interface Edge {
  port: number;
  /** Where it answers plain http (redirects, certificate challenges). */
  httpPort: number;
  /** https://app.urbania.test:port, wss://livekit.urbania.test:port */
  appUrl: string;
  livekitUrl: string;
  /** Caddy's internal root certificate (PEM file): what issued every name's certificate. */
  rootCa: string;
  caddy: ServerProcess;
  stop(): Promise<void>;
}

/**
 * The repository's Caddyfile with the test overrides (TEST_OVERRIDES.caddy) applied. Without
 * `ports` (a host of its own, tests/netns.ts) it keeps 80 and 443 on every address.
 */
export function testCaddyfile(
  text: string,
  dir: string,
  ports: { http: number; https: number } | null,
) {
  const global = [
    "local_certs",
    "skip_install_trust",
    "admin off",
    ...(ports
      ? [`http_port ${ports.http}`, `https_port ${ports.https}`, "default_bind 127.0.0.1"]
      : []),
    `storage file_system ${dir}`,
  ].map((l) => `\t${l}`).join("\n");
  let out = text.replace(/^\temail \{\$ACME_EMAIL\}$/m, global);
  if (ports) out = out.replace(/^\tservers :443 \{$/m, `\tservers 127.0.0.1:${ports.https} {`);
  if (
    !out.includes("local_certs") || (ports && !out.includes(`servers 127.0.0.1:${ports.https}`))
  ) {
    throw new Error("livekit/Caddyfile no longer has the lines the test overrides replace");
  }
  return out;
}

/**
 * Starts the entrance in front of `upstreams` (host:port of the app, LiveKit, and coturn's
 * TURN over TCP) and waits until it serves each name with its certificate.
 */
async function startEdge(
  upstreams: { app: string; livekit: string; turn: string },
  port = freePort(),
): Promise<Edge> {
  const dir = await Deno.makeTempDir({ prefix: "urbania-edge-" });
  const httpPort = freePort();
  const caddyfile = testCaddyfile(
    await Deno.readTextFile(new URL("livekit/Caddyfile", ROOT)),
    `${dir}/data`,
    { http: httpPort, https: port },
  );
  await Deno.writeTextFile(`${dir}/Caddyfile`, caddyfile);
  const caddy = new ServerProcess("caddy", CADDY_BIN, [
    "run",
    "--config",
    `${dir}/Caddyfile`,
    "--adapter",
    "caddyfile",
  ], {
    ...TEST_OVERRIDES.domains,
    APP_UPSTREAM: upstreams.app,
    LIVEKIT_UPSTREAM: upstreams.livekit,
    TURN_UPSTREAM: upstreams.turn,
    HOME: dir,
    XDG_DATA_HOME: `${dir}/xdg-data`,
    XDG_CONFIG_HOME: `${dir}/xdg-config`,
  });
  caddy.start();
  const stop = async () => {
    await caddy.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  const rootCa = `${dir}/data/pki/authorities/local/root.crt`;
  await untilCertificates(caddy, { hostname: "127.0.0.1", port }, rootCa);
  return {
    port,
    httpPort,
    appUrl: `https://${TEST_OVERRIDES.domains.APP_DOMAIN}:${port}`,
    livekitUrl: `wss://${TEST_OVERRIDES.domains.LIVEKIT_DOMAIN}:${port}`,
    rootCa,
    caddy,
    stop,
  };
}

/**
 * Waits until the entrance at `at` serves every test name with a certificate from its own CA
 * (`rootCa`, a file Caddy writes): Caddy obtains them one by one.
 */
export async function untilCertificates(
  caddy: ServerProcess,
  at: { hostname: string; port: number },
  rootCa: string,
) {
  await waitUntil("Caddy", async () => {
    const caCerts = [await Deno.readTextFile(rootCa)];
    for (const name of Object.values(TEST_OVERRIDES.domains)) {
      const conn = await Deno.connect(at);
      const tls = await Deno.startTls(conn, { hostname: name, caCerts });
      try {
        await tls.handshake();
      } finally {
        tls.close();
      }
    }
    return true;
  }, caddy);
}

/** The stack's turnserver.conf with the overrides of one machine (TEST_OVERRIDES.coturn). */
function coturnConfig(rendered: string, stackPorts: boolean) {
  const confValue = (k: string) => Number(new RegExp(`^${k}=(\\d+)$`, "m").exec(rendered)![1]);
  const turnPort = stackPorts ? confValue("listening-port") : freePort();
  const relay: [number, number] = stackPorts
    ? [confValue("min-port"), confValue("max-port")]
    : udpRange(50);
  const conf = overrideConf(rendered, {
    "listening-port": String(turnPort),
    "min-port": String(relay[0]),
    "max-port": String(relay[1]),
    "listening-ip": TEST_OVERRIDES.coturn["listening-ip"],
    "relay-ip": TEST_OVERRIDES.coturn["relay-ip"],
    "allow-loopback-peers": true,
    "no-rfc5780": true,
  });
  return { conf, turnPort, relay };
}

/**
 * The stack's livekit.yaml with the overrides of one machine (TEST_OVERRIDES.livekit): its
 * ports, loopback, and TURN servers pointing at coturn (`turnPort`; none when null) and, over
 * TLS, at the entrance (`edgePort`; dropped when null).
 */
function livekitConfig(
  // deno-lint-ignore no-explicit-any
  doc: any,
  o: { stackPorts: boolean; turnPort: number | null; edgePort: number | null },
) {
  const port = o.stackPorts ? doc.port : freePort();
  const tcpPort = o.stackPorts ? doc.rtc.tcp_port : freePort();
  const [udpStart, udpEnd] = o.stackPorts
    ? [doc.rtc.port_range_start, doc.rtc.port_range_end]
    : udpRange();
  setPath(doc, "port", port);
  setPath(doc, "rtc.tcp_port", tcpPort);
  setPath(doc, "rtc.port_range_start", udpStart);
  setPath(doc, "rtc.port_range_end", udpEnd);
  setPath(doc, "rtc.interfaces.includes", TEST_OVERRIDES.livekit["rtc.interfaces.includes"]);
  setPath(doc, "rtc.enable_loopback_candidate", true);
  const turns = doc.rtc.turn_servers as { protocol: string; port: number; host: string }[];
  doc.rtc.turn_servers = o.turnPort === null
    ? []
    : turns.filter((t) => t.protocol !== "tls" || o.edgePort !== null);
  for (const t of doc.rtc.turn_servers as typeof turns) {
    t.port = t.protocol === "tls" ? o.edgePort! : o.turnPort!;
    if (o.edgePort !== null && t.protocol === "udp") t.host = "127.0.0.1";
  }
  return { port: port as number, tcpPort: tcpPort as number };
}

/**
 * Starts coturn and LiveKit with the stack's configuration; LiveKit posts its webhooks to
 * `webhookUrl`. With `edge`, the entrance too, in front of the app at `edge.appPort`: TURN
 * over TLS then goes through it, as in production. Fails (rather than skipping) when a server
 * is missing or refuses its config.
 */
export async function startMediaStack(
  options: {
    webhookUrl: string;
    livekitYaml?: (doc: Record<string, unknown>) => void;
    /** Keep the stack's own ports (7880, 7881, 3478, ...), as `deno task media` does. */
    stackPorts?: boolean;
    /** The key pair and TURN secret LiveKit and coturn are configured with. */
    secrets: { apiKey: string; apiSecret: string; turnSecret: string };
    /** Run the entrance (Caddy) in front of the app listening on this port. */
    edge?: { appPort: number };
    /** Values .env would set, over the laptop's (PUBLIC_IP, say). */
    env?: Record<string, string>;
    /** Without coturn (where it is not installed): no TURN relay is offered to browsers. */
    coturn?: boolean;
    /**
     * The servers in process groups of their own (`deno task up`): a terminal's Ctrl-C goes to
     * the command, which stops them in order.
     */
    detached?: boolean;
  },
): Promise<MediaStack> {
  const withCoturn = options.coturn ?? true;
  const missing = mediaMissing({ coturn: withCoturn, caddy: !!options.edge });
  if (missing.length > 0) {
    throw new Error(
      `The media servers are not installed: ${missing.join(", ")}. ` +
        "Run `bash scripts/install_media.sh` (LiveKit and Caddy are built with Go 1.26).",
    );
  }
  const dir = await Deno.makeTempDir({ prefix: "urbania-media-" });
  const secrets = options.secrets;
  const env = {
    ...TEST_OVERRIDES.env,
    ...(options.edge ? { TURN_DOMAIN: TEST_OVERRIDES.domains.TURN_DOMAIN } : {}),
    ...options.env,
    LIVEKIT_API_KEY: secrets.apiKey,
    LIVEKIT_API_SECRET: secrets.apiSecret,
    TURN_SECRET: secrets.turnSecret,
    LIVEKIT_WEBHOOK_URL: options.webhookUrl,
  };
  const stack = options.stackPorts ?? false;
  const templates = (name: string) => Deno.readTextFile(new URL(`livekit/${name}`, ROOT));

  // coturn
  const { conf: coturnConf, turnPort, relay } = coturnConfig(
    renderTemplate(await templates("turnserver.conf"), env),
    stack,
  );
  const coturnFile = `${dir}/turnserver.conf`;
  await Deno.writeTextFile(coturnFile, coturnConf);
  const detached = options.detached ?? false;
  const coturn = new ServerProcess(
    "coturn",
    TURNSERVER_BIN,
    ["-c", coturnFile],
    undefined,
    detached,
  );
  const startCoturn = async () => {
    if (!withCoturn) return;
    coturn.start();
    await waitUntil("coturn", async () => {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: turnPort });
      conn.close();
      return true;
    }, coturn);
  };
  await startCoturn();

  // LiveKit
  const doc = parse(renderTemplate(await templates("livekit.yaml"), env));
  const edgePort = options.edge ? freePort() : 0;
  const { port, tcpPort } = livekitConfig(doc, {
    stackPorts: stack,
    turnPort: withCoturn ? turnPort : null,
    edgePort: options.edge ? edgePort : null,
  });
  options.livekitYaml?.(doc);
  const livekitFile = `${dir}/livekit.yaml`;
  await Deno.writeTextFile(livekitFile, stringify(doc));
  const livekit = new ServerProcess(
    "livekit",
    LIVEKIT_BIN,
    ["--config", livekitFile],
    undefined,
    detached,
  );
  const httpUrl = `http://127.0.0.1:${port}`;
  const startLiveKit = async () => {
    livekit.start();
    await waitUntil("LiveKit", async () => {
      const res = await fetch(httpUrl, { signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      return res.ok;
    }, livekit);
  };
  let edge: Edge | null = null;
  try {
    await startLiveKit();
    if (options.edge) {
      edge = await startEdge({
        app: `127.0.0.1:${options.edge.appPort}`,
        livekit: `127.0.0.1:${port}`,
        turn: `127.0.0.1:${turnPort}`,
      }, edgePort);
    }
  } catch (err) {
    await livekit.stop();
    await coturn.stop();
    throw err;
  }

  return {
    livekitUrl: `ws://127.0.0.1:${port}`,
    apiKey: secrets.apiKey,
    apiSecret: secrets.apiSecret,
    turn: { port: turnPort, secret: secrets.turnSecret, relayPorts: relay },
    iceTcpPort: tcpPort,
    edge,
    files: { livekit: livekitFile, coturn: coturnFile },
    livekit,
    coturn,
    stopCoturn: () => coturn.stop(),
    startCoturn,
    appEnv: {
      LIVEKIT_URL: edge ? edge.livekitUrl : `ws://127.0.0.1:${port}`,
      ...(edge ? { LIVEKIT_API_URL: httpUrl, PUBLIC_URL: edge.appUrl, TRUST_PROXY: "true" } : {}),
      LIVEKIT_API_KEY: secrets.apiKey,
      LIVEKIT_API_SECRET: secrets.apiSecret,
    },
    killLiveKit: () => livekit.stop("SIGKILL"),
    startLiveKit,
    async stop() {
      await edge?.stop();
      await livekit.stop();
      await coturn.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
