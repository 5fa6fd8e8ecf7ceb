// Fills the ${…} placeholders of the compose stack's LiveKit and coturn configuration from
// the environment, after checking every value, and writes the results (readable by their
// owner only: they hold secrets). Run by the stack's `config` service:
//   deno run --allow-read=<templates> --allow-write=<out> --allow-env \
//     scripts/render_stack_config.ts <templates dir> <out dir>

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

if (import.meta.main) {
  const [from, to] = Deno.args;
  if (!from || !to) {
    console.error("usage: render_stack_config.ts <templates dir> <out dir>");
    Deno.exit(2);
  }
  const env = Deno.env.toObject();
  try {
    for (const name of STACK_TEMPLATES) {
      const text = renderTemplate(await Deno.readTextFile(`${from}/${name}`), env);
      await Deno.writeTextFile(`${to}/${name}`, text, { mode: 0o600 });
      await Deno.chmod(`${to}/${name}`, 0o600);
      console.log(`wrote ${to}/${name}`);
    }
  } catch (err) {
    console.error(err instanceof StackConfigError ? err.message : String(err));
    Deno.exit(1);
  }
}
