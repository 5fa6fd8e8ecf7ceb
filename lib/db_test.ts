import assert from "node:assert/strict";
import { absorbLostConnections, reconnectDelaySeconds } from "./db.ts";
import { createLogger } from "./log.ts";

Deno.test("db - a pool dropped at once reconnects at once; a server away backs off to 2 s", () => {
  for (let failures = 0; failures <= 10; failures++) {
    assert.equal(reconnectDelaySeconds(failures, 10), 0);
  }
  let previousCeiling = 0;
  for (let failures = 11; failures < 40; failures++) {
    const delay = reconnectDelaySeconds(failures, 10);
    const ceiling = Math.min(0.05 * 2 ** (failures - 10), 2);
    assert.ok(delay >= ceiling / 2 && delay <= ceiling, `${failures}: ${delay}`);
    assert.ok(ceiling >= previousCeiling);
    previousCeiling = ceiling;
  }
  assert.equal(previousCeiling, 2);
});

Deno.test("db - an unhandled lost-connection rejection is logged; any other stays fatal", () => {
  const lines: string[] = [];
  const unguard = absorbLostConnections(createLogger("debug", (_l, line) => lines.push(line)));
  try {
    const rejection = (reason: unknown) => {
      const promise = Promise.reject(reason);
      promise.catch(() => {}); // this test dispatches the event itself
      const event = new PromiseRejectionEvent("unhandledrejection", {
        promise,
        reason,
        cancelable: true,
      });
      globalThis.dispatchEvent(event);
      return event.defaultPrevented;
    };
    const lost = Object.assign(new Error("terminating connection"), { code: "57P01" });
    assert.equal(rejection(lost), true);
    assert.equal(rejection(new TypeError("a bug")), false);
    assert.equal(rejection(Object.assign(new Error("dup"), { code: "23505" })), false);
    assert.equal(lines.length, 1);
    assert.match(lines[0], /database connection lost during a driver query/);
    assert.match(lines[0], /57P01/);
  } finally {
    unguard();
  }
  const after = new PromiseRejectionEvent("unhandledrejection", {
    promise: Promise.resolve(),
    reason: Object.assign(new Error("x"), { code: "57P01" }),
    cancelable: true,
  });
  globalThis.dispatchEvent(after);
  assert.equal(after.defaultPrevented, false, "the guard is removed");
});
