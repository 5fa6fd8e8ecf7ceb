// deno task bench:ws [--sockets=2000] [--rooms=300] [--rate=20] [--invitees=3] [--idle=40]
//
// N idle authenticated sockets on one instance of the app (real PostgreSQL), while a loop
// creates rooms that invite sampled users. Measures the ring latency, from just before the
// create request to the invite arriving on the invitee's socket: first with the sockets on the
// instance that handles the create, then with them on a second instance sharing the database
// (the event crosses PostgreSQL LISTEN/NOTIFY). Also the resident memory per idle socket.
// Budgets: p99 under 50 ms on one instance, under 100 ms across two; under 30 KB per socket.
import { createDb } from "../lib/platform/db.ts";
import { SessionStore } from "../lib/accounts/sessions.ts";
import { createTestDatabase, TEST_SESSION_SECRET, testEnv } from "../tests/harness.ts";
import type { ServerMessage } from "../protocol/ws.ts";
import { flag, freePort, serve, waitFor } from "./load.ts";

const SOCKETS = flag("sockets", 2000);
const ROOMS = flag("rooms", 300);
const RATE = flag("rate", 20);
const INVITEES = flag("invitees", 3);
const IDLE_SECONDS = flag("idle", 40);

const db = await createTestDatabase();
const env = testEnv(db.url);
const ports = [freePort(), freePort()];
const servers: Deno.ChildProcess[] = [];
const sql = createDb(db.url, { max: 8 });
const sockets: WebSocket[] = [];

/** A process's resident memory in KB, as `ps` reports it. */
function rssKb(pid: number): number {
  const out = new Deno.Command("ps", { args: ["-o", "rss=", "-p", String(pid)] }).outputSync();
  return Number(new TextDecoder().decode(out.stdout).trim());
}

async function start(port: number, script = "main.ts") {
  const server = serve(script, { ...env, PORT: String(port) });
  servers.push(server);
  await waitFor(`http://127.0.0.1:${port}/healthz`);
  return server;
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

try {
  const first = await start(ports[0]);

  // The caller and the crowd, written straight to the database (hashing 2,000 passwords would
  // take minutes and measure nothing of interest); sessions from the app's own store.
  const users = await sql<{ id: string }[]>`
    insert into users (email, display_name, password_hash)
    select 'bench' || i || '@example.test', case when i = 0 then 'Caller' else 'Person ' || i end,
      'unusable'
    from generate_series(0, ${SOCKETS}::int) i
    order by i
    returning id`;
  const [caller, ...crowd] = users;
  await sql`insert into contacts (owner_id, contact_id)
    select ${caller.id}, unnest(${crowd.map((u) => u.id)}::uuid[])`;
  const store = new SessionStore(sql, new TextEncoder().encode(TEST_SESSION_SECRET));
  const tokens: string[] = [];
  for (let i = 0; i < crowd.length; i += 50) {
    tokens.push(
      ...await Promise.all(
        crowd.slice(i, i + 50).map(async (u) => (await store.create(u.id)).token),
      ),
    );
  }
  const callerToken = (await store.create(caller.id)).token;

  // When each room's create request started, by its unique name; and each invite's arrival.
  const started = new Map<string, number>();
  const arrivals = new Map<number, number[]>();

  const connectAll = async (port: number): Promise<void> => {
    let synced = 0;
    await new Promise<void>((resolve, reject) => {
      for (let i = 0; i < tokens.length; i++) {
        const ws = new (WebSocket as unknown as new (
          url: string,
          init: { headers: Record<string, string> },
        ) => WebSocket)(`ws://127.0.0.1:${port}/ws`, {
          headers: { Authorization: `Bearer ${tokens[i]}` },
        });
        ws.onmessage = (e) => {
          const now = performance.now();
          const m = JSON.parse(e.data) as ServerMessage;
          if (m.type === "sync" && ++synced === tokens.length) resolve();
          if (m.type === "invite") {
            const t0 = started.get(m.invite.room_name);
            if (t0 !== undefined) arrivals.get(port)?.push(now - t0);
          }
        };
        ws.onerror = () => reject(new Error(`socket ${i} failed to open on port ${port}`));
        sockets.push(ws);
      }
    });
  };

  let roomCounter = 0;
  const ringLoop = async (port: number, rooms: number): Promise<{ errors: number }> => {
    let errors = 0;
    const pending: Promise<void>[] = [];
    const t = performance.now();
    for (let i = 0; i < rooms; i++) {
      // Open loop: a room every 1/RATE s, whatever the previous answers took.
      const due = t + (i * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const name = `bench-${roomCounter++}`;
      const picked = new Set<string>();
      while (picked.size < INVITEES) picked.add(crowd[Math.floor(Math.random() * crowd.length)].id);
      started.set(name, performance.now());
      pending.push(
        fetch(`http://127.0.0.1:${port}/api/livekit/rooms`, {
          method: "POST",
          headers: { "Content-Type": "application/json", Authorization: `Bearer ${callerToken}` },
          body: JSON.stringify({ room_name: name, call_type: "audio", participants: [...picked] }),
        }).then(async (res) => {
          await res.arrayBuffer();
          if (res.status !== 201) errors++;
        }, () => {
          errors++;
        }),
      );
    }
    await Promise.all(pending);
    // Let the last rings arrive.
    await new Promise((r) => setTimeout(r, 1000));
    return { errors };
  };

  const report = (name: string, port: number, expected: number, errors: number) => {
    const got = (arrivals.get(port) ?? []).sort((a, b) => a - b);
    const line = `${name.padEnd(30)} rings ${String(got.length).padStart(5)}/${expected}   p50 ${
      quantile(got, 0.5).toFixed(1).padStart(6)
    } ms   p99 ${quantile(got, 0.99).toFixed(1).padStart(6)} ms   create errors ${errors}`;
    console.log(line);
    return quantile(got, 0.99);
  };

  console.log(
    `bench:ws — ${SOCKETS} idle sockets, ${ROOMS} rooms at ${RATE}/s, ${INVITEES} invitees each, ${Deno.build.target}`,
  );

  // Memory: a server's resident size before the sockets open, just after (the burst of
  // upgrades grows the JavaScript heap), and once they have been idle for a while (V8 gives
  // unused heap back after some idle seconds). The same for Deno's bare WebSocket server, in
  // the same run, as the baseline.
  const mb = (kb: number) => (kb / 1024).toFixed(1);
  const memory = async (name: string, server: Deno.ChildProcess, port: number) => {
    await new Promise((r) => setTimeout(r, 1000));
    const before = rssKb(server.pid);
    const t0 = performance.now();
    await connectAll(port);
    const connectMs = performance.now() - t0;
    const peak = rssKb(server.pid);
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
    const after = rssKb(server.pid);
    const perSocket = (after - before) / SOCKETS;
    console.log(
      `${name.padEnd(12)} ${SOCKETS} sockets synced in ${(connectMs / 1000).toFixed(1)} s; RSS ${
        mb(before)
      } MB → ${mb(peak)} MB just after (${((peak - before) / SOCKETS).toFixed(1)} KB/socket) → ${
        mb(after)
      } MB after ${IDLE_SECONDS} s idle: ${perSocket.toFixed(1)} KB/socket`,
    );
    return perSocket;
  };
  const bare = await start(ports[1], "bench/bare_ws_server.ts");
  const bareSocket = await memory("bare Deno", bare, ports[1]);
  for (const ws of sockets.splice(0)) ws.close();
  bare.kill("SIGTERM");
  await bare.status;
  servers.splice(servers.indexOf(bare), 1);
  const perSocket = await memory("app", first, ports[0]);

  // Warm-up (JIT, pools), not counted; then one instance.
  arrivals.set(ports[0], []);
  await ringLoop(ports[0], Math.min(40, ROOMS));
  arrivals.set(ports[0], []);
  const one = await ringLoop(ports[0], ROOMS);
  const p99One = report("one instance", ports[0], ROOMS * INVITEES, one.errors);

  // Across two: the same users' sockets on a second instance; rooms still created on the first.
  await start(ports[1]);
  await connectAll(ports[1]);
  arrivals.delete(ports[0]);
  arrivals.set(ports[1], []);
  await ringLoop(ports[0], Math.min(40, ROOMS));
  arrivals.set(ports[1], []);
  const two = await ringLoop(ports[0], ROOMS);
  const p99Two = report("across two instances", ports[1], ROOMS * INVITEES, two.errors);

  const verdict = (ok: boolean) => (ok ? "ok" : "OVER BUDGET");
  console.log(
    `memory per idle socket (after ${IDLE_SECONDS} s idle): ${
      perSocket.toFixed(1)
    } KB (budget < 30 KB) ${verdict(perSocket < 30)}; Deno's bare WebSocket server: ${
      bareSocket.toFixed(1)
    } KB, ratio ${(perSocket / bareSocket).toFixed(2)}`,
  );
  console.log(
    `ring p99, one instance: ${p99One.toFixed(1)} ms (budget < 50 ms) ${verdict(p99One < 50)}`,
  );
  console.log(
    `ring p99, across two: ${p99Two.toFixed(1)} ms (budget < 100 ms) ${verdict(p99Two < 100)}`,
  );
} finally {
  for (const ws of sockets) ws.close();
  for (const s of servers) {
    try {
      s.kill("SIGTERM");
      await s.status;
    } catch {
      // already gone
    }
  }
  await sql.end({ timeout: 1 });
  await db.drop();
}
