import assert from "node:assert/strict";
import { compile, createDb, DatabaseBusyError, DatabaseUnavailableError, Fragment } from "./db.ts";
import { isDatabaseBusy, isDatabaseUnavailable, isLostConnection } from "./errors.ts";
import { ADMIN_URL, call, createTestDatabase, registerUser, withApp } from "../../tests/harness.ts";

const tag = (strings: TemplateStringsArray, ...values: unknown[]) => new Fragment(strings, values);

Deno.test("db - fragments are inlined and every value becomes the next placeholder", () => {
  const where = tag`a = ${1} and b = any(${["x", "y"]}::text[])`;
  const q = compile(tag`select ${tag`c`} from t where ${where} and d = ${"z"} limit ${5}`);
  assert.equal(q.text, "select c from t where a = $1 and b = any($2::text[]) and d = $3 limit $4");
  assert.deepEqual(q.values, [1, ["x", "y"], "z", 5]);
  assert.throws(() => compile(tag`select ${undefined}`), /undefined value/);
});

Deno.test("db - a transaction commits when its function resolves and rolls back when it throws", async () => {
  const db = await createTestDatabase();
  const sql = createDb(db.url, { max: 2 });
  try {
    await sql`create table t (n int primary key)`;
    assert.equal(
      await sql.begin(async (tx) => (await tx`insert into t values (1) returning n`)[0].n),
      1,
    );
    await assert.rejects(
      sql.begin(async (tx) => {
        await tx`insert into t values (2)`;
        throw new Error("changed my mind");
      }),
      /changed my mind/,
    );
    // A constraint the server enforces: its SQLSTATE comes through, and nothing is kept.
    const dup = await sql.begin(async (tx) => {
      await tx`insert into t values (3)`;
      await tx`insert into t values (1)`;
    }).catch((e) => e);
    assert.equal(dup.code, "23505");
    assert.equal(isDatabaseUnavailable(dup), false);
    // Queries made at once inside a transaction go out in order on its one connection.
    await sql.begin((tx) => Promise.all([4, 5, 6].map((n) => tx`insert into t values (${n})`)));
    assert.deepEqual((await sql`select n from t order by n`).map((r) => r.n), [1, 4, 5, 6]);
    assert.equal(sql.stats().waiting, 0);
  } finally {
    await sql.end();
    await db.drop();
  }
});

Deno.test("db - no connection to be had is DB_CONNECT_FAILED: nothing listening, a database refusing connections", async () => {
  const nowhere = createDb("postgres://postgres@127.0.0.1:9/none", { max: 1 });
  const refused = await nowhere`select 1`.then(() => null, (e) => e);
  await nowhere.end();
  assert.ok(refused instanceof DatabaseUnavailableError);
  assert.equal(refused.code, "DB_CONNECT_FAILED");
  assert.ok(isDatabaseUnavailable(refused));
  assert.equal(isLostConnection(refused), false, "not retried as a dead pooled connection");

  // SQLSTATE 55000: "database … is not currently accepting connections".
  const db = await createTestDatabase();
  const admin = createDb(ADMIN_URL, { max: 1 });
  const sql = createDb(db.url, { max: 1 });
  try {
    await admin.unsafe(`alter database ${db.name} with allow_connections false`);
    const closed = await sql`select 1`.then(() => null, (e) => e as DatabaseUnavailableError);
    assert.equal(closed?.code, "DB_CONNECT_FAILED");
    assert.equal((closed?.cause as { code?: string }).code, "55000");
    assert.ok(isDatabaseUnavailable(closed));
    await admin.unsafe(`alter database ${db.name} with allow_connections true`);
    assert.equal((await sql`select 1 as one`)[0].one, 1, "answers as soon as it accepts again");
  } finally {
    await sql.end();
    await admin.end();
    await db.drop();
  }
});

Deno.test("db - a pool whose connections all stay in use is busy, not a database that is away", async () => {
  const db = await createTestDatabase();
  const sql = createDb(db.url, { max: 1, connectTimeoutMs: 300 });
  // A server that accepts connections and never answers: a database that is away.
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  (async () => {
    for await (const c of silent) held.push(c);
  })().catch(() => {});
  const away = createDb(`postgres://postgres@127.0.0.1:${silent.addr.port}/none`, {
    max: 1,
    connectTimeoutMs: 300,
  });
  try {
    let release = () => {};
    let inUse = () => {};
    const used = new Promise<void>((r) => inUse = r);
    const holding = sql.begin(async (tx) => {
      await tx`select 1`;
      inUse();
      await new Promise<void>((r) => release = r);
    });
    // The only connection is in use for longer than the wait.
    await used;
    const busy = await sql`select 1`.then(() => null, (e) => e);
    assert.ok(busy instanceof DatabaseBusyError, String(busy));
    assert.equal(busy.code, "DB_POOL_BUSY");
    assert.ok(isDatabaseBusy(busy));
    assert.equal(isDatabaseUnavailable(busy), false);
    release();
    await holding;
    assert.equal((await sql`select 1 as one`)[0].one, 1, "served once a connection is free");

    const gone = await away`select 1`.then(() => null, (e) => e);
    assert.ok(gone instanceof DatabaseUnavailableError, String(gone));
    assert.equal(gone.code, "DB_CONNECT_FAILED");
    assert.equal(isDatabaseBusy(gone), false);
  } finally {
    await sql.end();
    await away.end();
    silent.close();
    for (const c of held) c.close();
    await db.drop();
  }
});

Deno.test("db - the API answers a full pool with 503 busy and a short Retry-After", () =>
  withApp(async (app) => {
    const user = await registerUser(app);
    let release = () => {};
    const gate = new Promise<void>((r) => release = r);
    let entered = 0;
    let both = () => {};
    const bothIn = new Promise<void>((r) => both = r);
    const holders = [0, 1].map(() =>
      app.sql.begin(async (tx) => {
        await tx`select 1`;
        if (++entered === 2) both();
        await gate;
      })
    );
    // Both connections are handed out, and stay so.
    await bothIn;
    const res = await call(app, "GET", "/api/auth/me", { token: user.token });
    release();
    await Promise.all(holders);
    assert.equal(res.status, 503, JSON.stringify(res.body));
    assert.equal(res.body.error.code, "busy");
    assert.equal(res.headers.get("Retry-After"), "1");
    assert.equal((await call(app, "GET", "/api/auth/me", { token: user.token })).status, 200);
  }, { pool: { max: 2, connectTimeoutMs: 300 } }));
