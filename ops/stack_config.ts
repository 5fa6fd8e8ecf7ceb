// The compose stack's LiveKit and coturn configuration: the ${…} placeholders of its templates
// filled from the environment after every value is checked, and what an https deployment needs
// besides. scripts/render_stack_config.ts writes the files (the stack's `config` service); the
// doctor and the media stack read them through here.

/** The files rendered, from the templates folder (livekit/ in the repository). */
export const STACK_TEMPLATES = ["livekit.yaml", "turnserver.conf"];

const HOSTNAME =
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const IPV6 = /^[0-9a-f:]+$/i;

/** What each placeholder may hold: nothing that could break out of a YAML or conf value. */
export const STACK_VALUES: Record<string, { hint: string; valid: (v: string) => boolean }> = {
  LIVEKIT_API_KEY: {
    hint: "letters, digits, - or _ (3 to 64), e.g. urbania",
    valid: (v) => /^[A-Za-z0-9_-]{3,64}$/.test(v),
  },
  LIVEKIT_API_SECRET: {
    hint: "32 to 128 letters, digits, - or _; generate with: openssl rand -hex 32",
    valid: (v) => /^[A-Za-z0-9_-]{32,128}$/.test(v),
  },
  TURN_SECRET: {
    hint: "32 to 128 letters, digits, - or _; generate with: openssl rand -hex 32",
    valid: (v) => /^[A-Za-z0-9_-]{32,128}$/.test(v),
  },
  TURN_DOMAIN: {
    hint: "a host name, e.g. turn.example.com (localhost on a laptop)",
    valid: (v) => HOSTNAME.test(v),
  },
  PUBLIC_IP: {
    hint: "the IP address browsers reach this machine at (127.0.0.1 on a laptop)",
    valid: (v) => IPV4.test(v) || (v.includes(":") && IPV6.test(v)),
  },
  LIVEKIT_WEBHOOK_URL: {
    hint: "where LiveKit posts its events, http(s)://host:port/api/livekit/webhook",
    valid: (v) => /^https?:\/\/[A-Za-z0-9.:[\]-]+\/api\/livekit\/webhook$/.test(v),
  },
};

export class StackConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Cannot write the stack's configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "StackConfigError";
  }
}

/** The placeholders a template uses. */
export function placeholders(template: string): string[] {
  return [...new Set([...template.matchAll(/\$\{([A-Z][A-Z0-9_]*)\}/g)].map((m) => m[1]))];
}

/** Fills a template; throws StackConfigError naming every missing, unknown or bad value. */
export function renderTemplate(
  template: string,
  env: Record<string, string | undefined>,
): string {
  const problems: string[] = [];
  for (const name of placeholders(template)) {
    const rule = STACK_VALUES[name];
    const value = env[name]?.trim() ?? "";
    if (!rule) problems.push(`${name} is not a setting the stack knows`);
    else if (value === "") problems.push(`${name} is missing (${rule.hint})`);
    else if (!rule.valid(value)) problems.push(`${name} is not valid (${rule.hint})`);
  }
  if (problems.length > 0) throw new StackConfigError(problems);
  return template.replace(/\$\{([A-Z][A-Z0-9_]*)\}/g, (_, name) => env[name]!.trim());
}

const LOCAL_NAMES = /^(localhost|.*\.localhost|.*\.local|.*\.internal)$/i;

const UNREACHABLE = {
  loopback: "a loopback address",
  unspecified: "not an address browsers can reach",
  "link-local": "a link-local address",
} as const;

/** Addresses no browser elsewhere can send media to: which kind, or null. */
function unreachableIp(ip: string): keyof typeof UNREACHABLE | null {
  const v4 = IPV4.test(ip) ? ip.split(".").map(Number) : null;
  if (v4) {
    if (v4[0] === 127) return "loopback";
    if (v4[0] === 0) return "unspecified";
    if (v4[0] === 169 && v4[1] === 254) return "link-local";
    return null;
  }
  const low = ip.toLowerCase();
  if (low === "::1") return "loopback";
  if (low === "::") return "unspecified";
  if (/^fe[89ab]/.test(low)) return "link-local";
  return null;
}

/** A private address: fine on an intranet, wrong for browsers on the internet. */
function privateIp(ip: string): boolean {
  const v4 = IPV4.test(ip) ? ip.split(".").map(Number) : null;
  if (v4) {
    return v4[0] === 10 || (v4[0] === 172 && v4[1] >= 16 && v4[1] <= 31) ||
      (v4[0] === 192 && v4[1] === 168) || (v4[0] === 100 && v4[1] >= 64 && v4[1] <= 127);
  }
  return /^f[cd]/i.test(ip);
}

/**
 * What makes an https deployment (the tls profile) unable to work, each with its fix: an
 * advertised address browsers cannot reach (signalling connects, media never does), names
 * missing, or settings that do not point where the proxy serves. Nothing when PUBLIC_URL is
 * http (a laptop). `warnings` gets what works only in some networks.
 */
export function deploymentProblems(
  env: Record<string, string | undefined>,
  warnings: string[] = [],
  options: { allowLoopback?: boolean } = {},
): string[] {
  const get = (k: string) => env[k]?.trim() ?? "";
  let publicUrl: URL;
  try {
    publicUrl = new URL(get("PUBLIC_URL"));
  } catch {
    return [];
  }
  if (publicUrl.protocol !== "https:") return [];
  const problems: string[] = [];
  const ip = get("PUBLIC_IP");
  const bad = unreachableIp(ip);
  if (bad && !(options.allowLoopback && bad === "loopback")) {
    problems.push(
      `PUBLIC_IP is ${ip}, ${
        UNREACHABLE[bad]
      }: with an https PUBLIC_URL, browsers elsewhere would reach ` +
        "signalling but never send media. Set the VM's public IP address.",
    );
  } else if (ip && !bad && privateIp(ip)) {
    warnings.push(
      `PUBLIC_IP ${ip} is a private address: only browsers on that network can send media to it.`,
    );
  }
  const names = ["APP_DOMAIN", "LIVEKIT_DOMAIN", "TURN_DOMAIN"] as const;
  for (const name of names) {
    const v = get(name);
    if (!v) problems.push(`${name} is missing: the tls profile needs a DNS name for it`);
    else if (!HOSTNAME.test(v) || IPV4.test(v) || LOCAL_NAMES.test(v)) {
      problems.push(`${name} is "${v}": it must be a public DNS name pointing at PUBLIC_IP`);
    }
  }
  const given = names.map(get).filter((v) => v !== "");
  if (new Set(given.map((v) => v.toLowerCase())).size !== given.length) {
    problems.push(
      "APP_DOMAIN, LIVEKIT_DOMAIN and TURN_DOMAIN must be three different names: the proxy " +
        "tells the app, LiveKit and TURN apart by name on port 443",
    );
  }
  const app = get("APP_DOMAIN");
  if (app && (publicUrl.hostname !== app.toLowerCase() || publicUrl.port !== "")) {
    problems.push(`PUBLIC_URL is ${publicUrl.origin}: with the tls profile it is https://${app}`);
  }
  const livekit = get("LIVEKIT_DOMAIN");
  const livekitUrl = get("LIVEKIT_URL").replace(/\/+$/, "");
  if (livekit && livekitUrl !== `wss://${livekit}`) {
    problems.push(
      `LIVEKIT_URL is "${livekitUrl}": with the tls profile it is wss://${livekit} ` +
        "(an https page cannot open ws://)",
    );
  }
  if (!/@/.test(get("ACME_EMAIL"))) {
    problems.push("ACME_EMAIL is missing: Let's Encrypt needs an address to issue certificates");
  }
  if (!/^(true|1|yes)$/i.test(get("TRUST_PROXY"))) {
    problems.push(
      "TRUST_PROXY must be true with the tls profile: every request comes through the proxy, " +
        "and rate limits would otherwise count all clients as one",
    );
  }
  return problems;
}
