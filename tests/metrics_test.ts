// GET /metrics: what the instance counts (rings and answers, tokens, webhook events, API
// latency by route) and holds (sockets, the pool), in Prometheus' text format; served to the
// machine itself (loopback, not forwarded by a proxy) or to a holder of METRICS_TOKEN.
import assert from "node:assert/strict";
import { addContacts, call, registerUser, type TestApp, withApp } from "./harness.ts";
import { TestSocket } from "./ws_client.ts";

/** The scrape as series → value ("name{labels}" as written). */
async function scrape(app: TestApp, headers: Record<string, string> = {}) {
  const res = await call(app, "GET", "/metrics", { headers });
  assert.equal(res.status, 200, String(res.body));
  assert.match(res.headers.get("Content-Type") ?? "", /^text\/plain; version=0\.0\.4/);
  const series = new Map<string, number>();
  for (const line of String(res.body).split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    series.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return series;
}

Deno.test("metrics - rings, answers, tokens, sockets and API latency by route, as they happen", async () => {
  await withApp(async (app) => {
    const ada = await registerUser(app);
    const bob = await registerUser(app);
    const cy = await registerUser(app);
    await addContacts(app, ada, [bob, cy]);
    const before = await scrape(app);
    assert.equal(before.get("urbania_websockets_open"), 0);
    assert.ok((before.get('urbania_db_pool_connections{state="total"}') ?? -1) >= 0);
    assert.ok((before.get("urbania_process_resident_memory_bytes") ?? 0) > 0);
    assert.equal(before.get("urbania_rings_total") ?? 0, 0);

    const socket = await TestSocket.open(app, { cookie: bob.cookie });
    const created = await call(app, "POST", "/api/livekit/rooms", {
      token: ada.token,
      json: { room_name: "Counted", call_type: "audio", participants: [bob.id, cy.id] },
    });
    assert.equal(created.status, 201);
    const invites = await call(app, "GET", "/api/invites", { token: bob.token });
    const cyInvites = await call(app, "GET", "/api/invites", { token: cy.token });
    assert.equal(
      (await call(app, "POST", `/api/invites/${invites.body[0].id}/accept`, { token: bob.token }))
        .status,
      200,
    );
    assert.equal(
      (await call(app, "POST", `/api/invites/${cyInvites.body[0].id}/decline`, {
        token: cy.token,
      })).status,
      200,
    );
    const token = await call(app, "POST", "/api/livekit/token", {
      token: bob.token,
      json: { room_name: created.body.id },
    });
    assert.equal(token.status, 200);
    // A path no route serves is counted once under "unmatched", whatever it is.
    for (const junk of ["/api/no/such/thing", "/api/x-1", "/api/x-2"]) {
      assert.equal((await call(app, "GET", junk, { token: ada.token })).status, 404);
    }

    const after = await scrape(app);
    assert.equal(after.get("urbania_websockets_open"), 1);
    assert.equal(after.get("urbania_rings_total"), 2);
    assert.equal(after.get('urbania_ring_answers_total{answer="accepted"}'), 1);
    assert.equal(after.get('urbania_ring_answers_total{answer="declined"}'), 1);
    assert.equal(after.get('urbania_token_requests_total{who="member"}'), 1);
    const route = (method: string, path: string, status: string) =>
      after.get(
        `urbania_http_request_duration_seconds_count{method="${method}",route="${path}",status="${status}"}`,
      );
    assert.equal(route("POST", "/api/livekit/rooms", "2xx"), 1);
    assert.equal(route("POST", "/api/invites/:id/accept", "2xx"), 1);
    assert.equal(route("GET", "unmatched", "4xx"), 3);
    // Buckets are cumulative and end with every observation.
    const inf = after.get(
      'urbania_http_request_duration_seconds_bucket{method="POST",route="/api/livekit/rooms",status="2xx",le="+Inf"}',
    );
    assert.equal(inf, 1);
    // No label holds a raw path or an id.
    for (const name of after.keys()) {
      assert.doesNotMatch(name, /[0-9a-f]{8}-[0-9a-f]{4}-/, name);
      assert.doesNotMatch(name, /no\/such|x-1/, name);
    }
    await socket.close();
  });
});

Deno.test("metrics - nobody but the machine itself, or the holder of METRICS_TOKEN, reads them", async () => {
  const token = "metrics-token-0123456789abcdefghijklmnop";
  await withApp(async (app) => {
    // Through a proxy (it adds X-Forwarded-For): the path does not exist.
    const proxied = await call(app, "GET", "/metrics", {
      headers: { "X-Forwarded-For": "203.0.113.9" },
    });
    assert.equal(proxied.status, 404);
    assert.equal(proxied.body.error.code, "not_found");
    // Proxies that say so otherwise (RFC 7239, nginx's X-Real-IP) are proxies too.
    for (
      const headers of <Record<string, string>[]> [
        { Forwarded: "for=203.0.113.9" },
        { "X-Real-IP": "203.0.113.9" },
        { "X-Forwarded-Host": "meet.example.com" },
      ]
    ) {
      const other = await call(app, "GET", "/metrics", { headers });
      assert.equal(other.status, 404, JSON.stringify(headers));
    }
    const wrong = await call(app, "GET", "/metrics", {
      headers: { "X-Forwarded-For": "203.0.113.9", Authorization: `Bearer ${token}x` },
    });
    assert.equal(wrong.status, 404);
    // A session is not enough either.
    const user = await registerUser(app);
    const session = await call(app, "GET", "/metrics", {
      token: user.token,
      headers: { "X-Forwarded-For": "203.0.113.9" },
    });
    assert.equal(session.status, 404);
    const right = await scrape(app, {
      "X-Forwarded-For": "203.0.113.9",
      Authorization: `Bearer ${token}`,
    });
    assert.ok(right.has("urbania_websockets_open"));
    // From loopback directly: yes.
    assert.ok((await scrape(app)).has("urbania_websockets_open"));
  }, { env: { METRICS_TOKEN: token, TRUST_PROXY: "true" } });
});

Deno.test("metrics - made-up methods and paths make no new series", async () => {
  await withApp(async (app) => {
    const seriesCount = async () => (await scrape(app)).size;
    // Warm: every label a made-up request could get already exists once.
    for (const method of ["BREW", "GET"]) {
      await fetch(`${app.base}/api/no/such/path`, { method }).then((r) => r.body?.cancel());
      await fetch(`${app.base}/api/auth/me`, { method }).then((r) => r.body?.cancel());
    }
    const before = await seriesCount();
    for (let i = 0; i < 50; i++) {
      const method = `M${i}${"X".repeat(200)}`;
      await fetch(`${app.base}/api/auth/me`, { method }).then((r) => r.body?.cancel());
      await fetch(`${app.base}/api/x${i}/${"y".repeat(300)}`, { method })
        .then((r) => r.body?.cancel());
    }
    assert.equal(await seriesCount(), before);
    const labels = [...(await scrape(app)).keys()].filter((k) => k.includes("method="));
    assert.ok(labels.some((k) => k.includes('method="other"')), labels.join("\n"));
    assert.ok(labels.every((k) => !k.includes("XXXX") && !k.includes("yyyy")));
  });
});
