import assert from "node:assert/strict";
import { createTestDatabase } from "../../tests/harness.ts";
import { createDb } from "./db.ts";
import { migrate, readMigrations } from "./migrate.ts";

Deno.test("migrate - applies every file once, in order, and records it", async () => {
  const db = await createTestDatabase();
  const sql = createDb(db.url, { max: 2 });
  try {
    const files = await readMigrations(new URL("../../migrations/", import.meta.url));
    assert.ok(files.length >= 1);
    assert.deepEqual(await migrate(sql), files.map((f) => f.version));
    assert.deepEqual(await migrate(sql), [], "a second run applies nothing");
    const rows = await sql`select version from schema_migrations order by version`;
    assert.deepEqual(rows.map((r) => r.version), files.map((f) => f.version));
    const tables = await sql`select table_name from information_schema.tables
      where table_schema = 'public' order by table_name`;
    for (const t of ["contacts", "rate_limits", "sessions", "users"]) {
      assert.ok(tables.some((r) => r.table_name === t), `table ${t} exists`);
    }
  } finally {
    await sql.end();
    await db.drop();
  }
});

Deno.test("migrate - instances starting together apply each migration exactly once", async () => {
  const db = await createTestDatabase();
  const pools = Array.from({ length: 5 }, () => createDb(db.url, { max: 1 }));
  try {
    const results = await Promise.all(pools.map((sql) => migrate(sql)));
    const applied = results.flat();
    const files = await readMigrations(new URL("../../migrations/", import.meta.url));
    assert.deepEqual(applied.sort(), files.map((f) => f.version).sort());
    assert.equal(results.filter((r) => r.length > 0).length, 1, "one instance did the work");
  } finally {
    await Promise.all(pools.map((sql) => sql.end()));
    await db.drop();
  }
});

Deno.test("migrate - a failing migration leaves nothing half-applied", async () => {
  const db = await createTestDatabase();
  const dir = await Deno.makeTempDir();
  const sql = createDb(db.url, { max: 1 });
  try {
    await Deno.writeTextFile(`${dir}/0001_ok.sql`, "create table a (id int);");
    await Deno.writeTextFile(`${dir}/0002_broken.sql`, "create table b (id int); select nope;");
    await assert.rejects(migrate(sql, new URL(`file://${dir}/`)));
    const [{ count }] = await sql`select count(*)::int as count from information_schema.tables
      where table_schema = 'public' and table_name in ('a', 'b', 'schema_migrations')`;
    assert.equal(count, 0);
  } finally {
    await sql.end();
    await db.drop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("migrate - one-way contacts become requests; mutual ones stay; old meetings stay open", async () => {
  const db = await createTestDatabase();
  const dir = await Deno.makeTempDir();
  const sql = createDb(db.url, { max: 1 });
  try {
    const files = await readMigrations(new URL("../../migrations/", import.meta.url));
    const before = files.filter((f) => f.version < 7);
    for (const f of before) {
      const file = `${String(f.version).padStart(4, "0")}_${f.name}.sql`;
      await Deno.writeTextFile(`${dir}/${file}`, f.sql);
    }
    await migrate(sql, new URL(`file://${dir}/`));
    const [a, b, c] = await sql<{ id: string }[]>`
      insert into users (email, display_name, password_hash)
      values ('A@x.test', 'A', 'x'), ('b@x.test', 'B', 'x'), ('c@x.test', 'C', 'x')
      returning id::text`;
    // A and B added each other; A added C, who never added A.
    await sql`insert into contacts (owner_id, contact_id) values
      (${a.id}, ${b.id}), (${b.id}, ${a.id}), (${a.id}, ${c.id})`;
    await sql`insert into rooms (id, room_name, call_type, created_by)
      values ('abcd-efgh-ijkm', 'Old', 'audio', ${a.id})`;
    const seventh = files.find((f) => f.version === 7)!;
    await Deno.writeTextFile(`${dir}/0007_${seventh.name}.sql`, seventh.sql);
    assert.deepEqual(await migrate(sql, new URL(`file://${dir}/`)), [7]);
    const pairs = await sql<{ owner: string; contact: string }[]>`
      select owner_id::text as owner, contact_id::text as contact from contacts order by 1, 2`;
    assert.deepEqual(
      pairs.map((p) => [p.owner, p.contact]).sort(),
      [[a.id, b.id], [b.id, a.id]].sort(),
    );
    const requests = await sql`
      select from_id::text, to_id::text, to_email, status from contact_requests`;
    assert.deepEqual(requests, [
      { from_id: a.id, to_id: c.id, to_email: "c@x.test", status: "pending" },
    ]);
    const [old] = await sql`select entry, locked from rooms where id = 'abcd-efgh-ijkm'`;
    assert.deepEqual(old, { entry: "open", locked: false });
    await sql`insert into rooms (id, room_name, call_type, created_by)
      values ('abcd-efgh-ijkn', 'New', 'audio', ${a.id})`;
    const [fresh] = await sql`select entry from rooms where id = 'abcd-efgh-ijkn'`;
    assert.equal(fresh.entry, "knock");
  } finally {
    await sql.end();
    await db.drop();
    await Deno.remove(dir, { recursive: true });
  }
});
