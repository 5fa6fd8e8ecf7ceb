// The deployment doctor: checks, from wherever it runs (the VM or any machine outside), what
// calls need from a deployment of the tls profile, and for each failure names the cause and
// the fix. Run by `deno task doctor` (scripts/doctor.ts) with the deployment's .env.
import { Buffer } from "node:buffer";
import net from "node:net";
import tls from "node:tls";
import { AccessToken } from "livekit-server-sdk";
import { deploymentProblems } from "./stack_config.ts";
import { turnAllocate } from "./turn_client.ts";

export type Status = "ok" | "warn" | "fail";

export interface Finding {
  check: string;
  status: Status;
  /** What was seen. */
  detail: string;
  /** What to do about it (failures and warnings). */
  fix?: string;
}

export interface DoctorOptions {
  /** The deployment's settings (.env). */
  env: Record<string, string | undefined>;
  /** Name → address, instead of DNS (like curl's --resolve). */
  resolve?: Record<string, string>;
  /** Where Caddy listens for https (443). */
  httpsPort?: number;
  /** Where Caddy listens for http (80: certificate challenges, redirects to https). */
  httpPort?: number;
  /** TURN over UDP (3478). */
  turnPort?: number;
  /** LiveKit's ICE over TCP (7881). */
  iceTcpPort?: number;
  /** PEM certificates to trust instead of the system's (a private CA). */
  caCerts?: string[];
  /** Certificates closer to their end than this warn (days; 14). */
  expiryWarningDays?: number;
  /** How long each network step may take (ms; 5000). */
  timeoutMs?: number;
  /** How long to wait for LiveKit's webhook to reach the app (ms; 10000). */
  webhookWaitMs?: number;
  /**
   * A rehearsal on one machine (`--local`): PUBLIC_IP may be a loopback address, which a real
   * deployment must never advertise.
   */
  local?: boolean;
}

const DAY = 86_400_000;

type Names = { APP_DOMAIN: string; LIVEKIT_DOMAIN: string; TURN_DOMAIN: string };
type Request = { method?: string; headers?: Record<string, string>; body?: string };

/** What every network check needs: the settings, where each name goes, and how to ask. */
interface Deployment {
  /** tls: the compose stack's entrance on 443; plain: the app and LiveKit over plain http. */
  shape: "tls" | "plain";
  options: DoctorOptions;
  get(name: string): string;
  names: Names;
  publicIp: string;
  httpsPort: number;
  timeout: number;
  /** A private CA's certificates replace the system's (a deployment uses one or the other). */
  ca?: string[];
  /** Where a name goes: what DNS said, or PUBLIC_IP when it said nothing. */
  at(name: string): string;
  /** One request through the entrance (https on 443) to `name`. */
  viaEdge(name: string, path: string, more?: Request): Promise<HttpAnswer>;
  /** One GET of the app, as browsers reach it (PUBLIC_URL). */
  appGet(path: string): Promise<HttpAnswer>;
  /** One RoomService call (Twirp, JSON) through the entrance, signed with .env's key pair. */
  livekitApi(method: string, body: unknown): Promise<HttpAnswer | Error>;
}

/**
 * Runs every check; a failed step never stops the others. An https PUBLIC_URL is the tls
 * profile's deployment; any other is a local or plain-http one (plainDoctor).
 */
export async function runDoctor(options: DoctorOptions): Promise<Finding[]> {
  if (!/^https:/.test(options.env.PUBLIC_URL?.trim() ?? "")) return await plainDoctor(options);
  const findings = checkSettings(options);
  if (findings.some((f) => f.status === "fail")) return findings;
  const get = (k: string) => options.env[k]?.trim() ?? "";
  const names = {
    APP_DOMAIN: get("APP_DOMAIN"),
    LIVEKIT_DOMAIN: get("LIVEKIT_DOMAIN"),
    TURN_DOMAIN: get("TURN_DOMAIN"),
  };
  const address: Record<string, string | null> = {};
  findings.push(...await checkDns(options, names, get("PUBLIC_IP"), address));
  const d = deployment(options, names, address);
  for (const name of Object.values(names)) {
    findings.push(
      await checkCertificate(
        d.at(name),
        d.httpsPort,
        name,
        d.ca,
        options.expiryWarningDays ?? 14,
        d.timeout,
      ),
    );
  }
  findings.push(await checkPort80(d), await checkApp(d));
  const livekit = await checkLiveKit(d);
  findings.push(livekit.finding);
  if (livekit.room) findings.push(await checkWebhook(d, livekit.room));
  for (const transport of ["udp", "tls"] as const) findings.push(...await checkTurn(d, transport));
  findings.push(await checkIceTcp(d));
  return findings;
}

function deployment(
  options: DoctorOptions,
  names: Names,
  address: Record<string, string | null>,
): Deployment {
  const get = (k: string) => options.env[k]?.trim() ?? "";
  const publicIp = get("PUBLIC_IP");
  const httpsPort = options.httpsPort ?? 443;
  const timeout = options.timeoutMs ?? 5000;
  const ca = options.caCerts && options.caCerts.length > 0 ? options.caCerts : undefined;
  const at = (name: string) => address[name] ?? publicIp;
  const viaEdge = (name: string, path: string, more: Request = {}) =>
    httpRequest({ ip: at(name), port: httpsPort, name, tls: true, ca, path, timeout, ...more });
  const livekitApi = roomService(get, (path, more) => viaEdge(names.LIVEKIT_DOMAIN, path, more));
  const appGet = (path: string) => viaEdge(names.APP_DOMAIN, path);
  return {
    shape: "tls",
    options,
    get,
    names,
    publicIp,
    httpsPort,
    timeout,
    ca,
    at,
    viaEdge,
    appGet,
    livekitApi,
  };
}

/**
 * A local or plain-http deployment (`deno task up`, `deno task start` with `deno task media`):
 * the app at PUBLIC_URL, LiveKit's API (LIVEKIT_API_URL, or LIVEKIT_URL over http) with the
 * key pair, its webhooks reaching the app, and TURN over UDP when TURN_SECRET is set.
 */
async function plainDoctor(options: DoctorOptions): Promise<Finding[]> {
  const get = (k: string) => options.env[k]?.trim() ?? "";
  const problems: string[] = [];
  for (const name of ["PUBLIC_URL", "LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET"]) {
    if (!get(name)) problems.push(`${name} is missing`);
  }
  const parse = (name: string) => {
    try {
      return new URL(get(name));
    } catch {
      if (get(name)) problems.push(`${name} is not a URL: ${get(name)}`);
      return null;
    }
  };
  const app = parse("PUBLIC_URL");
  const api = get("LIVEKIT_API_URL")
    ? parse("LIVEKIT_API_URL")
    : parse("LIVEKIT_URL") && new URL(get("LIVEKIT_URL").replace(/^ws/, "http"));
  if (problems.length > 0 || !app || !api) {
    return problems.map((p) => ({
      check: "settings",
      status: "fail",
      detail: p,
      fix: "Correct it in .env.",
    }));
  }
  const findings: Finding[] = [{
    check: "settings",
    status: "ok",
    detail: `a plain-http deployment: the app at ${app.origin}, LiveKit's API at ${api.origin}`,
  }];
  const timeout = options.timeoutMs ?? 5000;
  const hostOf = (u: URL) => u.hostname === "localhost" ? "127.0.0.1" : u.hostname;
  const portOf = (u: URL) => Number(u.port || (u.protocol === "https:" ? 443 : 80));
  const plainGet = (u: URL, path: string, more: Request = {}) =>
    httpRequest({
      ip: hostOf(u),
      port: portOf(u),
      name: u.host,
      tls: u.protocol === "https:",
      path,
      timeout,
      ...more,
    });
  const names = { APP_DOMAIN: app.host, LIVEKIT_DOMAIN: api.host, TURN_DOMAIN: get("TURN_DOMAIN") };
  const d: Deployment = {
    ...deployment(options, names, {}),
    shape: "plain",
    appGet: (path) => plainGet(app, path),
    livekitApi: roomService(get, (path, more) => plainGet(api, path, more)),
  };
  findings.push(await checkApp(d));
  const livekit = await checkLiveKit(d);
  findings.push(livekit.finding);
  if (livekit.room) findings.push(await checkWebhook(d, livekit.room));
  if (get("TURN_SECRET") && (get("TURN_DOMAIN") || get("PUBLIC_IP"))) {
    const turnHost = get("TURN_DOMAIN") || get("PUBLIC_IP");
    const found = await lookup(turnHost, options.resolve);
    findings.push(
      ...await checkTurn(
        { ...d, names: { ...names, TURN_DOMAIN: turnHost }, at: () => found[0] ?? turnHost },
        "udp",
      ),
    );
  }
  return findings;
}

/**
 * One RoomService call (Twirp, JSON) signed with .env's key pair, sent by `send` (through the
 * entrance, or straight to LiveKit); an error when it could not be made.
 */
function roomService(
  get: (name: string) => string,
  send: (path: string, more: Request) => Promise<HttpAnswer>,
): Deployment["livekitApi"] {
  return async (method, body) => {
    try {
      const token = new AccessToken(get("LIVEKIT_API_KEY"), get("LIVEKIT_API_SECRET"), {
        ttl: 60,
      });
      token.addGrant({ roomList: true, roomCreate: true, roomAdmin: true });
      return await send(`/twirp/livekit.RoomService/${method}`, {
        method: "POST",
        headers: {
          Authorization: `Bearer ${await token.toJwt()}`,
          "Content-Type": "application/json",
        },
        body: JSON.stringify(body),
      });
    } catch (err) {
      return err as Error;
    }
  };
}

/** 1. Settings: what would make the stack refuse to start, or calls fail. */
function checkSettings(options: DoctorOptions): Finding[] {
  const get = (k: string) => options.env[k]?.trim() ?? "";
  const warnings: string[] = [];
  const problems = deploymentProblems(options.env, warnings, { allowLoopback: options.local });
  if (!/^https:/.test(get("PUBLIC_URL"))) {
    problems.push(
      `PUBLIC_URL is "${get("PUBLIC_URL")}": the doctor checks a deployment with the tls ` +
        "profile (https://APP_DOMAIN)",
    );
  }
  for (const name of ["LIVEKIT_API_KEY", "LIVEKIT_API_SECRET", "TURN_SECRET", "PUBLIC_IP"]) {
    if (!get(name)) problems.push(`${name} is missing`);
  }
  if (problems.length > 0) {
    return problems.map((p) => ({
      check: "settings",
      status: "fail",
      detail: p,
      fix: "Correct it in .env.",
    }));
  }
  return [
    ...warnings.map((w): Finding => ({ check: "settings", status: "warn", detail: w })),
    { check: "settings", status: "ok", detail: ".env describes a complete https deployment" },
  ];
}

/** 2. DNS: each name points at PUBLIC_IP (what each resolves to lands in `address`). */
async function checkDns(
  options: DoctorOptions,
  names: Names,
  publicIp: string,
  address: Record<string, string | null>,
): Promise<Finding[]> {
  const findings: Finding[] = [];
  for (const [setting, name] of Object.entries(names)) {
    const found = await lookup(name, options.resolve);
    address[name] = found[0] ?? null;
    if (found.length === 0) {
      findings.push({
        check: `DNS ${name}`,
        status: "fail",
        detail: `${setting} ${name} does not resolve`,
        fix: `Create an A record for ${name} pointing at ${publicIp} (PUBLIC_IP).`,
      });
    } else if (!found.includes(publicIp)) {
      findings.push({
        check: `DNS ${name}`,
        status: "fail",
        detail: `${name} resolves to ${found.join(", ")}, but PUBLIC_IP is ${publicIp}: ` +
          "LiveKit and coturn send browsers to PUBLIC_IP for media",
        fix: `If ${publicIp} is wrong, set PUBLIC_IP to this machine's public address and run ` +
          `\`docker compose --profile tls up -d\`; otherwise point ${name} at ${publicIp}.`,
      });
    } else {
      findings.push({
        check: `DNS ${name}`,
        status: "ok",
        detail: `${name} → ${found.join(", ")}`,
      });
    }
  }
  return findings;
}

/** 3b. Port 80: Let's Encrypt's HTTP challenge (issuance and renewals) and the redirect. */
async function checkPort80(d: Deployment): Promise<Finding> {
  const app = d.names.APP_DOMAIN;
  const httpPort = d.options.httpPort ?? 80;
  const plain = await httpRequest({
    ip: d.at(app),
    port: httpPort,
    name: app,
    tls: false,
    path: "/",
    timeout: d.timeout,
  }).catch((err) => err as Error);
  if (plain instanceof Error) {
    return {
      check: "port 80",
      status: "fail",
      detail: `http://${app}:${httpPort}: ${plain.message}`,
      fix: "Open 80/tcp in the firewall: Let's Encrypt checks it to issue and renew " +
        "certificates, and browsers typing the bare name land there.",
    };
  }
  if (plain.status >= 300 && plain.status < 400 && /^https:/m.test(plain.location)) {
    return { check: "port 80", status: "ok", detail: `redirects to ${plain.location}` };
  }
  return {
    check: "port 80",
    status: "fail",
    detail: `http://${app}:${httpPort} answered ${plain.status}, not a redirect to https`,
    fix: "Something else than the stack's Caddy answers on 80/tcp: stop it, then " +
      "`docker compose --profile tls up -d`.",
  };
}

/** 4. The app, through the proxy: it answers and is ready (database and LiveKit). */
async function checkApp(d: Deployment): Promise<Finding> {
  const app = d.names.APP_DOMAIN;
  const scheme = d.shape === "tls" ? "https" : new URL(d.get("PUBLIC_URL")).protocol.slice(0, -1);
  const ready = await d.appGet("/readyz").catch((err) => err as Error);
  if (ready instanceof Error) {
    return {
      check: "app",
      status: "fail",
      detail: `${scheme}://${app}/readyz: ${ready.message}`,
      fix: d.shape === "tls"
        ? "Is Caddy running (`docker compose --profile tls ps`) and 443/tcp open in the firewall?"
        : "Is the app running (`deno task up`, or `deno task start`)?",
    };
  }
  if (ready.status === 200) {
    return { check: "app", status: "ok", detail: "ready: database and LiveKit answer" };
  }
  return {
    check: "app",
    status: "fail",
    detail: `${scheme}://${app}/readyz answered ${ready.status}: ${ready.body.slice(0, 200)}`,
    fix: ready.status === 502
      ? "Caddy cannot reach the app: `docker compose logs app`."
      : "The app cannot reach what it names above: `docker compose ps` and its logs.",
  };
}

/**
 * 5. LiveKit: its signalling answers through the proxy, and accepts the key pair; then a room
 * made through the API (its name returned) makes LiveKit post room_started to the app.
 */
async function checkLiveKit(d: Deployment): Promise<{ finding: Finding; room?: string }> {
  const keyPair = await d.livekitApi("ListRooms", {});
  if (keyPair instanceof Error) {
    return {
      finding: {
        check: "LiveKit",
        status: "fail",
        detail: `LiveKit's API at ${d.names.LIVEKIT_DOMAIN}: ${keyPair.message}`,
        fix: d.shape === "tls"
          ? "Is LiveKit running (`docker compose ps livekit`)? Caddy passes LIVEKIT_DOMAIN to it."
          : "Is LiveKit running (`deno task up` starts it, or `deno task media`)? " +
            "LIVEKIT_API_URL (or LIVEKIT_URL) says where the app and the doctor reach it.",
      },
    };
  }
  if (keyPair.status === 401) {
    return {
      finding: {
        check: "LiveKit",
        status: "fail",
        detail: "LiveKit refuses the key pair in .env (LIVEKIT_API_KEY / LIVEKIT_API_SECRET)",
        fix: "LiveKit runs with another key pair: `docker compose --profile tls up -d` " +
          "re-creates it with the one in .env.",
      },
    };
  }
  if (keyPair.status !== 200) {
    return {
      finding: {
        check: "LiveKit",
        status: "fail",
        detail: `LiveKit's API answered ${keyPair.status}: ${keyPair.body.slice(0, 200)}`,
        fix: "`docker compose logs livekit`",
      },
    };
  }
  const room = `doctor-${crypto.randomUUID().replaceAll("-", "")}`;
  const made = await d.livekitApi("CreateRoom", { name: room, empty_timeout: 10 });
  return {
    finding: {
      check: "LiveKit",
      status: "ok",
      detail: "signalling answers and accepts the key pair",
    },
    room: !(made instanceof Error) && made.status === 200 ? room : undefined,
  };
}

/** 6. The webhook: LiveKit reached the app with an event the app could verify. */
async function checkWebhook(d: Deployment, room: string): Promise<Finding> {
  const deadline = Date.now() + (d.options.webhookWaitMs ?? 10_000);
  let seen = false;
  while (!seen && Date.now() < deadline) {
    const probe = await d.appGet(`/api/livekit/webhook/probe/${room}`).catch(() => null);
    seen = probe?.status === 200;
    if (!seen) await new Promise((r) => setTimeout(r, 500));
  }
  await d.livekitApi("DeleteRoom", { room });
  if (seen) {
    return { check: "webhook", status: "ok", detail: "LiveKit's signed events reach the app" };
  }
  return {
    check: "webhook",
    status: "fail",
    detail: "a room was made in LiveKit, but its room_started event never reached the app",
    fix:
      (d.shape === "tls"
        ? "LiveKit posts to http://app:8000/api/livekit/webhook in the stack: check " +
          "`docker compose logs livekit` for webhook errors"
        : `LiveKit posts to ${d.get("PUBLIC_URL")}/api/livekit/webhook (its webhook setting): ` +
          "check LiveKit's output for webhook errors") +
      ", and the app's logs for invalid_signature (LiveKit and the app then hold different " +
      "key pairs).",
  };
}

/**
 * 7. TURN, over UDP on 3478 or over TLS on 443, with credentials derived from TURN_SECRET: the
 * relay announces PUBLIC_IP and may send to it (where LiveKit is); over UDP, its relay ports.
 */
async function checkTurn(d: Deployment, transport: "udp" | "tls"): Promise<Finding[]> {
  const { publicIp, names } = d;
  // Permissions and relayed addresses are IPv4 here (the client speaks IPv4 only).
  const publicIpv4 = /^\d+\.\d+\.\d+\.\d+$/.test(publicIp);
  const port = transport === "udp" ? d.options.turnPort ?? 3478 : d.httpsPort;
  const where = `${transport === "udp" ? "UDP" : "TLS"} ${names.TURN_DOMAIN}:${port}`;
  const result = await turnAllocate({
    hostname: d.at(names.TURN_DOMAIN),
    port,
    transport,
    serverName: names.TURN_DOMAIN,
    caCerts: d.ca,
    secret: d.get("TURN_SECRET"),
    peer: publicIpv4 ? publicIp : undefined,
    // Once is enough: the relay's ports are the same whichever way the client came.
    probeRelay: transport === "udp",
    timeoutMs: d.timeout,
  }).catch((err) => err as Error);
  const check = `TURN over ${transport.toUpperCase()}`;
  if (result instanceof Error) {
    return [{
      check,
      status: "fail",
      detail: `${where}: ${result.message}`,
      fix: transport === "udp"
        ? "coturn does not answer: is coturn running (`docker compose ps coturn`)? Is " +
          "3478/udp open in the firewall?"
        : "TURN over TLS goes through Caddy to coturn: is coturn running " +
          "(`docker compose ps coturn`)? Caddy's logs say whether it reached it.",
    }];
  }
  if (result.result === "error") {
    return [{
      check,
      status: "fail",
      detail: `${where}: the relay refused an allocation (${result.code} ${result.reason})`,
      fix: result.code === 401
        ? "coturn refuses credentials derived from TURN_SECRET: it runs with another " +
          "secret. `docker compose --profile tls up -d` re-creates it (and LiveKit) with .env's."
        : result.code === 486
        ? "coturn's allocation quota is used up: widen its relay range and total-quota."
        : "`docker compose logs coturn`",
    }];
  }
  const findings: Finding[] = [];
  if (publicIpv4 && result.relayedAddress !== publicIp) {
    findings.push({
      check,
      status: "fail",
      detail: `${where}: the relay announces ${result.relayedAddress}, not PUBLIC_IP ${publicIp}`,
      fix: "coturn runs with another external-ip: `docker compose --profile tls up -d` " +
        "re-creates it with PUBLIC_IP from .env.",
    });
  } else if (result.permission && result.permission !== "granted") {
    findings.push({
      check,
      status: "fail",
      detail: `${where}: the relay may not send to PUBLIC_IP ${publicIp} ` +
        `(${result.permission.code} ${result.permission.reason}): relayed media cannot reach ` +
        "LiveKit",
      fix: "PUBLIC_IP is in a range coturn refuses (private or local): use the public address.",
    });
  } else {
    findings.push({
      check,
      status: "ok",
      detail: `${where}: relay allocated at ${result.relayedAddress}:${result.relayedPort}`,
    });
  }
  if (result.result === "allocated" && result.relayPorts) {
    findings.push(relayPortsFinding(
      `${result.relayedAddress}:${result.relayedPort}`,
      result.relayPorts,
    ));
  }
  return findings;
}

/** The relay's UDP ports: a datagram from here to the relayed port comes back through it. */
function relayPortsFinding(
  relayed: string,
  { result: seen, seenFrom }: { result: string; seenFrom?: string },
): Finding {
  const check = "TURN relay ports";
  if (seen === "open") {
    return { check, status: "ok", detail: `a datagram to ${relayed} was relayed` };
  }
  if (seen === "closed") {
    return {
      check,
      status: "fail",
      detail: `a datagram sent to the relayed address ${relayed} never came through the relay`,
      fix: "Open coturn's relay range (49160-49359/udp) in the firewall; if it is open, " +
        "coturn announces an address that is not this machine's (external-ip is PUBLIC_IP).",
    };
  }
  return {
    check,
    status: "warn",
    detail: `not checked: the relay sees the doctor at ${seenFrom}, where it may not send`,
    fix: "Run the doctor from a machine outside the VM's network to check the relay range.",
  };
}

/** 8. LiveKit's ICE over TCP at the advertised address. */
async function checkIceTcp(d: Deployment): Promise<Finding> {
  const icePort = d.options.iceTcpPort ?? 7881;
  try {
    const conn = await withTimeout(
      Deno.connect({ hostname: d.publicIp, port: icePort }),
      d.timeout,
    );
    conn.close();
    return { check: "LiveKit ICE/TCP", status: "ok", detail: `${d.publicIp}:${icePort} answers` };
  } catch (err) {
    return {
      check: "LiveKit ICE/TCP",
      status: "fail",
      detail: `${d.publicIp}:${icePort}: ${(err as Error).message}`,
      fix: `Open ${icePort}/tcp in the firewall; if it is open, PUBLIC_IP is not this ` +
        "machine's address.",
    };
  }
}

async function lookup(name: string, resolve?: Record<string, string>): Promise<string[]> {
  if (resolve?.[name]) return [resolve[name]];
  try {
    return await Deno.resolveDns(name, "A");
  } catch {
    return [];
  }
}

function withTimeout<T>(
  p: Promise<T>,
  ms: number,
  message = `no answer within ${ms / 1000} s`,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => timer = setTimeout(() => reject(new Error(message)), ms)),
  ]).finally(() => clearTimeout(timer));
}

/** TLS to `ip:port` asking for `name`: the certificate is trusted, matches and is not near its end. */
async function checkCertificate(
  ip: string,
  port: number,
  name: string,
  ca: string[] | undefined,
  warningDays: number,
  timeout: number,
): Promise<Finding> {
  const check = `certificate ${name}`;
  try {
    const { authorized, error, cert } = await withTimeout(
      new Promise<{ authorized: boolean; error: string | null; cert: tls.PeerCertificate }>(
        (resolve, reject) => {
          const socket = tls.connect({
            host: ip,
            port,
            servername: name,
            ca,
            rejectUnauthorized: false,
          }, () => {
            const cert = socket.getPeerCertificate();
            const error = socket.authorizationError ? String(socket.authorizationError) : null;
            resolve({ authorized: socket.authorized, error, cert });
            socket.end();
          });
          socket.on("error", reject);
        },
      ),
      timeout,
      `no TLS answer within ${timeout / 1000} s`,
    );
    const notAfter = new Date(cert.valid_to).getTime();
    if (error === "CERT_HAS_EXPIRED" || notAfter < Date.now()) {
      return {
        check,
        status: "fail",
        detail: `the certificate for ${name} expired on ${new Date(notAfter).toISOString()}`,
        fix: "Caddy renews certificates by itself when it can: `docker compose logs caddy` says " +
          "why it could not (80/tcp closed, DNS pointing elsewhere, Let's Encrypt's limits).",
      };
    }
    const mismatch = tls.checkServerIdentity(name, cert);
    if (!authorized || mismatch) {
      return {
        check,
        status: "fail",
        detail: `${name} presents a certificate browsers refuse (${
          mismatch?.message ?? error ?? "not trusted"
        }; issued by ${cert.issuer?.CN ?? "?"})`,
        fix: "Browsers refuse it, TURN over TLS included (relayed calls fail without a word). " +
          "Caddy has not obtained a certificate for it yet: check that DNS points here and " +
          "80/tcp and 443/tcp are open, then `docker compose logs caddy`.",
      };
    }
    // Renewal is due with a third of the lifetime left (Caddy's rule; 30 days of Let's Encrypt's
    // 90): less than that, or than `warningDays`, means renewals have been failing.
    const left = notAfter - Date.now();
    const lifetime = notAfter - new Date(cert.valid_from).getTime();
    const days = Math.floor(left / DAY);
    if (left < Math.min(warningDays * DAY, lifetime / 3)) {
      return {
        check,
        status: "warn",
        detail: `the certificate for ${name} ends on ${new Date(notAfter).toISOString()}`,
        fix: "Caddy renews 30 days ahead: it has been failing; `docker compose logs caddy`.",
      };
    }
    return {
      check,
      status: "ok",
      detail: days >= 1
        ? `valid for ${days} more days`
        : `valid until ${new Date(notAfter).toISOString()}`,
    };
  } catch (err) {
    return {
      check,
      status: "fail",
      detail: `${ip}:${port}: ${(err as Error).message}`,
      fix: "Nothing answers https there: is Caddy running and 443/tcp open in the firewall?",
    };
  }
}

interface HttpAnswer {
  status: number;
  /** The Location header, for redirects ("" when none). */
  location: string;
  body: string;
}

/**
 * One HTTP/1.0 request to `ip:port` for `name` (Host, and SNI over TLS), read to the end. The
 * address is given apart from the name so that a deployment can be checked before its DNS
 * points at it (--resolve).
 */
function httpRequest(req: {
  ip: string;
  port: number;
  name: string;
  /** Over TLS, trusting `ca` (or the system's certificates). */
  tls: boolean;
  ca?: string[];
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  timeout: number;
}): Promise<HttpAnswer> {
  return withTimeout(
    new Promise<HttpAnswer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const socket = req.tls
        ? tls.connect({ host: req.ip, port: req.port, servername: req.name, ca: req.ca })
        : net.connect({ host: req.ip, port: req.port });
      socket.on(req.tls ? "secureConnect" : "connect", () => {
        const body = req.body ?? "";
        const headers = {
          Host: req.name,
          Connection: "close",
          ...(body ? { "Content-Length": String(Buffer.byteLength(body)) } : {}),
          ...req.headers,
        };
        socket.write(
          `${req.method ?? "GET"} ${req.path} HTTP/1.0\r\n` +
            Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("") + "\r\n" + body,
        );
      });
      socket.on("data", (d: Buffer) => chunks.push(d));
      socket.on("error", reject);
      socket.on("end", () => {
        const text = Buffer.concat(chunks).toString();
        const at = text.indexOf("\r\n\r\n");
        const head = text.slice(0, at < 0 ? text.length : at);
        resolve({
          status: Number(/^HTTP\/\d\.\d (\d{3})/.exec(head)?.[1] ?? 0),
          location: /^location: *(\S+)/im.exec(head)?.[1] ?? "",
          body: at < 0 ? "" : text.slice(at + 4),
        });
      });
    }),
    req.timeout,
  );
}

/** The findings as lines for a terminal: one per check, the fix under each failure. */
export function report(findings: Finding[]): string {
  const mark = { ok: "ok  ", warn: "WARN", fail: "FAIL" };
  const lines: string[] = [];
  for (const f of findings) {
    lines.push(`${mark[f.status]}  ${f.check}: ${f.detail}`);
    if (f.fix && f.status !== "ok") lines.push(`      fix: ${f.fix}`);
  }
  const path = networkVerdict(findings);
  if (path) lines.push(path);
  const failed = findings.filter((f) => f.status === "fail").length;
  lines.push(
    failed === 0
      ? "Nothing blocks calls that the doctor can see from here."
      : `${failed} problem${failed === 1 ? "" : "s"} found.`,
  );
  return lines.join("\n");
}

/**
 * What calls from the network the doctor runs in will do, from the checks that reach the server
 * (signalling through the entrance, TURN over UDP, ICE over TCP, TURN over TLS): the first path
 * that works, in the order a browser prefers them, or why none does. Null when the settings
 * stopped the doctor before any network check.
 */
export function networkVerdict(findings: Finding[]): string | null {
  const status = (check: string) => findings.find((f) => f.check === check)?.status;
  if (!status("LiveKit")) return null;
  const ok = (check: string) => status(check) === "ok";
  if (!ok("LiveKit") && !ok("app")) {
    return "From this network: calls cannot work, the server does not answer at all " +
      "(neither the app nor LiveKit).";
  }
  if (!ok("LiveKit")) return "From this network: calls cannot work, LiveKit's signalling fails.";
  if (ok("TURN over UDP")) {
    return "From this network: calls will work over UDP (TURN on UDP 3478 answers; direct " +
      "media to LiveKit's UDP range is tried by browsers and not probed from here).";
  }
  if (ok("LiveKit ICE/TCP")) {
    return "From this network: UDP is blocked; calls will work over TCP (LiveKit's ICE over TCP " +
      "answers).";
  }
  if (ok("TURN over TLS")) {
    return "From this network: only TLS gets through; calls will work, relayed over TLS on 443.";
  }
  return "From this network: calls cannot work, signalling reaches the server but no media " +
    "path does (TURN over UDP, ICE over TCP and TURN over TLS all fail).";
}
