import assert from "node:assert/strict";
import { argon2id } from "hash-wasm";
import { AppError } from "../platform/errors.ts";
import { hashPassword, MAX_WAITING, passwordPool, verifyPassword } from "./passwords.ts";

Deno.test("passwords - hashed and checked in the worker pool; past its queue, 503 busy", async () => {
  const hash = await hashPassword("correct horse");
  assert.match(hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  assert.equal(await verifyPassword("correct horse", hash), true);
  assert.equal(await verifyPassword("wrong horse", hash), false);
  assert.equal(await verifyPassword("anything", "not a hash"), false);
  assert.ok(passwordPool.workers >= 1 && passwordPool.workers <= passwordPool.size);
  const before = passwordPool.done;

  // A cheap hash (64 KiB, one pass) so that a full queue is quick to work through.
  const cheap = await argon2id({
    password: "x",
    salt: new Uint8Array(16),
    parallelism: 1,
    iterations: 1,
    memorySize: 64,
    hashLength: 16,
    outputType: "encoded",
  });
  const extra = 5;
  const jobs = Array.from(
    { length: passwordPool.size + MAX_WAITING + extra },
    () => verifyPassword("x", cheap).then((ok) => ok, (err) => err),
  );
  const results = await Promise.all(jobs);
  const busy = results.filter((r) => r instanceof AppError);
  assert.equal(busy.length, extra, "only the jobs past the queue are refused");
  for (const err of busy) {
    assert.equal(err.status, 503);
    assert.equal(err.code, "busy");
    assert.equal(err.extra.headers?.["Retry-After"], "5");
  }
  assert.ok(results.filter((r) => r === true).length === passwordPool.size + MAX_WAITING);
  assert.equal(passwordPool.done - before, passwordPool.size + MAX_WAITING);
});
