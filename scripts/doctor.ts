// The deployment doctor: what blocks calls on a deployment of the tls profile, each problem
// with its cause and its fix. Run on the VM or from any machine with a copy of its .env:
//   deno task doctor                       # reads ./.env
//   deno task doctor --env-file=/srv/urbania/.env
// Options for checking before DNS is switched, or a private CA:
//   --resolve=meet.example.com:203.0.113.7   (repeat per name; like curl's --resolve)
//   --ca-file=root.pem --https-port=443 --http-port=80 --turn-port=3478 --ice-port=7881
//   --timeout=5 (seconds each network step may take)
// and --local for a rehearsal on one machine (PUBLIC_IP may then be 127.0.0.1).
// Exit status: 0 when nothing failed, 1 otherwise, 2 for bad arguments.
import { report, runDoctor } from "../ops/doctor.ts";
import { parseEnvFile } from "../ops/env_file.ts";

function usage(message: string): never {
  console.error(`doctor: ${message}`);
  console.error(
    "usage: deno task doctor [--env-file=.env] [--resolve=name:ip ...] [--ca-file=pem] " +
      "[--https-port=443] [--http-port=80] [--turn-port=3478] [--ice-port=7881] [--timeout=5] " +
      "[--local]",
  );
  Deno.exit(2);
}

if (import.meta.main) {
  let envFile = ".env";
  let envFileGiven = false;
  const resolve: Record<string, string> = {};
  const caCerts: string[] = [];
  const ports: Record<string, number> = {};
  let local = false;
  let timeoutMs: number | undefined;
  for (const arg of Deno.args) {
    if (arg === "--local") {
      local = true;
      continue;
    }
    const m = /^--([a-z-]+)=(.+)$/.exec(arg);
    if (!m) usage(`unknown argument ${arg}`);
    const [, key, value] = m;
    if (key === "env-file") [envFile, envFileGiven] = [value, true];
    else if (key === "resolve") {
      const at = value.lastIndexOf(":");
      if (at < 1) usage(`--resolve takes name:ip (got ${value})`);
      resolve[value.slice(0, at).toLowerCase()] = value.slice(at + 1);
    } else if (key === "timeout") {
      const n = Number(value);
      if (!(n > 0 && n <= 120)) usage("--timeout takes seconds, from 0.1 to 120");
      timeoutMs = n * 1000;
    } else if (key === "ca-file") caCerts.push(await Deno.readTextFile(value));
    else if (["https-port", "http-port", "turn-port", "ice-port"].includes(key)) {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1 || n > 65535) usage(`--${key} takes a port number`);
      ports[key] = n;
    } else usage(`unknown option --${key}`);
  }
  let fileEnv: Record<string, string> = {};
  try {
    fileEnv = parseEnvFile(await Deno.readTextFile(envFile));
  } catch (err) {
    if (envFileGiven || !(err instanceof Deno.errors.NotFound)) {
      usage(`cannot read ${envFile}: ${(err as Error).message}`);
    }
  }
  // Variables set in the environment win over the file, as with docker compose.
  const env = { ...fileEnv, ...Deno.env.toObject() };
  const findings = await runDoctor({
    env,
    resolve,
    caCerts,
    httpsPort: ports["https-port"],
    httpPort: ports["http-port"],
    turnPort: ports["turn-port"],
    iceTcpPort: ports["ice-port"],
    local,
    timeoutMs,
  });
  console.log(report(findings));
  Deno.exit(findings.some((f) => f.status === "fail") ? 1 : 0);
}
