import assert from "node:assert/strict";
import { ConfigError, loadConfig, loadDatabaseUrl } from "./config.ts";

const valid = {
  DATABASE_URL: "postgres://app:pw@db:5432/urbania",
  SESSION_SECRET: "s".repeat(32),
  PUBLIC_URL: "https://meet.example.com/",
  LIVEKIT_URL: "wss://livekit.example.com",
  LIVEKIT_API_KEY: "key",
  LIVEKIT_API_SECRET: "l".repeat(32),
};

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  assert.fail("loadConfig accepted the environment");
}

Deno.test("config - a complete environment is read with defaults", () => {
  const c = loadConfig(valid);
  assert.equal(c.port, 8000);
  assert.equal(c.publicUrl, "https://meet.example.com");
  assert.equal(c.secureCookies, true);
  assert.equal(c.livekitUrl, "wss://livekit.example.com");
  assert.equal(c.livekitApiUrl, "https://livekit.example.com", "API URL derived from LIVEKIT_URL");
  assert.equal(c.trustProxy, false);
  assert.equal(c.logLevel, "info");
  assert.equal(c.sessionSecret.length, 32);
});

Deno.test("config - explicit values override defaults", () => {
  const c = loadConfig({
    ...valid,
    PORT: "9000",
    PUBLIC_URL: "http://localhost:9000",
    LIVEKIT_API_URL: "http://livekit:7880/",
    TRUST_PROXY: "true",
    LOG_LEVEL: "WARN",
  });
  assert.equal(c.port, 9000);
  assert.equal(c.secureCookies, false);
  assert.equal(c.livekitApiUrl, "http://livekit:7880");
  assert.equal(c.trustProxy, true);
  assert.equal(c.logLevel, "warn");
});

Deno.test("config - an empty environment names every required variable", () => {
  const found = problems({});
  for (
    const name of [
      "DATABASE_URL",
      "SESSION_SECRET",
      "PUBLIC_URL",
      "LIVEKIT_URL",
      "LIVEKIT_API_KEY",
      "LIVEKIT_API_SECRET",
    ]
  ) {
    assert.ok(found.some((p) => p.startsWith(`${name} is missing`)), `${name} not named: ${found}`);
  }
  assert.equal(found.length, 6);
});

Deno.test("config - malformed values are each named", () => {
  const found = problems({
    ...valid,
    DATABASE_URL: "mysql://x",
    SESSION_SECRET: "short",
    PUBLIC_URL: "https://meet.example.com/app",
    PORT: "80a",
    LIVEKIT_URL: "not a url",
    LIVEKIT_API_SECRET: "tiny",
    TRUST_PROXY: "maybe",
    LOG_LEVEL: "loud",
  });
  const expected = [
    /^DATABASE_URL must use postgres/,
    /^SESSION_SECRET must be at least 32 bytes \(got 5\)/,
    /^PUBLIC_URL must be an origin/,
    /^PORT must be a whole number/,
    /^LIVEKIT_URL is not a valid URL/,
    /^LIVEKIT_API_SECRET must be at least 32 characters/,
    /^TRUST_PROXY must be true or false/,
    /^LOG_LEVEL must be one of/,
  ];
  for (const re of expected) assert.ok(found.some((p) => re.test(p)), `${re} not in ${found}`);
  assert.equal(found.length, expected.length);
});

Deno.test("config - the port must be in range", () => {
  assert.ok(problems({ ...valid, PORT: "70000" }).some((p) => p.startsWith("PORT")));
  assert.ok(problems({ ...valid, PORT: "0" }).some((p) => p.startsWith("PORT")));
});

Deno.test("config - calls ring 60 s unless INVITE_RING_SECONDS says otherwise, within 1 to 600", () => {
  assert.equal(loadConfig(valid).inviteRingSeconds, 60);
  assert.equal(loadConfig({ ...valid, INVITE_RING_SECONDS: "30" }).inviteRingSeconds, 30);
  for (const bad of ["0", "601", "1.5", "soon"]) {
    assert.ok(
      problems({ ...valid, INVITE_RING_SECONDS: bad }).some((p) =>
        p.startsWith("INVITE_RING_SECONDS must be a whole number from 1 to 600")
      ),
      bad,
    );
  }
});

Deno.test("config - the migration command needs only DATABASE_URL", () => {
  assert.equal(loadDatabaseUrl({ DATABASE_URL: valid.DATABASE_URL }), valid.DATABASE_URL);
  assert.throws(() => loadDatabaseUrl({}), /DATABASE_URL is missing/);
});

Deno.test("config - the server refuses to start and names each problem", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", "--allow-read=.", "main.ts"],
    cwd: new URL("../..", import.meta.url),
    env: {
      SESSION_SECRET: "short",
      PATH: Deno.env.get("PATH") ?? "",
      HOME: Deno.env.get("HOME") ?? "",
    },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 1, stderr);
  for (const name of ["DATABASE_URL", "SESSION_SECRET", "PUBLIC_URL", "LIVEKIT_API_KEY"]) {
    assert.match(stderr, new RegExp(name));
  }
});

Deno.test("config - an https page cannot reach LiveKit over ws://; HOST and METRICS_TOKEN", () => {
  assert.match(
    problems({ ...valid, LIVEKIT_URL: "ws://livekit.example.com" }).join("\n"),
    /LIVEKIT_URL must be wss:\/\/ when PUBLIC_URL is https/,
  );
  // A laptop's http page may use ws://.
  assert.equal(
    loadConfig({
      ...valid,
      PUBLIC_URL: "http://localhost:8000",
      LIVEKIT_URL: "ws://localhost:7880",
    })
      .livekitUrl,
    "ws://localhost:7880",
  );
  // The server listens on this machine only unless told otherwise.
  assert.equal(loadConfig(valid).host, "127.0.0.1");
  assert.equal(loadConfig({ ...valid, HOST: "0.0.0.0" }).host, "0.0.0.0");
  assert.match(problems({ ...valid, HOST: "every where" }).join("\n"), /HOST must be an address/);
  assert.equal(loadConfig(valid).metricsToken, "");
  assert.match(
    problems({ ...valid, METRICS_TOKEN: "short" }).join("\n"),
    /METRICS_TOKEN must be at least 32 characters/,
  );
});
