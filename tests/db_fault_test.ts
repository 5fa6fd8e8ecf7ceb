// The process survives connections dying under it. These faults once ended it: postgres.js
// (3.4.9) wrote to a closed socket from a setImmediate when a transaction's connection was
// terminated mid-query (an uncaught TypeError), and left connections unable to send again.
import assert from "node:assert/strict";
import { createDb } from "../lib/platform/db.ts";
import { createTestDatabase } from "./harness.ts";

Deno.test("db faults - connections terminated mid-transaction and under queued writes: rejected as lost, the process lives, the pool answers at once", async () => {
  const db = await createTestDatabase();
  try {
    const setup = createDb(db.url, { max: 1 });
    await setup`create table fault_log (id serial primary key, note text not null)`;
    await setup.end();
    const child = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        "--allow-env",
        "--allow-read",
        "tests/db_fault_child.ts",
        db.url,
      ],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const stderr = new TextDecoder().decode(child.stderr);
    assert.equal(child.code, 0, `the process died:\n${stderr}`);
    const report = JSON.parse(new TextDecoder().decode(child.stdout).trim().split("\n").at(-1)!);
    assert.equal(report.in_flight, "CONNECTION_CLOSED");
    assert.equal(report.between, "CONNECTION_CLOSED");
    assert.equal(report.queued.length, 20);
    for (const outcome of report.queued) assert.ok(["ok", "CONNECTION_CLOSED"].includes(outcome));
    assert.ok(report.queued.includes("ok"), "queued writes went on to fresh connections");
    assert.deepEqual(report.after, [1, 2, 3, 4]);
    assert.equal(report.never, 0, "the lost transaction left nothing");
    assert.doesNotMatch(stderr, /Uncaught|TypeError/);
  } finally {
    await db.drop();
  }
});
