// The connection guard in front of the HTTP server: slow or oversized requests, oversized
// WebSocket frames and connection floods are cut off at the connection, before Deno's server
// would hold them or buffer them.
import assert from "node:assert/strict";
import { serveGuarded } from "../lib/server/guard.ts";
import { call, createUsersQuickly, startApp } from "./harness.ts";
import { rawUpgrade } from "./ws_client.ts";

const encoder = new TextEncoder();

/**
 * Reads until the server closes the connection; what it sent. Fails when the connection is
 * still open after 15 s (the bounds under test are a second or two here).
 */
async function readToEnd(conn: Deno.Conn): Promise<string> {
  const buf = new Uint8Array(16 * 1024);
  let text = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stillOpen = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still open after 15 s; got: ${text}`)), 15_000);
  });
  try {
    for (;;) {
      const n = await Promise.race([conn.read(buf).catch(() => null), stillOpen]);
      if (n === null) return text;
      text += new TextDecoder().decode(buf.subarray(0, n));
    }
  } finally {
    clearTimeout(timer);
  }
}

async function connect(base: string): Promise<Deno.TcpConn> {
  const url = new URL(base);
  return await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
}

Deno.test("guard - a head sent slowly is answered 408 and closed; others are served meanwhile", async () => {
  const app = await startApp({ guard: { headerTimeoutMs: 1000 } });
  try {
    const slow = await Promise.all(Array.from({ length: 20 }, () => connect(app.base)));
    // Each sends a byte of its head every 200 ms and never finishes it.
    let dripping = true;
    const drips = slow.map(async (conn) => {
      await conn.write(encoder.encode("GET /healthz HTTP/1.1\r\nHost: x\r\n"));
      while (dripping) {
        await new Promise((r) => setTimeout(r, 200));
        await conn.write(encoder.encode("X")).catch(() => (dripping = false));
      }
    });
    let answers: string[];
    try {
      assert.equal((await call(app, "GET", "/healthz")).status, 200, "served meanwhile");
      answers = await Promise.all(slow.map(readToEnd));
    } finally {
      dripping = false;
      await Promise.all(drips);
    }
    for (const a of answers) assert.match(a, /^HTTP\/1\.1 408 /);
    for (const c of slow) c.close();
  } finally {
    await app.stop();
  }
});

Deno.test("guard - a body that never arrives, a body of unknown length, and a huge head are cut off", async () => {
  const app = await startApp({ guard: { bodyTimeoutMs: 1000, maxHeaderBytes: 4096 } });
  try {
    const partial = await connect(app.base);
    await partial.write(encoder.encode(
      "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
        'Content-Length: 100\r\n\r\n{"email":',
    ));
    assert.equal(await readToEnd(partial), "", "closed without an answer");
    partial.close();

    const chunked = await connect(app.base);
    await chunked.write(encoder.encode(
      "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
    ));
    assert.match(await readToEnd(chunked), /^HTTP\/1\.1 411 /);
    chunked.close();

    const huge = await connect(app.base);
    await huge.write(
      encoder.encode(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(5000)}`),
    );
    assert.match(await readToEnd(huge), /^HTTP\/1\.1 431 /);
    huge.close();

    // Keep-alive requests one after another on one connection still work, bodies included.
    const kept = await connect(app.base);
    const body = JSON.stringify({ email: "a@example.test", password: "wrong password" });
    const login = `POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
      `Origin: http://localhost:8000\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    await kept.write(
      encoder.encode(
        login + login + "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
      ),
    );
    const replies = await readToEnd(kept);
    assert.equal(replies.match(/HTTP\/1\.1 401 /g)?.length, 2, replies);
    assert.match(replies, /HTTP\/1\.1 200 [\s\S]*"status":"ok"/);
    kept.close();
  } finally {
    await app.stop();
  }
});

Deno.test("guard - a head whose lines end in a bare LF or CR is refused, not read two ways", async () => {
  const app = await startApp();
  try {
    const heads = [
      // A hidden upgrade: Deno's parser would read "Upgrade: websocket" as a header.
      "GET /ws HTTP/1.1\r\nHost: x\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
      // A hidden chunked body, which the guard refuses when it sees one.
      "POST /api/auth/login HTTP/1.1\r\nHost: x\nTransfer-Encoding: chunked\r\n\r\n",
      "GET /healthz HTTP/1.1\r\nHost: x\rX-Other: y\r\n\r\n",
    ];
    for (const head of heads) {
      const conn = await connect(app.base);
      await conn.write(encoder.encode(head));
      assert.match(await readToEnd(conn), /^HTTP\/1\.1 400 /, JSON.stringify(head));
      conn.close();
    }
  } finally {
    await app.stop();
  }
});

Deno.test("guard - asking for an upgrade frees nothing: frames only after the server's 101", async () => {
  const app = await startApp({ guard: { maxHeaderBytes: 4096 } });
  try {
    // /healthz does not upgrade: its answer is a plain 200, and the connection stays bound.
    const conn = await connect(app.base);
    await conn.write(encoder.encode(
      "GET /healthz HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    ));
    const buf = new Uint8Array(16 * 1024);
    const first = new TextDecoder().decode(buf.subarray(0, (await conn.read(buf)) ?? 0));
    assert.match(first, /^HTTP\/1\.1 200 /);
    await conn.write(encoder.encode(
      "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
    ));
    assert.match(await readToEnd(conn), /HTTP\/1\.1 411 /, "the next request is still read as one");
    conn.close();
    // And a head too large after it is still refused.
    const big = await connect(app.base);
    await big.write(encoder.encode(
      "GET /healthz HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    ));
    await big.read(buf);
    await big.write(
      encoder.encode(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(5000)}`),
    );
    assert.match(await readToEnd(big), /HTTP\/1\.1 431 /);
    big.close();
  } finally {
    await app.stop();
  }
});

/** A masked client frame header declaring `length` bytes. */
function frameHeader(opcode: number, length: number, fin = true): Uint8Array {
  const h = new Uint8Array(14);
  h[0] = (fin ? 0x80 : 0) | opcode;
  h[1] = 0x80 | 127;
  new DataView(h.buffer).setBigUint64(2, BigInt(length));
  return h; // mask key: zeros
}

function rssKb(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]);
}

Deno.test("guard - an oversized WebSocket frame closes its socket at its header, before the process grows", async () => {
  const app = await startApp();
  try {
    const [ada] = await createUsersQuickly(app, 1);
    const before = rssKb(Deno.pid);
    // Eight sockets each announce a 60 MiB frame and try to send it.
    const sent = await Promise.all(Array.from({ length: 8 }, async () => {
      const { status, conn } = await rawUpgrade(app, { token: ada.token });
      assert.equal(status, 101);
      let bytes = 0;
      try {
        await conn.write(frameHeader(2, 60 * 2 ** 20));
        const chunk = new Uint8Array(2 ** 20);
        for (let i = 0; i < 60; i++) bytes += await conn.write(chunk);
      } catch {
        // closed by the server: what was meant to happen
      }
      conn.close();
      return bytes;
    }));
    const grew = rssKb(Deno.pid) - before;
    assert.ok(sent.every((b) => b < 60 * 2 ** 20), `the server stopped reading: ${sent}`);
    assert.ok(grew < 64 * 1024, `resident memory grew ${grew} KB`);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(app.realtime.socketCount, 0, "every oversized socket is gone");

    // A message sent in small pieces that add up past the limit is cut off too.
    const { conn } = await rawUpgrade(app, { token: ada.token });
    const piece = new Uint8Array(14 + 1024);
    piece.set(frameHeader(1, 1024, false));
    await conn.write(piece);
    const more = new Uint8Array(14 + 1024);
    more.set(frameHeader(0, 1024, false));
    try {
      for (let i = 0; i < 200; i++) await conn.write(more);
    } catch {
      // closed
    }
    await readToEnd(conn); // closed, or this fails
    conn.close();
  } finally {
    await app.stop();
  }
});

Deno.test("guard - one address holds only so many connections; the app sees each client's own address", async () => {
  let seen: Deno.NetAddr | null = null;
  const server = serveGuarded({ hostname: "127.0.0.1", port: 0 }, (_req, info) => {
    seen = info.remoteAddr;
    return new Response("ok");
  }, { maxConnectionsPerAddress: 3 });
  const base = `http://127.0.0.1:${server.addr.port}`;
  try {
    const held = await Promise.all([1, 2, 3].map(() => connect(base)));
    const fourth = await connect(base);
    assert.equal(await readToEnd(fourth), "", "the fourth is closed at once");
    fourth.close();
    // A held connection is served, and the handler sees that client's address and port.
    await held[0].write(encoder.encode("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    assert.match(await readToEnd(held[0]), /^HTTP\/1\.1 200 /);
    assert.equal(seen!.port, (held[0].localAddr as Deno.NetAddr).port);
    for (const c of held) c.close();
    // Their places come back.
    await new Promise((r) => setTimeout(r, 50));
    const again = await connect(base);
    await again.write(encoder.encode("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    assert.match(await readToEnd(again), /^HTTP\/1\.1 200 /);
    again.close();
  } finally {
    await server.shutdown();
  }
});

Deno.test("guard - a client that half-closes still gets its answer, seen as itself", async () => {
  const server = serveGuarded(
    { hostname: "127.0.0.1", port: 0 },
    (_req, info) => new Response(String(info.remoteAddr.port)),
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  try {
    for (let i = 0; i < 20; i++) {
      const conn = await connect(base);
      // The whole request, then nothing more from this side.
      await conn.write(encoder.encode("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
      await conn.closeWrite();
      const answer = await readToEnd(conn);
      assert.match(answer, /^HTTP\/1\.1 200 /, `round ${i}: ${JSON.stringify(answer)}`);
      const port = (conn.localAddr as Deno.NetAddr).port;
      assert.equal(answer.split("\r\n\r\n")[1], String(port), "the client's own address");
      conn.close();
    }
  } finally {
    await server.shutdown();
  }
});

Deno.test("guard - shutting down ends even when a request never gets its answer", async () => {
  const server = serveGuarded(
    { hostname: "127.0.0.1", port: 0 },
    () => new Promise<Response>(() => {}), // a handler stuck for good
  );
  const pending = fetch(`http://127.0.0.1:${server.addr.port}/`).then(
    (r) => `answered ${r.status}`,
    () => "cut off",
  );
  await new Promise((r) => setTimeout(r, 200));
  await server.shutdown(); // this test hangs if it does not end
  assert.equal(await pending, "cut off");
});
