// Test fixtures: a fresh PostgreSQL database per app, the app served on a real port, and a
// small HTTP client. Every database made here is dropped by `stop()`.
import { type Assets, AssetsMissing, loadAssets } from "../lib/server/assets.ts";
import { type Config, loadConfig } from "../lib/platform/config.ts";
import { createDb, type Sql } from "../lib/platform/db.ts";
import { type GuardOptions, serveGuarded } from "../lib/server/guard.ts";
import { createLogger } from "../lib/platform/log.ts";
import { migrate } from "../lib/platform/migrate.ts";
import { Realtime, type RealtimeOptions } from "../lib/realtime/realtime.ts";
import { SessionStore } from "../lib/accounts/sessions.ts";
import { passwordPool } from "../lib/accounts/passwords.ts";
import { type AppOptions, createApp } from "../routes/app.ts";

export const ADMIN_URL = Deno.env.get("TEST_DATABASE_ADMIN_URL") ??
  "postgres://postgres@127.0.0.1:5432/postgres";

/** Where PostgreSQL listens, for tests that put a proxy in front of it. */
export const DATABASE_ADDRESS = {
  hostname: new URL(ADMIN_URL).hostname,
  port: Number(new URL(ADMIN_URL).port || 5432),
};

/** The origin the test app believes it is served from. */
export const ORIGIN = "http://localhost:8000";

export const TEST_SESSION_SECRET = "test-session-secret-0123456789-abcdefghijklmnop";
export const TEST_LIVEKIT_KEY = "testkey";
export const TEST_LIVEKIT_SECRET = "test-livekit-secret-0123456789-abcdefghijklmnop";

export function testEnv(databaseUrl: string): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    SESSION_SECRET: TEST_SESSION_SECRET,
    PUBLIC_URL: ORIGIN,
    LIVEKIT_URL: "ws://127.0.0.1:7880",
    LIVEKIT_API_KEY: TEST_LIVEKIT_KEY,
    LIVEKIT_API_SECRET: TEST_LIVEKIT_SECRET,
    LOG_LEVEL: "debug",
  };
}

let assetsOnce: Promise<Assets | null> | undefined;
/** The browser bundle, when `deno task build` made one (the test task builds first). */
export function builtAssets(): Promise<Assets | null> {
  assetsOnce ??= loadAssets().catch((err) => {
    if (err instanceof AssetsMissing) return null;
    throw err;
  });
  return assetsOnce;
}

export { freePort } from "../ops/ports.ts";

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** Creates an empty database with a unique name. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `urbania_test_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  const admin = createDb(ADMIN_URL, { max: 1 });
  try {
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.href,
    async drop() {
      const admin = createDb(ADMIN_URL, { max: 1 });
      try {
        await admin.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await admin.end();
      }
    },
  };
}

export interface TestApp {
  base: string;
  config: Config;
  /** The app's own pool. */
  sql: Sql;
  db: TestDatabase;
  /** Every log line the app wrote. */
  logs: string[];
  realtime: Realtime;
  stop(): Promise<void>;
}

/** Apps started and not yet stopped in this process. */
let running = 0;

/** A migrated database and the app serving it on 127.0.0.1 with a free port. */
export async function startApp(
  options: Partial<Omit<AppOptions, "config" | "sql" | "log" | "realtime">> & {
    /** Settings of the app's socket hub (short heartbeats, small queues). */
    realtime?: Partial<RealtimeOptions>;
    /** Use this database (already migrated) instead of a fresh one: a second instance. */
    shareDatabase?: TestDatabase;
    env?: Record<string, string>;
    /** The app's pool: its size and how long a query waits for a connection. */
    pool?: { max?: number; connectTimeoutMs?: number };
    /** Connect the app through this URL instead of straight to the test database. */
    databaseUrl?: (db: TestDatabase) => string;
    /** Serve on this port (default: any free one). */
    port?: number;
    /** Listen on this address (default 127.0.0.1): the app's link of a test network. */
    hostname?: string;
    /** The connection guard's bounds (short timeouts); false: Deno's server alone. */
    guard?: Partial<GuardOptions> | false;
  } = {},
): Promise<TestApp> {
  const db = options.shareDatabase ?? await createTestDatabase();
  const config = loadConfig({
    ...testEnv(options.databaseUrl?.(db) ?? db.url),
    ...options.env,
  });
  if (!options.shareDatabase) {
    const setup = createDb(db.url, { max: 1 });
    await migrate(setup);
    await setup.end();
  }
  const logs: string[] = [];
  const log = createLogger("debug", (_level, line) => logs.push(line));
  const sql = createDb(config.databaseUrl, { log, ...options.pool });
  const realtime = new Realtime(sql, config, log, options.realtime);
  await realtime.start();
  const app = createApp({
    assets: await builtAssets(),
    ...options,
    config,
    sql,
    log,
    realtime,
  });
  const listen = { hostname: options.hostname ?? "127.0.0.1", port: options.port ?? 0 };
  const server = options.guard === false
    ? Deno.serve({ ...listen, onListen: () => {} }, app.fetch)
    : serveGuarded(listen, app.fetch, options.guard);
  running++;
  return {
    base: `http://${listen.hostname}:${server.addr.port}`,
    config,
    sql,
    db,
    logs,
    realtime,
    async stop() {
      await realtime.stop();
      await server.shutdown();
      await sql.end({ timeout: 1 });
      if (!options.shareDatabase) await db.drop();
      // The password workers keep a process alive: the last app to stop ends them, as the
      // server's shutdown does (a later app starts new ones).
      if (--running === 0) passwordPool.close();
    },
  };
}

/** Runs `fn` against a fresh app and database, then stops both. */
export async function withApp(
  fn: (app: TestApp) => Promise<void>,
  options: Parameters<typeof startApp>[0] = {},
): Promise<void> {
  const app = await startApp(options);
  try {
    await fn(app);
  } finally {
    await app.stop();
  }
}

export interface Reply {
  status: number;
  headers: Headers;
  // deno-lint-ignore no-explicit-any
  body: any;
}

export interface CallOptions {
  json?: unknown;
  /** A raw body, sent as is. */
  body?: string;
  token?: string;
  cookie?: string;
  /** The Origin header; defaults to the app's own for unsafe methods. Null sends none. */
  origin?: string | null;
  headers?: Record<string, string>;
}

/** One HTTP request to the test app; the body is read and parsed as JSON when it is JSON. */
export async function call(
  app: { base: string; config?: Config },
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Reply> {
  const headers = new Headers(options.headers);
  if (options.json !== undefined) headers.set("Content-Type", "application/json");
  if (options.token) headers.set("Authorization", `Bearer ${options.token}`);
  if (options.cookie) headers.set("Cookie", options.cookie);
  const own = app.config?.publicUrl ?? ORIGIN;
  const origin = options.origin === undefined && method !== "GET" ? own : options.origin;
  if (origin) headers.set("Origin", origin);
  const res = await fetch(app.base + path, {
    method,
    headers,
    body: options.json !== undefined ? JSON.stringify(options.json) : options.body,
    // Redirects are answers to assert on, not to follow.
    redirect: "manual",
    // A request the app never answers fails its test rather than holding up the suite.
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  const isJson = res.headers.get("Content-Type")?.includes("application/json");
  return {
    status: res.status,
    headers: res.headers,
    body: isJson && text ? JSON.parse(text) : text,
  };
}

let counter = 0;

export interface TestUser {
  id: string;
  email: string;
  display_name: string;
  password: string;
  token: string;
  /** `name=value` of the session cookie. */
  cookie: string;
}

/** Registers a fresh account and returns its credentials. */
export async function registerUser(
  app: { base: string },
  fields: { email?: string; display_name?: string; password?: string } = {},
): Promise<TestUser> {
  const n = ++counter;
  const input = {
    email: fields.email ?? `user${n}-${crypto.randomUUID().slice(0, 8)}@example.test`,
    display_name: fields.display_name ?? `User ${n}`,
    password: fields.password ?? `correct horse ${n}`,
  };
  const res = await call(app, "POST", "/api/auth/register", { json: input });
  if (res.status !== 201) {
    throw new Error(`register failed: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return {
    ...res.body.user,
    password: input.password,
    token: res.body.access_token,
    cookie: sessionCookie(res.headers),
  };
}

/** The `name=value` pair of the session cookie a response set. */
export function sessionCookie(headers: Headers): string {
  const set = headers.getSetCookie().find((c) => c.startsWith("urbania_session="));
  if (!set) throw new Error("no session cookie was set");
  return set.split(";")[0];
}

/**
 * Many accounts at once, written straight to the database with sessions from the app's own
 * store (argon2 hashing one by one would dominate tests that need a crowd). They cannot log in
 * with a password; their tokens work like any other.
 */
export async function createUsersQuickly(app: TestApp, n: number): Promise<TestUser[]> {
  const tag = crypto.randomUUID().slice(0, 8);
  const users = await app.sql<{ id: string; email: string; display_name: string }[]>`
    insert into users (email, display_name, password_hash)
    select 'crowd' || i || '-' || ${tag}::text || '@example.test', 'Crowd ' || i, 'unusable'
    from generate_series(0, ${n - 1}::int) i
    order by i
    returning id, email, display_name`;
  const store = new SessionStore(app.sql, app.config.sessionSecret);
  return await Promise.all(users.map(async (u) => {
    const { token } = await store.create(u.id);
    return { ...u, password: "", token, cookie: `urbania_session=${token}` };
  }));
}

/**
 * Makes each of `others` a contact of `owner` through the API, as people do: `owner` asks by
 * email and the other accepts. Already contacts: nothing changes.
 */
export async function addContacts(
  app: { base: string },
  owner: { token: string },
  others: { email: string; token: string }[],
) {
  for (const o of others) {
    const asked = await call(app, "POST", "/api/contacts", {
      token: owner.token,
      json: { email: o.email },
    });
    if (asked.status !== 202) throw new Error(`contact request failed: ${asked.status}`);
    const list = await call(app, "GET", "/api/contacts/requests", { token: o.token });
    for (const req of list.body.incoming) {
      const res = await call(app, "POST", `/api/contacts/requests/${req.id}/accept`, {
        token: o.token,
      });
      if (res.status !== 200) throw new Error(`accepting a contact failed: ${res.status}`);
    }
  }
}

/** Waits until `n` sessions of this test app's database wait on a lock. */
export async function waitersOnLock(app: TestApp, n: number) {
  for (let i = 0; i < 500; i++) {
    const [{ count }] = await app.sql<{ count: number }[]>`
      select count(*)::int as count from pg_stat_activity
      where datname = ${app.db.name} and wait_event_type = 'Lock'`;
    if (count >= n) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`fewer than ${n} sessions waited on the lock`);
}
