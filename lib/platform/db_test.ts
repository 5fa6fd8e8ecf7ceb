import assert from "node:assert/strict";
import { compile, createDb, DatabaseUnavailableError, Fragment } from "./db.ts";
import { isDatabaseUnavailable, isLostConnection } from "./errors.ts";
import { ADMIN_URL, createTestDatabase } from "../../tests/harness.ts";

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
