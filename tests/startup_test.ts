// Starting against a PostgreSQL that refuses this app for good: one line saying what to create
// or fix, and exit status 1 (not a stack trace, not a retry loop); and the address it listens on.
import assert from "node:assert/strict";
import { createTestDatabase } from "./harness.ts";
import { spawnServer } from "./server_process.ts";

async function exitOf(server: ReturnType<typeof spawnServer>): Promise<number> {
  const status = await Promise.race([
    server.child.status,
    new Promise<null>((r) => setTimeout(() => r(null), 20_000)),
  ]);
  if (!status) {
    await server.kill();
    assert.fail(`still running:\n${server.out.lines.join("\n")}\n${server.err.lines.join("\n")}`);
  }
  return status.code;
}

Deno.test("startup - a role or database that does not exist stops the server with one line", async () => {
  const db = await createTestDatabase();
  try {
    const url = new URL(db.url);
    const noRole = new URL(url);
    noRole.username = "urbania_no_such_role";
    const noDb = new URL(url);
    noDb.pathname = "/urbania_no_such_database";
    const at = url.host.replaceAll(".", "\\.");
    for (
      const [dbUrl, message] of [
        [
          noRole.href,
          new RegExp(
            `^PostgreSQL at ${at} has no role "urbania_no_such_role": create it .*` +
              'CREATE ROLE "urbania_no_such_role" LOGIN',
          ),
        ],
        [
          noDb.href,
          new RegExp(
            `^PostgreSQL at ${at} has no database "urbania_no_such_database": create it .*` +
              'CREATE DATABASE "urbania_no_such_database"',
          ),
        ],
      ] as const
    ) {
      const server = spawnServer(dbUrl);
      assert.equal(await exitOf(server), 1);
      await new Promise((r) => setTimeout(r, 100));
      const errors = server.err.lines.filter((l) => l.trim() !== "");
      assert.equal(errors.length, 1, errors.join("\n"));
      assert.match(errors[0], message);
      assert.deepEqual(server.out.lines.filter((l) => /"level":"(warn|error)"/.test(l)), []);
    }
  } finally {
    await db.drop();
  }
});

Deno.test("startup - the server listens on 127.0.0.1 unless HOST says otherwise", async () => {
  const db = await createTestDatabase();
  const server = spawnServer(db.url);
  try {
    const line = await server.out.waitFor(/"msg":"listening"/);
    assert.equal(JSON.parse(line).hostname, "127.0.0.1");
    const everywhere = spawnServer(db.url, { HOST: "0.0.0.0" });
    try {
      const line = await everywhere.out.waitFor(/"msg":"listening"/);
      assert.equal(JSON.parse(line).hostname, "0.0.0.0");
    } finally {
      await everywhere.kill();
    }
  } finally {
    await server.kill();
    await db.drop();
  }
});
