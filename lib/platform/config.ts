/** Application settings, read once from the environment and validated at start. */
export interface Config {
  databaseUrl: string;
  sessionSecret: Uint8Array;
  /** Origin browsers use (PUBLIC_URL); cookie-authenticated writes must come from it. */
  publicUrl: string;
  /** True when PUBLIC_URL is https: cookies are then marked Secure. */
  secureCookies: boolean;
  port: number;
  /** Address the server listens on (HOST): 127.0.0.1 unless told, e.g. 0.0.0.0 in a container. */
  host: string;
  livekitUrl: string;
  livekitApiUrl: string;
  livekitApiKey: string;
  livekitApiSecret: string;
  /** Use the last X-Forwarded-For hop as the client address (behind a reverse proxy). */
  trustProxy: boolean;
  logLevel: "debug" | "info" | "warn" | "error";
  /** Seconds a call rings before it counts as missed (INVITE_RING_SECONDS, default 60). */
  inviteRingSeconds: number;
  /** Seconds a knock waits in a meeting's lobby before it expires (KNOCK_SECONDS, default 300). */
  knockSeconds: number;
  /** Bearer token that also opens GET /metrics from elsewhere than loopback ("" = none). */
  metricsToken: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;

/** Collects every problem while settings are read, so one error can name them all. */
class EnvReader {
  readonly problems: string[] = [];
  constructor(private env: Env) {}

  value(name: string): string | undefined {
    const v = this.env[name]?.trim();
    return v === "" ? undefined : v;
  }

  required(name: string, hint: string): string {
    const v = this.value(name);
    if (v === undefined) this.problems.push(`${name} is missing (${hint})`);
    return v ?? "";
  }

  url(name: string, raw: string, schemes: string[]): URL | undefined {
    if (raw === "") return undefined;
    try {
      const u = new URL(raw);
      if (schemes.includes(u.protocol)) return u;
      this.problems.push(`${name} must use ${schemes.join(" or ")} (got ${u.protocol})`);
    } catch {
      this.problems.push(`${name} is not a valid URL`);
    }
    return undefined;
  }

  /** An optional whole number within bounds, or `fallback` when unset. */
  wholeNumber(name: string, fallback: number, min: number, max: number): number {
    const raw = this.value(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < min || n > max) {
      this.problems.push(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
    }
    return n;
  }

  databaseUrl(): string {
    const raw = this.required("DATABASE_URL", "postgres://user:password@host:5432/database");
    this.url("DATABASE_URL", raw, ["postgres:", "postgresql:"]);
    return raw;
  }

  done() {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
  }
}

/** Reads only DATABASE_URL (for tools such as the migration command). */
export function loadDatabaseUrl(env: Env): string {
  const r = new EnvReader(env);
  const url = r.databaseUrl();
  r.done();
  return url;
}

/** Reads and validates every setting; throws one ConfigError naming each problem. */
export function loadConfig(env: Env): Config {
  const r = new EnvReader(env);
  const problems = r.problems;
  const databaseUrl = r.databaseUrl();

  const sessionSecretRaw = r.required(
    "SESSION_SECRET",
    "at least 32 random bytes, e.g. `openssl rand -hex 32`",
  );
  const sessionSecret = new TextEncoder().encode(sessionSecretRaw);
  if (sessionSecretRaw !== "" && sessionSecret.length < 32) {
    problems.push(`SESSION_SECRET must be at least 32 bytes (got ${sessionSecret.length})`);
  }

  const publicUrlRaw = r.required(
    "PUBLIC_URL",
    "the address browsers use, e.g. https://meet.example.com",
  );
  const publicUrl = r.url("PUBLIC_URL", publicUrlRaw, ["http:", "https:"]);
  if (publicUrl && (publicUrl.pathname !== "/" || publicUrl.search || publicUrl.hash)) {
    problems.push("PUBLIC_URL must be an origin without a path, query or fragment");
  }

  const port = r.wholeNumber("PORT", 8000, 1, 65535);
  const host = r.value("HOST") ?? "127.0.0.1";
  if (!/^([0-9.]+|[0-9a-f:]+|[a-z0-9.-]+)$/i.test(host)) {
    problems.push(
      `HOST must be an address to listen on, e.g. 127.0.0.1 or 0.0.0.0 (got "${host}")`,
    );
  }

  const livekitUrlRaw = r.required(
    "LIVEKIT_URL",
    "the LiveKit address browsers use, e.g. wss://livekit.example.com",
  );
  const livekitUrl = r.url("LIVEKIT_URL", livekitUrlRaw, ["ws:", "wss:", "http:", "https:"]);
  if (
    publicUrl?.protocol === "https:" && livekitUrl && !/^(wss|https):$/.test(livekitUrl.protocol)
  ) {
    problems.push(
      `LIVEKIT_URL must be wss:// when PUBLIC_URL is https (got ${livekitUrl.protocol}//): ` +
        "browsers refuse an unencrypted connection from an https page",
    );
  }
  const livekitApiUrlRaw = r.value("LIVEKIT_API_URL");
  let livekitApiUrl = "";
  if (livekitApiUrlRaw !== undefined) {
    livekitApiUrl = r.url("LIVEKIT_API_URL", livekitApiUrlRaw, ["http:", "https:"])?.href ?? "";
  } else if (livekitUrl) {
    // Server-to-server calls default to the browsers' address, over http(s).
    const u = new URL(livekitUrl.href);
    u.protocol = u.protocol === "wss:" ? "https:" : u.protocol === "ws:" ? "http:" : u.protocol;
    livekitApiUrl = u.href;
  }

  const livekitApiKey = r.required("LIVEKIT_API_KEY", "the key named in livekit.yaml");
  const livekitApiSecret = r.required(
    "LIVEKIT_API_SECRET",
    "the secret paired with LIVEKIT_API_KEY",
  );
  if (livekitApiSecret !== "" && livekitApiSecret.length < 32) {
    problems.push(
      `LIVEKIT_API_SECRET must be at least 32 characters (got ${livekitApiSecret.length})`,
    );
  }

  let trustProxy = false;
  const trustProxyRaw = r.value("TRUST_PROXY");
  if (trustProxyRaw !== undefined) {
    if (/^(true|1|yes)$/i.test(trustProxyRaw)) trustProxy = true;
    else if (!/^(false|0|no)$/i.test(trustProxyRaw)) {
      problems.push(`TRUST_PROXY must be true or false (got "${trustProxyRaw}")`);
    }
  }

  const logLevelRaw = r.value("LOG_LEVEL") ?? "info";
  const logLevel = LOG_LEVELS.find((l) => l === logLevelRaw.toLowerCase());
  if (!logLevel) {
    problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")} (got "${logLevelRaw}")`);
  }

  const inviteRingSeconds = r.wholeNumber("INVITE_RING_SECONDS", 60, 1, 600);
  const knockSeconds = r.wholeNumber("KNOCK_SECONDS", 300, 1, 3600);
  const metricsToken = r.value("METRICS_TOKEN") ?? "";
  if (metricsToken !== "" && metricsToken.length < 32) {
    problems.push(`METRICS_TOKEN must be at least 32 characters (got ${metricsToken.length})`);
  }

  r.done();
  return {
    inviteRingSeconds,
    knockSeconds,
    metricsToken,
    databaseUrl,
    sessionSecret,
    publicUrl: publicUrl!.origin,
    secureCookies: publicUrl!.protocol === "https:",
    port,
    host,
    livekitUrl: livekitUrlRaw.replace(/\/+$/, ""),
    livekitApiUrl: livekitApiUrl.replace(/\/+$/, ""),
    livekitApiKey,
    livekitApiSecret,
    trustProxy,
    logLevel: logLevel!,
  };
}
