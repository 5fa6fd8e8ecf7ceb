// Static checks of the compose stack (no Docker engine runs here): the compose file is valid,
// every file it mounts exists and parses once filled in, and ports and secrets agree between
// compose.yaml, livekit/livekit.yaml and livekit/turnserver.conf. Debian's docker-compose
// validates the file too when it is installed (.ci/run installs it).
import assert from "node:assert/strict";
import { parse } from "yaml";
import { loadConfig } from "../lib/platform/config.ts";
import { parseEnvFile } from "../ops/env_file.ts";
import {
  deploymentProblems,
  placeholders,
  renderTemplate,
  STACK_TEMPLATES,
  STACK_VALUES,
  StackConfigError,
} from "../ops/stack_config.ts";

const ROOT = new URL("../", import.meta.url);
const read = (path: string) => Deno.readTextFile(new URL(path, ROOT));
/** README.md and every page of docs/, as one text. */
async function documentation(): Promise<string> {
  const pages = ["README.md"];
  for await (const e of Deno.readDir(new URL("docs/", ROOT))) {
    if (e.name.endsWith(".md")) pages.push(`docs/${e.name}`);
  }
  return (await Promise.all(pages.sort().map(read))).join("\n");
}

// deno-lint-ignore no-explicit-any
type Yaml = any;

/** .env.example as name → value, and which names have a comment just above them. */
async function envExample() {
  const lines = (await read(".env.example")).split("\n");
  const values: Record<string, string> = {};
  const documented = new Set<string>();
  lines.forEach((line, i) => {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (!m) return;
    values[m[1]] = m[2];
    // A comment above it, directly or above the group of variables it belongs to.
    for (let j = i - 1; j >= 0; j--) {
      if (lines[j].startsWith("#")) {
        documented.add(m[1]);
        break;
      }
      if (!/^[A-Z][A-Z0-9_]*=/.test(lines[j])) break;
    }
  });
  return { values, documented };
}

/** An .env as scripts/new_env.sh writes it, with the tls profile's names filled in. */
async function filledEnv(): Promise<Record<string, string>> {
  const dir = await Deno.makeTempDir();
  try {
    const out = await new Deno.Command("sh", {
      args: [new URL("scripts/new_env.sh", ROOT).pathname, `${dir}/.env`],
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const values = parseEnvFile(await Deno.readTextFile(`${dir}/.env`));
    // The config service sets where LiveKit posts its webhooks (the app inside the stack).
    const config = parse(await read("compose.yaml")).services.config.environment;
    return {
      ...values,
      APP_DOMAIN: "meet.example.com",
      LIVEKIT_DOMAIN: "livekit.example.com",
      LIVEKIT_WEBHOOK_URL: config.LIVEKIT_WEBHOOK_URL,
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Compose's interpolation: ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}. */
function interpolate(value: string, env: Record<string, string>): string {
  return value.replace(
    /\$\$|\$\{([A-Z][A-Z0-9_]*)(?:(:?[-?])([^}]*))?\}/g,
    (whole, name, op, arg) => {
      if (whole === "$$") return "$";
      const v = env[name];
      const unset = op?.startsWith(":") ? !v : v === undefined;
      if (op?.endsWith("?") && unset) throw new Error(`compose: ${arg}`);
      if (op?.endsWith("-") && unset) return arg;
      return v ?? "";
    },
  );
}

function interpolateAll(node: Yaml, env: Record<string, string>): Yaml {
  if (typeof node === "string") return interpolate(node, env);
  if (Array.isArray(node)) return node.map((n) => interpolateAll(n, env));
  if (node && typeof node === "object") {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolateAll(v, env)]));
  }
  return node;
}

/** key=value lines of a coturn configuration (flags without a value map to true). */
function parseConf(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const m = /^([a-z0-9_-]+)(?:=(.+))?$/.exec(line);
    assert.ok(m, `turnserver.conf: cannot read "${line}"`);
    out.set(m[1], [...(out.get(m[1]) ?? []), m[2] ?? "true"]);
  }
  return out;
}

/** Published container ports of a service as "port/proto" (ranges expanded to their ends). */
function published(service: Yaml): Set<string> {
  const out = new Set<string>();
  for (const entry of service.ports ?? []) {
    const [spec, proto = "tcp"] = String(entry).split("/");
    const parts = spec.split(":");
    const host = parts[parts.length - 2];
    const container = parts[parts.length - 1];
    assert.equal(host, container, `published on the same port: ${entry}`);
    out.add(`${container}/${proto}`);
  }
  return out;
}

Deno.test("stack - compose.yaml has the services, volumes and profiles the deployment needs", async () => {
  const compose = parse(await read("compose.yaml"));
  const s = compose.services;
  assert.deepEqual(
    Object.keys(s).sort(),
    ["app", "caddy", "config", "coturn", "doctor", "livekit", "postgres", "tests"],
  );
  assert.match(s.livekit.image, /^livekit\/livekit-server:v\d+\.\d+\.\d+$/, "LiveKit pinned");
  for (const [name, svc] of Object.entries<Yaml>(s)) {
    if (svc.image) assert.doesNotMatch(svc.image, /:latest$|^[^:]+$/, `${name} image pinned`);
  }
  assert.ok(s.postgres.healthcheck, "PostgreSQL has a healthcheck");
  assert.ok(
    s.postgres.volumes.some((v: string) => v.endsWith(":/var/lib/postgresql/data")),
    "PostgreSQL keeps its data in a volume",
  );
  assert.equal(s.app.depends_on.postgres.condition, "service_healthy");
  assert.equal(s.livekit.depends_on.config.condition, "service_completed_successfully");
  assert.equal(s.coturn.depends_on.config.condition, "service_completed_successfully");
  assert.deepEqual(s.caddy.profiles, ["tls"]);
  assert.deepEqual(s.tests.profiles, ["test"]);
  // Named volumes used by services are all declared.
  for (const svc of Object.values<Yaml>(s)) {
    for (const v of svc.volumes ?? []) {
      const source = String(v).split(":")[0];
      if (!source.startsWith(".")) assert.ok(source in compose.volumes, `volume ${source}`);
    }
  }
});

Deno.test("stack - every file compose mounts or builds from exists and parses", async () => {
  const compose = parse(await read("compose.yaml"));
  const env = await filledEnv();
  const mounts: string[] = [];
  for (const svc of Object.values<Yaml>(compose.services)) {
    for (const v of svc.volumes ?? []) {
      const source = String(v).split(":")[0];
      if (source.startsWith(".")) mounts.push(source);
    }
  }
  assert.deepEqual([...new Set(mounts)].sort(), ["./livekit", "./livekit/Caddyfile"]);
  for (const name of STACK_TEMPLATES) {
    const text = renderTemplate(await read(`livekit/${name}`), env);
    if (name.endsWith(".yaml")) assert.equal(typeof parse(text), "object", name);
    else parseConf(text);
  }
  const caddy = await read("livekit/Caddyfile");
  const names = [...caddy.matchAll(/\{\$([A-Z][A-Z0-9_]*)\}/g)].map((m) => m[1]);
  const caddyEnv = Object.keys(compose.services.caddy.environment);
  for (const n of names) assert.ok(caddyEnv.includes(n), `Caddyfile's ${n} is passed to caddy`);
  assert.equal(
    (caddy.match(/\{/g) ?? []).length,
    (caddy.match(/\}/g) ?? []).length,
    "Caddyfile braces balance",
  );

  const dockerfile = await read("Dockerfile");
  const ci = await read(".ci/run");
  const denoVersion = /DENO_VERSION=(\S+)/.exec(ci)![1];
  assert.match(
    dockerfile,
    new RegExp(`^FROM denoland/deno:${denoVersion.replaceAll(".", "\\.")} `, "m"),
  );
  assert.match(dockerfile, /deno task build/);
  const cmd = /^CMD (.+)$/m.exec(dockerfile)![1];
  assert.deepEqual(JSON.parse(cmd).slice(0, 2), ["deno", "run"]);
  assert.ok(!/-A\b|--allow-all|--allow-write|--allow-run/.test(cmd), "least permissions");
  assert.ok(dockerfile.includes("AS test"), "a test stage for the tests service");
  // Every service built from the Dockerfile names its stage (without one, compose builds the
  // last stage, which is not the app).
  const stages = [...dockerfile.matchAll(/^FROM \S+ AS (\S+)$/gm)].map((m) => m[1]);
  for (const [name, svc] of Object.entries<Yaml>(compose.services)) {
    if (!svc.build) continue;
    assert.ok(stages.includes(svc.build.target), `${name} builds stage ${svc.build.target}`);
  }
  assert.equal(compose.services.app.build.target, "app");
  assert.equal(compose.services.config.build.target, "app");
});

Deno.test("stack - ports and secrets agree between compose, livekit.yaml and turnserver.conf", async () => {
  const env = await filledEnv();
  const compose = interpolateAll(parse(await read("compose.yaml")), env);
  const s = compose.services;
  const lk = parse(renderTemplate(await read("livekit/livekit.yaml"), env));
  const turn = parseConf(renderTemplate(await read("livekit/turnserver.conf"), env));
  const one = (k: string) => {
    const v = turn.get(k);
    assert.ok(v && v.length === 1, `turnserver.conf sets ${k} once`);
    return v[0];
  };

  // LiveKit: signalling, ICE/TCP and the UDP range are published as configured.
  const lkPorts = published(s.livekit);
  assert.ok(lkPorts.has(`${lk.port}/tcp`));
  assert.ok(lkPorts.has(`${lk.rtc.tcp_port}/tcp`));
  assert.ok(
    lkPorts.has(`${lk.rtc.port_range_start}-${lk.rtc.port_range_end}/udp`),
    `UDP ${lk.rtc.port_range_start}-${lk.rtc.port_range_end} published`,
  );
  assert.equal(lk.rtc.node_ip, env.PUBLIC_IP);

  // The key pair: LiveKit's keys, its webhook signing key, the app's settings.
  assert.deepEqual(lk.keys, { [env.LIVEKIT_API_KEY]: env.LIVEKIT_API_SECRET });
  assert.equal(lk.webhook.api_key, env.LIVEKIT_API_KEY);
  assert.equal(s.app.environment.LIVEKIT_API_KEY, env.LIVEKIT_API_KEY);
  assert.equal(s.app.environment.LIVEKIT_API_SECRET, env.LIVEKIT_API_SECRET);

  // Webhooks reach the app's route on its compose name and port.
  const hook = new URL(lk.webhook.urls[0]);
  assert.ok(hook.hostname in s, `webhook host ${hook.hostname} is a service`);
  assert.equal(hook.port, s[hook.hostname].environment.PORT);
  assert.equal(hook.pathname, "/api/livekit/webhook");
  assert.equal(new URL(s.app.environment.LIVEKIT_API_URL).port, String(lk.port));

  // TURN: LiveKit hands out TURN over UDP on coturn's port, and TURN over TLS on 443, where
  // Caddy ends TLS for TURN_DOMAIN and passes TURN to coturn's port on the stack's network.
  assert.deepEqual(
    lk.rtc.turn_servers.map((t: { protocol: string; port: number }) => `${t.protocol}/${t.port}`),
    [`udp/${one("listening-port")}`, "tls/443"],
  );
  for (const t of lk.rtc.turn_servers) {
    assert.equal(t.secret, env.TURN_SECRET);
    assert.equal(t.host, env.TURN_DOMAIN);
  }
  const turnPorts = published(s.coturn);
  assert.deepEqual(
    [...turnPorts].sort(),
    [`${one("listening-port")}/udp`, `${one("min-port")}-${one("max-port")}/udp`].sort(),
    "coturn publishes TURN over UDP and its relay range, nothing over TCP",
  );
  assert.equal(s.caddy.environment.TURN_UPSTREAM, `coturn:${one("listening-port")}`);
  assert.equal(s.caddy.environment.APP_UPSTREAM, `app:${s.app.environment.PORT}`);
  assert.equal(s.caddy.environment.LIVEKIT_UPSTREAM, `livekit:${lk.port}`);
  assert.ok(published(s.caddy).has("443/tcp") && published(s.caddy).has("80/tcp"));
  assert.equal(one("static-auth-secret"), env.TURN_SECRET);
  assert.ok(turn.has("use-auth-secret"));
  assert.equal(one("external-ip"), env.PUBLIC_IP);

  // coturn does no TLS of its own (no certificate to read, nothing to restart on renewal) and
  // is hardened: no TCP relay, quotas within its relay range.
  for (const flag of ["no-tls", "no-dtls", "no-tcp-relay", "no-multicast-peers", "no-cli"]) {
    assert.ok(turn.has(flag), flag);
  }
  for (const gone of ["cert", "pkey", "tls-listening-port", "no-tlsv1", "no-tlsv1_1"]) {
    assert.ok(!turn.has(gone), `no ${gone}`);
  }
  const range = Number(one("max-port")) - Number(one("min-port")) + 1;
  assert.ok(Number(one("total-quota")) <= range, "total quota within the relay range");
  assert.ok(Number(one("user-quota")) > 0 && Number(one("user-quota")) < range);
  assert.ok(!s.coturn.volumes.some((v: string) => v.includes("caddy-data")));
  // Neither media server runs as root; the renderer hands them their files.
  assert.equal(s.livekit.user, "65534:65534");
  assert.equal(s.coturn.user, "65534:65534");
  assert.ok(s.config.command.includes("--owner=65534:65534"));

  // The app's environment in the stack is a valid configuration.
  const config = loadConfig(s.app.environment);
  assert.equal(config.port, 8000);
  assert.ok(published(s.app).has("8000/tcp"));
  // The test service reaches the stack's PostgreSQL with the stack's password.
  assert.equal(
    new URL(s.tests.environment.TEST_DATABASE_ADMIN_URL).password,
    env.POSTGRES_PASSWORD,
  );
});

Deno.test("stack - every setting is documented in .env.example and secrets are generated", async () => {
  const { values, documented } = await envExample();
  const used = new Set<string>();
  const compose = await read("compose.yaml");
  for (const m of compose.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)) used.add(m[1]);
  // Placeholders come from .env, except those the config service (and caddy) set themselves.
  const services = parse(compose).services;
  const fixedIn = (svc: string) =>
    Object.entries<string>(services[svc].environment)
      .filter(([, v]) => !v.includes("${")).map(([k]) => k);
  const fixed = fixedIn("config");
  assert.deepEqual(fixed, ["LIVEKIT_WEBHOOK_URL"]);
  assert.deepEqual(fixedIn("caddy"), ["APP_UPSTREAM", "LIVEKIT_UPSTREAM", "TURN_UPSTREAM"]);
  for (const name of STACK_TEMPLATES) {
    for (const p of placeholders(await read(`livekit/${name}`))) {
      if (!fixed.includes(p)) used.add(p);
    }
  }
  for (const m of (await read("livekit/Caddyfile")).matchAll(/\{\$([A-Z][A-Z0-9_]*)\}/g)) {
    if (!fixedIn("caddy").includes(m[1])) used.add(m[1]);
  }
  for (const name of used) {
    assert.ok(name in values, `${name} is in .env.example`);
    assert.ok(documented.has(name), `${name} has a comment`);
  }
  for (const name of Object.keys(values)) assert.ok(documented.has(name), `${name} documented`);
  // Secrets ship empty, with how to generate them; new_env.sh fills them.
  const secrets = ["SESSION_SECRET", "LIVEKIT_API_SECRET", "POSTGRES_PASSWORD", "TURN_SECRET"];
  for (const name of secrets) assert.equal(values[name], "", `${name} ships empty`);
  const env = await filledEnv();
  for (const name of secrets) assert.match(env[name], /^[0-9a-f]{48,64}$/, name);
  assert.equal(new Set(secrets.map((n) => env[n])).size, secrets.length, "all different");
  // The URL the app uses without Docker holds the same database password.
  assert.equal(new URL(env.DATABASE_URL).password, env.POSTGRES_PASSWORD);
  // ...and never overwrites an existing .env.
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/.env`, "KEEP=me\n");
    const again = await new Deno.Command("sh", {
      args: [new URL("scripts/new_env.sh", ROOT).pathname, `${dir}/.env`],
      stderr: "piped",
    }).output();
    assert.notEqual(again.code, 0);
    assert.equal(await Deno.readTextFile(`${dir}/.env`), "KEEP=me\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("stack - the config renderer refuses missing, unknown and unsafe values", () => {
  const good = {
    LIVEKIT_API_KEY: "urbania",
    LIVEKIT_API_SECRET: "a".repeat(64),
    TURN_SECRET: "b".repeat(64),
    TURN_DOMAIN: "turn.example.com",
    PUBLIC_IP: "203.0.113.7",
  };
  const template = "keys:\n  ${LIVEKIT_API_KEY}: ${LIVEKIT_API_SECRET}\n";
  assert.equal(renderTemplate(template, good), `keys:\n  urbania: ${"a".repeat(64)}\n`);
  const cases: [Record<string, string>, string, RegExp][] = [
    [{ ...good, LIVEKIT_API_SECRET: "" }, template, /LIVEKIT_API_SECRET is missing/],
    [{ ...good, LIVEKIT_API_SECRET: "short" }, template, /LIVEKIT_API_SECRET is not valid/],
    [{ ...good, LIVEKIT_API_KEY: "k: x\nevil: 1" }, template, /LIVEKIT_API_KEY is not valid/],
    [good, "${SOMETHING_ELSE}", /SOMETHING_ELSE is not a setting/],
    [{ ...good, PUBLIC_IP: "999.1.1.1" }, "${PUBLIC_IP}", /PUBLIC_IP is not valid/],
    [{ ...good, TURN_DOMAIN: "a b" }, "${TURN_DOMAIN}", /TURN_DOMAIN is not valid/],
    [
      { ...good, LIVEKIT_WEBHOOK_URL: 'http://app:8000/x"\nevil: 1' },
      "${LIVEKIT_WEBHOOK_URL}",
      /LIVEKIT_WEBHOOK_URL is not valid/,
    ],
  ];
  for (const [env, text, message] of cases) {
    assert.throws(() => renderTemplate(text, env), (err: Error) => {
      assert.ok(err instanceof StackConfigError);
      assert.match(err.message, message);
      return true;
    });
  }
  for (const name of Object.keys(STACK_VALUES)) assert.ok(STACK_VALUES[name].hint);
});

const dockerCompose = await new Deno.Command("docker-compose", { args: ["version"] }).output()
  .then((o) => o.success, () => false);

Deno.test({
  name: "stack - docker-compose validates the file for every profile",
  ignore: !dockerCompose,
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const env = await filledEnv();
      await Deno.writeTextFile(
        `${dir}/.env`,
        Object.entries(env).map(([k, v]) => `${k}=${v}`).join("\n") + "\n",
      );
      const profiles = [[], ["--profile", "tls"], ["--profile", "test"], ["--profile", "doctor"]];
      for (const profile of profiles) {
        const out = await new Deno.Command("docker-compose", {
          args: [
            "-f",
            new URL("compose.yaml", ROOT).pathname,
            "--env-file",
            `${dir}/.env`,
            ...profile,
            "config",
            "-q",
          ],
          // Only the file: variables exported in this shell (an empty POSTGRES_PASSWORD, say)
          // would override it.
          env: { PATH: Deno.env.get("PATH") ?? "" },
          clearEnv: true,
          stdout: "piped",
          stderr: "piped",
        }).output();
        assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      }
      // Without the secrets, compose refuses to start and says which one is missing.
      await Deno.writeTextFile(`${dir}/.env`, "");
      const bare = await new Deno.Command("docker-compose", {
        args: ["-f", new URL("compose.yaml", ROOT).pathname, "--env-file", `${dir}/.env`, "config"],
        stdout: "piped",
        stderr: "piped",
        env: { PATH: Deno.env.get("PATH") ?? "" },
        clearEnv: true,
      }).output();
      assert.notEqual(bare.code, 0);
      assert.match(new TextDecoder().decode(bare.stderr), /set [A-Z_]+ in \.env/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("stack - compose, the installer, the fixture and the documentation name one LiveKit version", async () => {
  const compose = await read("compose.yaml");
  const version = /image: livekit\/livekit-server:(v[0-9.]+)/.exec(compose)![1];
  const { LIVEKIT_VERSION, LIVEKIT_BIN } = await import("./media.ts");
  assert.equal(LIVEKIT_VERSION, version);
  if (!Deno.env.get("LIVEKIT_SERVER")) {
    assert.ok(LIVEKIT_BIN.includes(`livekit-${version}/`) || LIVEKIT_BIN === "livekit-server");
  }
  const readme = await documentation();
  const named = new Set([...readme.matchAll(/LiveKit (v\d+\.\d+\.\d+)/g)].map((m) => m[1]));
  assert.deepEqual(named, new Set([version]));
  assert.ok(readme.includes(`livekit/livekit-server:${version}`));
  // The test image runs the call tests with the same LiveKit.
  const dockerfile = await read("Dockerfile");
  assert.match(dockerfile, new RegExp(`COPY --from=livekit/livekit-server:${version} `));
  // The installer reads the pin from compose.yaml rather than naming its own.
  const installer = await read("scripts/install_media.sh");
  assert.ok(!/v1\.\d+\.\d+/.test(installer), "install_media.sh names no version of its own");
  assert.match(installer, /livekit-server:/);
});

Deno.test("stack - an https deployment that cannot work is refused, naming each problem", async () => {
  const production = {
    PUBLIC_URL: "https://meet.example.com",
    LIVEKIT_URL: "wss://livekit.example.com",
    APP_DOMAIN: "meet.example.com",
    LIVEKIT_DOMAIN: "livekit.example.com",
    TURN_DOMAIN: "turn.example.com",
    ACME_EMAIL: "ops@example.com",
    TRUST_PROXY: "true",
    PUBLIC_IP: "203.0.113.7",
  };
  assert.deepEqual(deploymentProblems(production), []);
  // A laptop (http) is not checked.
  assert.deepEqual(
    deploymentProblems({ PUBLIC_URL: "http://localhost:8000", PUBLIC_IP: "127.0.0.1" }),
    [],
  );
  const cases: [Record<string, string>, RegExp][] = [
    [{ PUBLIC_IP: "127.0.0.1" }, /PUBLIC_IP is 127\.0\.0\.1, a loopback address.*never send media/],
    [{ PUBLIC_IP: "0.0.0.0" }, /PUBLIC_IP is 0\.0\.0\.0/],
    [{ PUBLIC_IP: "169.254.10.1" }, /link-local/],
    [{ APP_DOMAIN: "" }, /APP_DOMAIN is missing/],
    [{ TURN_DOMAIN: "localhost" }, /TURN_DOMAIN is "localhost": it must be a public DNS name/],
    [{ TURN_DOMAIN: "meet.example.com" }, /three different names/],
    [
      { PUBLIC_URL: "https://other.example.com" },
      /PUBLIC_URL is https:\/\/other\.example\.com: with the tls profile it is https:\/\/meet\.example\.com/,
    ],
    [
      { LIVEKIT_URL: "ws://livekit.example.com" },
      /LIVEKIT_URL is "ws:\/\/livekit\.example\.com": with the tls profile it is wss:\/\/livekit\.example\.com/,
    ],
    [{ ACME_EMAIL: "" }, /ACME_EMAIL is missing/],
    [{ TRUST_PROXY: "false" }, /TRUST_PROXY must be true/],
  ];
  for (const [change, message] of cases) {
    const problems = deploymentProblems({ ...production, ...change });
    assert.equal(problems.length, 1, `${JSON.stringify(change)}: ${problems.join("; ")}`);
    assert.match(problems[0], message);
  }
  // A private address works only on its network: a warning, not a refusal.
  const warnings: string[] = [];
  assert.deepEqual(deploymentProblems({ ...production, PUBLIC_IP: "10.0.0.5" }, warnings), []);
  assert.match(warnings[0], /private address/);

  // The config service's command: it refuses before writing anything, and says why.
  const dir = await Deno.makeTempDir();
  try {
    const render = (env: Record<string, string>) =>
      new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          `--allow-read=${new URL("livekit", ROOT).pathname}`,
          `--allow-write=${dir}`,
          "--allow-env",
          new URL("scripts/render_stack_config.ts", ROOT).pathname,
          ...(Deno.uid() === 0 ? ["--owner=65534:65534"] : []),
          new URL("livekit", ROOT).pathname,
          dir,
        ],
        clearEnv: true,
        env: {
          PATH: Deno.env.get("PATH") ?? "",
          LIVEKIT_API_KEY: "urbania",
          LIVEKIT_API_SECRET: "a".repeat(64),
          TURN_SECRET: "b".repeat(64),
          LIVEKIT_WEBHOOK_URL: "http://app:8000/api/livekit/webhook",
          ...production,
          ...env,
        },
        stdout: "piped",
        stderr: "piped",
      }).output();
    const refused = await render({ PUBLIC_IP: "127.0.0.1" });
    assert.equal(refused.code, 1);
    assert.match(new TextDecoder().decode(refused.stderr), /PUBLIC_IP is 127\.0\.0\.1/);
    assert.deepEqual([...Deno.readDirSync(dir)], [], "nothing written");
    const written = await render({});
    assert.equal(written.code, 0, new TextDecoder().decode(written.stderr));
    for (const name of STACK_TEMPLATES) {
      const info = await Deno.stat(`${dir}/${name}`);
      assert.equal(info.mode! & 0o777, 0o600, name);
      // As root (the config service), the files go to LiveKit's and coturn's user.
      if (Deno.uid() === 0) assert.equal(info.uid, 65534, name);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("stack - Caddy, its layer4 module and coturn: one pin each, run by the tests", async () => {
  const dockerfile = await read("Dockerfile");
  const media = await import("./media.ts");
  const arg = (n: string) => new RegExp(`^ARG ${n}=(\\S+)$`, "m").exec(dockerfile)![1];
  assert.equal(media.CADDY_VERSION, arg("CADDY_VERSION"));
  assert.equal(media.CADDY_L4_VERSION, arg("CADDY_L4_VERSION"));
  assert.equal(media.COTURN_VERSION, arg("COTURN_VERSION"));
  // The caddy stage builds those versions on the same Caddy release's images.
  const bare = media.CADDY_VERSION.slice(1);
  assert.match(dockerfile, new RegExp(`^FROM caddy:${bare}-builder AS caddy-build$`, "m"));
  assert.match(dockerfile, new RegExp(`^FROM caddy:${bare}-alpine AS caddy$`, "m"));
  assert.match(
    dockerfile,
    /xcaddy build \$\{CADDY_VERSION\} --with github.com\/mholt\/caddy-l4@\$\{CADDY_L4_VERSION\}/,
  );
  assert.match(dockerfile, /apt-get install .*coturn=\$\{COTURN_VERSION\}/);
  // compose builds the proxy and the relay from those stages.
  const s = parse(await read("compose.yaml")).services;
  assert.equal(s.caddy.build.target, "caddy");
  assert.equal(s.coturn.build.target, "coturn");
  // The installer reads the pins rather than naming its own.
  const installer = await read("scripts/install_media.sh");
  assert.ok(
    !installer.includes(media.CADDY_VERSION) && !installer.includes(media.CADDY_L4_VERSION),
  );
  assert.match(installer, /ARG CADDY_VERSION/);
  // The documentation names the versions the stack runs.
  const readme = await documentation();
  for (
    const v of [`Caddy ${media.CADDY_VERSION}`, `layer4 ${media.CADDY_L4_VERSION}`, "coturn 4.6.1"]
  ) {
    assert.ok(readme.includes(v), `the documentation names ${v}`);
  }
  assert.ok(!/coturn\/coturn:|caddy:2\.10/.test(readme + JSON.stringify(s)), "no other pins left");
});

Deno.test("stack - a changed secret or address re-creates what holds it", async () => {
  const env = await filledEnv();
  const compose = parse(await read("compose.yaml"));
  const fixed = ["LIVEKIT_WEBHOOK_URL"];
  // Every value a media server's rendered file is made of is in its own definition.
  for (const [svc, file] of [["livekit", "livekit.yaml"], ["coturn", "turnserver.conf"]]) {
    const inputs = String(compose.services[svc].environment.URBANIA_CONFIG_INPUTS);
    for (const p of placeholders(await read(`livekit/${file}`))) {
      if (!fixed.includes(p)) assert.ok(inputs.includes(`\${${p}`), `${svc} changes with ${p}`);
    }
  }
  // So compose sees a different service (and re-creates it) when one changes in .env.
  const services = (e: Record<string, string>) => interpolateAll(compose, e).services;
  const before = services(env);
  const changed = (name: string) => {
    const after = services({ ...env, [name]: `${env[name]}0` });
    // (The doctor is a one-off run, not a service that stays up.)
    return Object.keys(before).filter((k) =>
      k !== "doctor" && JSON.stringify(before[k]) !== JSON.stringify(after[k])
    ).sort();
  };
  assert.deepEqual(changed("TURN_SECRET"), ["config", "coturn", "livekit"]);
  assert.deepEqual(changed("LIVEKIT_API_SECRET"), ["app", "config", "livekit"]);
  assert.deepEqual(changed("PUBLIC_IP"), ["config", "coturn", "livekit"]);
  // The deployment guide's rotation steps say so.
  const readme = await read("docs/deployment.md");
  assert.match(readme, /rotat/i);
});

Deno.test("stack - the ports the firewall must open: compose and the deployment guide agree", async () => {
  const s = parse(await read("compose.yaml")).services;
  const open = new Set<string>();
  for (const svc of Object.values<Yaml>(s)) {
    if ((svc.profiles ?? ["tls"]).every((p: string) => p !== "tls")) continue;
    for (const entry of svc.ports ?? []) {
      const text = String(entry);
      if (text.startsWith("127.0.0.1:")) continue;
      const [spec, proto = "tcp"] = text.split("/");
      open.add(`${spec.split(":").at(-1)}/${proto}`);
    }
  }
  assert.deepEqual(
    [...open].sort(),
    ["3478/udp", "443/tcp", "49160-49359/udp", "50000-50100/udp", "7881/tcp", "80/tcp"],
  );
  const readme = await read("docs/deployment.md");
  const step = /^3\. \*\*Firewall\.\*\*[\s\S]*?(?=^\d\. )/m.exec(readme)![0];
  const listed = new Set([...step.matchAll(/`(\d+(?:-\d+)?\/(?:tcp|udp))`/g)].map((m) => m[1]));
  assert.deepEqual([...listed].sort(), [...open].sort());
});

Deno.test("stack - a process that exits is started again: compose restart policies and the systemd unit", async () => {
  const s = parse(await read("compose.yaml")).services;
  for (const name of ["postgres", "livekit", "coturn", "app", "caddy"]) {
    assert.equal(s[name].restart, "unless-stopped", `${name} restarts`);
  }
  const unit = await read("deploy/urbania.service");
  const setting = (key: string) =>
    unit.split("\n").filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1));
  assert.deepEqual(setting("Restart"), ["always"]);
  assert.deepEqual(setting("StartLimitIntervalSec"), ["0"], "never gives up restarting");
  assert.ok(Number(setting("RestartSec")[0]) > 0);
  // The unit runs the app with the permissions the image runs it with.
  const image = (await read("Dockerfile")).match(/^CMD (\[.*"main\.ts"\])$/m);
  assert.ok(image, "the image's CMD");
  const flags = (args: string[]) => args.filter((a) => a.startsWith("--allow")).sort();
  assert.deepEqual(
    flags(setting("ExecStart")[0].split(" ")),
    flags(JSON.parse(image[1])),
  );
  // systemd itself reads the unit without a complaint.
  const verify = await new Deno.Command("systemd-analyze", {
    args: ["verify", new URL("deploy/urbania.service", ROOT).pathname],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const complaints = new TextDecoder().decode(verify.stderr) +
    new TextDecoder().decode(verify.stdout);
  assert.equal(verify.code, 0, complaints);
  assert.equal(complaints.trim(), "", complaints);
});
