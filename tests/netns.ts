// Test hosts of our own: network namespaces joined by veth links, so that what crosses a real
// network (a firewall, a NAT, a poor link) is tested for real on one machine.
//
//   client 1 (198.18.1.2) ─┐                              ┌─ the app's link (198.19.0.0/30)
//   client 2 (198.18.2.2) ─┴─ router ── server (203.0.113.10) ┘   to the machine's own
//                            (198.18.N.1,                          namespace, where the app
//                             203.0.113.1)                         and PostgreSQL run
//
// The server host is where LiveKit, coturn and the entrance (Caddy on 443) run: its address
// 203.0.113.10 (TEST-NET-3, a documentation range routed nowhere) stands in for a VM's public
// IP. The client hosts sit on LANs of 198.18.0.0/15 (a benchmarking range) behind the router,
// which routes only between its own links: no namespace has a route beyond them, and the
// machine's own namespace reaches the server host only on the app's link (the server host
// never forwards). Every address exists only on these veth links. The router runs the
// network's DNS server (tests/dns_server.ts), which holds the test domains; each host's
// resolv.conf names it (/etc/netns/<name>/, which `ip netns exec` puts in place of /etc/).
//
// A network is torn down when its test ends, also after a failure (`withNetwork`), and one
// left by a killed run (its process gone) is removed the next time a network is made. Without
// root or the tools (iproute2, nftables) the network tests are skipped with one line, except in
// CI (CI=true), where they run and fail saying what is missing.

import { TEST_OVERRIDES } from "../ops/media.ts";

const IN_CI = Deno.env.get("CI") === "true";
const PREFIX = "urb-";

/** The addresses of the fixture's hosts. */
export const NET = {
  server: "203.0.113.10",
  routerWan: "203.0.113.1",
  /** The app's link: the machine's own end (where the app listens) and the server's. */
  appLink: "198.19.0.1",
  serverAppLink: "198.19.0.2",
  client: (i: number) => `198.18.${i}.2`,
  routerLan: (i: number) => `198.18.${i}.1`,
  /** Every client LAN. */
  clientLans: "198.18.0.0/15",
} as const;

/** The names the entrance serves, resolved to the server host in every client host. */
export const TEST_DOMAINS = TEST_OVERRIDES.domains;

function runsSync(bin: string, args: string[]): boolean {
  try {
    return new Deno.Command(bin, { args, stdout: "null", stderr: "null" }).outputSync().success;
  } catch {
    return false;
  }
}

/** Why network tests cannot run here, or null when they can. */
export const NETNS_MISSING: string | null = (() => {
  if (Deno.build.os !== "linux") return "network namespaces are Linux's";
  let uid: number | null = null;
  try {
    uid = Deno.uid();
  } catch {
    return "cannot tell whether this is root (run with --allow-sys=uid)";
  }
  if (uid !== 0) return "they need root (ip netns, nft, tc)";
  if (!runsSync("ip", ["-V"])) return "ip is not installed (Debian's iproute2)";
  if (!runsSync("tc", ["-V"])) return "tc is not installed (Debian's iproute2)";
  if (!runsSync("nft", ["--version"])) return "nft is not installed (Debian's nftables)";
  return null;
})();

/** Whether network tests are skipped: only outside CI. */
export const SKIP_NETWORKS = NETNS_MISSING !== null && !IN_CI;

async function run(bin: string, args: string[], stdin?: string): Promise<string> {
  const child = new Deno.Command(bin, {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(stdin));
    await w.close();
  }
  const out = await child.output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  if (!out.success) {
    throw new Error(`${bin} ${args.join(" ")}: ${text(out.stderr).trim() || `exit ${out.code}`}`);
  }
  return text(out.stdout);
}

const ip = (...args: string[]) => run("ip", args);

/** One test host: a network namespace. */
export class Host {
  constructor(readonly name: string, readonly ns: string, readonly address: string) {}

  /** `bin args` as a command that runs inside this host. */
  command(bin: string, args: string[] = []): [string, string[]] {
    return ["ip", ["netns", "exec", this.ns, bin, ...args]];
  }

  /** Runs a command inside this host; its output, or an error with what it said. */
  run(bin: string, args: string[] = [], stdin?: string): Promise<string> {
    const [b, a] = this.command(bin, args);
    return run(b, a, stdin);
  }

  /** Loads an nftables ruleset (its own table) into this host. */
  nft(ruleset: string): Promise<string> {
    return this.run("nft", ["-f", "-"], ruleset);
  }

  /**
   * An executable file that runs `bin` inside this host with the arguments it is given, for
   * programs that are handed a path (Playwright's Chromium).
   */
  async wrapper(dir: string, bin: string): Promise<string> {
    const path = `${dir}/${this.name}-${bin.split("/").at(-1)}`;
    await Deno.writeTextFile(path, `#!/bin/sh\nexec ip netns exec ${this.ns} ${bin} "$@"\n`);
    await Deno.chmod(path, 0o755);
    return path;
  }
}

export interface Network {
  server: Host;
  router: Host;
  clients: Host[];
  /** The machine's end of the app's link (its interface name). */
  appLinkDevice: string;
  /** Everything removed: processes left inside, namespaces, links, hosts files. */
  teardown(): Promise<void>;
}

let made = 0;

const alive = (pid: number) => {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
};

async function removeNamespace(ns: string) {
  // Whatever still runs inside keeps the namespace (and its addresses) alive: end it first.
  const pids = (await ip("netns", "pids", ns).catch(() => "")).split(/\s+/).filter(Boolean);
  for (const pid of pids) {
    try {
      Deno.kill(Number(pid), "SIGKILL");
    } catch {
      // Gone already.
    }
  }
  await ip("netns", "del", ns).catch(() => {});
  await Deno.remove(`/etc/netns/${ns}`, { recursive: true }).catch(() => {});
}

/** Removes the namespaces and links of runs whose process is gone (a killed run). */
export async function removeStale(): Promise<string[]> {
  const removed: string[] = [];
  const list = await ip("netns", "list").catch(() => "");
  for (const line of list.split("\n")) {
    const ns = line.split(" ")[0];
    const m = new RegExp(`^${PREFIX}(\\d+)-`).exec(ns);
    if (m && !alive(Number(m[1]))) {
      await removeNamespace(ns);
      removed.push(ns);
    }
  }
  const links = await ip("-o", "link", "show").catch(() => "");
  for (const m of links.matchAll(/^\d+: (u(\d+)a\d+)[@:]/gm)) {
    if (!alive(Number(m[2]))) {
      await ip("link", "del", m[1]).catch(() => {});
      removed.push(m[1]);
    }
  }
  return removed;
}

/**
 * Makes the hosts: a server, a router and `clients` client hosts, linked as drawn above. Throws
 * (after removing what it made) when a step fails.
 */
export async function createNetwork(options: { clients?: number } = {}): Promise<Network> {
  if (NETNS_MISSING) throw new Error(`network tests cannot run here: ${NETNS_MISSING}`);
  await removeStale();
  const run = `${PREFIX}${Deno.pid}-${made++}`;
  const count = options.clients ?? 2;
  const server = new Host("server", `${run}-server`, NET.server);
  const router = new Host("router", `${run}-router`, NET.routerWan);
  const clients = Array.from(
    { length: count },
    (_, k) => new Host(`client${k + 1}`, `${run}-client${k + 1}`, NET.client(k + 1)),
  );
  const hosts = [server, router, ...clients];
  const appLinkDevice = `u${Deno.pid}a${made - 1}`;
  let dns: Deno.ChildProcess | undefined;
  const teardown = async () => {
    try {
      dns?.kill("SIGKILL");
      await dns?.status;
    } catch {
      // Gone already.
    }
    for (const h of hosts) await removeNamespace(h.ns);
    await ip("link", "del", appLinkDevice).catch(() => {});
  };
  try {
    for (const h of hosts) {
      await ip("netns", "add", h.ns);
      await h.run("ip", ["link", "set", "lo", "up"]);
      // IPv4 only (the fixture's addresses); only the router forwards.
      await h.run("sysctl", [
        "-qw",
        "net.ipv6.conf.all.disable_ipv6=1",
        "net.ipv6.conf.default.disable_ipv6=1",
        `net.ipv4.ip_forward=${h === router ? 1 : 0}`,
      ]);
    }
    const link = async (a: Host, aDev: string, aIp: string, b: Host, bDev: string, bIp: string) => {
      await ip(
        "link",
        "add",
        aDev,
        "netns",
        a.ns,
        "type",
        "veth",
        "peer",
        "name",
        bDev,
        "netns",
        b.ns,
      );
      for (const [h, dev, addr] of [[a, aDev, aIp], [b, bDev, bIp]] as const) {
        await h.run("ip", ["addr", "add", addr, "dev", dev]);
        await h.run("ip", ["link", "set", dev, "up"]);
      }
    };
    await link(server, "eth0", `${NET.server}/24`, router, "wan", `${NET.routerWan}/24`);
    await server.run("ip", ["route", "add", "default", "via", NET.routerWan]);
    for (const [k, c] of clients.entries()) {
      await link(
        c,
        "eth0",
        `${NET.client(k + 1)}/24`,
        router,
        `lan${k + 1}`,
        `${NET.routerLan(k + 1)}/24`,
      );
      await c.run("ip", ["route", "add", "default", "via", NET.routerLan(k + 1)]);
    }
    // The app's link: the machine's own namespace and the server host, nothing else.
    await ip(
      "link",
      "add",
      appLinkDevice,
      "type",
      "veth",
      "peer",
      "name",
      "app0",
      "netns",
      server.ns,
    );
    await ip("addr", "add", `${NET.appLink}/30`, "dev", appLinkDevice);
    await ip("link", "set", appLinkDevice, "up");
    await server.run("ip", ["addr", "add", `${NET.serverAppLink}/30`, "dev", "app0"]);
    await server.run("ip", ["link", "set", "app0", "up"]);
    // Names: the router's DNS server holds the test domains (the server host's address);
    // every host asks it, at the router's address on its own link.
    dns = await startDns(router);
    for (const h of hosts) {
      const k = clients.indexOf(h);
      const resolver = k >= 0 ? NET.routerLan(k + 1) : NET.routerWan;
      await Deno.mkdir(`/etc/netns/${h.ns}`, { recursive: true });
      await Deno.writeTextFile(`/etc/netns/${h.ns}/hosts`, "127.0.0.1 localhost\n");
      await Deno.writeTextFile(`/etc/netns/${h.ns}/resolv.conf`, `nameserver ${resolver}\n`);
    }
  } catch (err) {
    await teardown();
    throw err;
  }
  return { server, router, clients, appLinkDevice, teardown };
}

/** The fixture's DNS server (tests/dns_server.ts) inside `host`, once it listens. */
async function startDns(host: Host): Promise<Deno.ChildProcess> {
  const names = Object.values(TEST_DOMAINS).map((name) => `${name}=${NET.server}`);
  const script = new URL("./dns_server.ts", import.meta.url).pathname;
  const [bin, args] = host.command(Deno.execPath(), ["run", "--allow-net", script, ...names]);
  const child = new Deno.Command(bin, { args, stdin: "null", stdout: "piped", stderr: "piped" })
    .spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const first = await reader.read();
  if (!first.value?.includes("listening")) {
    const err = await new Response(child.stderr).text();
    throw new Error(`the test network's DNS server did not start: ${first.value ?? ""}${err}`);
  }
  // Nothing more is read: the server writes nothing else.
  await reader.cancel().catch(() => {});
  child.stderr.cancel().catch(() => {});
  return child;
}

/** Runs `fn` with a fresh network, torn down afterwards whatever happens. */
export async function withNetwork<T>(
  fn: (net: Network) => Promise<T>,
  options: { clients?: number } = {},
): Promise<T> {
  const net = await createNetwork(options);
  try {
    return await fn(net);
  } finally {
    await net.teardown();
  }
}

/** What a network in between does to a client: a firewall, a NAT, a poor link. */
export type Profile =
  | "open"
  | "no-udp"
  | "corporate"
  | "symmetric-nat"
  | "symmetric-nat-closed"
  | "hotel"
  | "offline";

/** Each profile, as a person would name the network. */
export const PROFILES: Record<Profile, string> = {
  open: "open: nothing blocked",
  "no-udp": "no UDP out (but the network's DNS)",
  corporate: "corporate: nothing out but TCP 443 (and the network's DNS)",
  "symmetric-nat": "symmetric NAT on the router",
  "symmetric-nat-closed": "symmetric NAT, LiveKit's own ports closed on the router",
  hotel: "a poor hotel link: 150 ms round trip, 2 % loss, 1.5 Mbit/s",
  offline: "no route to the server at all",
};

/** The LiveKit ports a router can close (the stack's livekit.yaml). */
export interface LiveKitPorts {
  tcp: number;
  udp: [number, number];
}

/**
 * Applies `profile` to every client host (firewalls on the client, NAT and closed ports on the
 * router, netem on both ends of each client's link) in place of the one before. `open` is
 * nothing in the way.
 */
export async function applyProfile(
  net: Network,
  profile: Profile,
  livekit: LiveKitPorts,
): Promise<string> {
  let shaped = "";
  // The previous profile goes first.
  for (const h of [net.router, ...net.clients]) {
    await h.run("nft", ["flush", "ruleset"]);
    for (const dev of h === net.router ? net.clients.map((_, k) => `lan${k + 1}`) : ["eth0"]) {
      await h.run("tc", ["qdisc", "del", "dev", dev, "root"]).catch(() => {});
    }
  }
  // A firewall as networks have them: stateful, so nothing from outside gets in unless it
  // answers what went out (LiveKit's own connectivity checks toward a browser included).
  const outFilter = (rules: string, policy: "accept" | "drop") =>
    `table inet urbania {\n  chain out {\n    type filter hook output priority 0; policy ${policy};\n` +
    `    oif "lo" accept\n${rules}\n  }\n` +
    `  chain in {\n    type filter hook input priority 0; policy drop;\n` +
    `    iif "lo" accept\n    ct state established,related accept\n  }\n}\n`;
  for (const [k, c] of net.clients.entries()) {
    if (profile === "no-udp") {
      await c.nft(outFilter(
        `    ip daddr ${NET.routerLan(k + 1)} udp dport 53 accept\n    meta l4proto udp drop`,
        "accept",
      ));
    }
    if (profile === "corporate") {
      await c.nft(outFilter(
        "    ct state established,related accept\n    tcp dport 443 accept\n" +
          `    ip daddr ${NET.routerLan(k + 1)} udp dport 53 accept`,
        "drop",
      ));
    }
    if (profile === "offline") {
      await c.nft(outFilter(`    ip daddr ${NET.server} drop`, "accept"));
    }
    if (profile === "hotel") {
      for (const [h, dev] of [[c, "eth0"], [net.router, `lan${k + 1}`]] as const) {
        shaped = await poorLink(h, dev);
      }
    }
  }
  if (profile === "symmetric-nat" || profile === "symmetric-nat-closed") {
    // Masquerade with a random port for every new flow: the mapping depends on where a packet
    // goes (a symmetric NAT), so what a STUN server sees is useless to anyone else.
    const closed = profile === "symmetric-nat-closed"
      ? `  chain forward {\n    type filter hook forward priority 0; policy accept;\n` +
        `    ip daddr ${NET.server} udp dport ${livekit.udp[0]}-${livekit.udp[1]} drop\n` +
        `    ip daddr ${NET.server} tcp dport ${livekit.tcp} drop\n  }\n`
      : "";
    await net.router.nft(
      `table ip urbania {\n  chain post {\n    type nat hook postrouting priority srcnat;\n` +
        `    oifname "wan" ip saddr ${NET.clientLans} masquerade fully-random\n  }\n${closed}}\n`,
    );
  }
  return PROFILES[profile] + (shaped ? ` (${shaped})` : "");
}

/**
 * One direction of a poor link, leaving `dev` of `host`: netem's 75 ms and 2 % loss at
 * 1.5 Mbit/s where the kernel has netem; where it has not (sch_netem is a module some kernels
 * lack), the loss from nftables (a random 2 % dropped) and the rate from tbf, with no added
 * delay. Says which it applied.
 */
async function poorLink(host: Host, dev: string): Promise<string> {
  const netem = ["netem", "delay", "75ms", "loss", "2%", "rate", "1500kbit", "limit", "200"];
  try {
    await host.run("tc", ["qdisc", "add", "dev", dev, "root", ...netem]);
    return "netem";
  } catch {
    await host.run("tc", [
      "qdisc",
      "add",
      "dev",
      dev,
      "root",
      "tbf",
      "rate",
      "1500kbit",
      "burst",
      "16kb",
      "latency",
      "300ms",
    ]);
    await host.nft(
      `table inet urbania_loss_${dev} {\n  chain post {\n` +
        `    type filter hook postrouting priority 0; policy accept;\n` +
        `    oifname "${dev}" numgen random mod 100 < 2 drop\n  }\n}\n`,
    );
    return "no netem in this kernel: 2 % loss by nftables and 1.5 Mbit/s by tbf, no added delay";
  }
}
