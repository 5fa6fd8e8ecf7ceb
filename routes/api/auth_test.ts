import assert from "node:assert/strict";
import { decodeJwt, SignJWT } from "jose";
import { MAX_BODY_BYTES } from "../app.ts";
import {
  call,
  ORIGIN,
  registerUser,
  sessionCookie,
  TEST_SESSION_SECRET,
  withApp,
} from "../../tests/harness.ts";

const secret = new TextEncoder().encode(TEST_SESSION_SECRET);

/** A token for the same session as `token`, signed with other claims. */
async function resign(token: string, claims: { exp?: number; iat?: number }) {
  const old = decodeJwt(token);
  const now = Math.floor(Date.now() / 1000);
  return await new SignJWT({ sid: old.sid })
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(old.sub!)
    .setIssuer("urbania")
    .setIssuedAt(claims.iat ?? now)
    .setExpirationTime(claims.exp ?? now + 1800)
    .sign(secret);
}

Deno.test("auth - register returns the user, a bearer token and a session cookie", () =>
  withApp(async (app) => {
    const res = await call(app, "POST", "/api/auth/register", {
      json: {
        email: "  Ada@Example.test ",
        password: "analytical engine",
        display_name: "  Ada  ",
      },
    });
    assert.equal(res.status, 201);
    assert.deepEqual(Object.keys(res.body).sort(), [
      "access_token",
      "expires_in",
      "token_type",
      "user",
    ]);
    assert.equal(res.body.token_type, "bearer");
    assert.equal(res.body.expires_in, 1800);
    assert.equal(res.body.user.email, "Ada@Example.test");
    assert.equal(res.body.user.display_name, "Ada");
    assert.deepEqual(Object.keys(res.body.user).sort(), ["display_name", "email", "id", "lang"]);
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith("urbania_session="))!;
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Lax/);
    assert.match(cookie, /Path=\//);
    assert.doesNotMatch(cookie, /Secure/, "no Secure flag on http");

    const me = await call(app, "GET", "/api/auth/me", { token: res.body.access_token });
    assert.equal(me.status, 200);
    assert.deepEqual(me.body, res.body.user);
    const byCookie = await call(app, "GET", "/api/auth/me", { cookie: sessionCookie(res.headers) });
    assert.deepEqual(byCookie.body, res.body.user);

    const [row] = await app.sql`select password_hash from users where id = ${res.body.user.id}`;
    assert.match(row.password_hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  }));

Deno.test("auth - cookies are Secure when the app is served over https", () =>
  withApp(async (app) => {
    const res = await call(app, "POST", "/api/auth/register", {
      origin: "https://meet.example.test",
      json: { email: "s@example.test", password: "long enough", display_name: "S" },
    });
    assert.equal(res.status, 201);
    assert.match(res.headers.getSetCookie().join("\n"), /urbania_session=[^;]+;.*Secure/);
    assert.match(res.headers.get("Strict-Transport-Security") ?? "", /max-age=/);
  }, {
    env: { PUBLIC_URL: "https://meet.example.test", LIVEKIT_URL: "wss://livekit.example.test" },
  }));

Deno.test("auth - an email is taken whatever its case", () =>
  withApp(async (app) => {
    await registerUser(app, { email: "grace@example.test" });
    const res = await call(app, "POST", "/api/auth/register", {
      json: { email: "GRACE@example.test", password: "another one", display_name: "G" },
    });
    assert.equal(res.status, 409);
    assert.equal(res.body.error.code, "email_taken");
  }));

Deno.test("auth - 20 simultaneous registrations of one email: one 201, the rest 409", () =>
  withApp(async (app) => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        call(app, "POST", "/api/auth/register", {
          json: {
            email: i % 2 ? "race@example.test" : "RACE@example.test",
            password: "password " + i,
            display_name: `R${i}`,
          },
        })),
    );
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [201, ...Array(19).fill(409)]);
    const [{ count }] = await app.sql`select count(*)::int from users`;
    assert.equal(count, 1);
  }));

const validRegister = { email: "v@example.test", password: "long enough", display_name: "V" };

const badRegisterBodies: [string, unknown, string[]][] = [
  ["missing everything", {}, ["email", "password", "display_name"]],
  ["missing password", { email: "a@b.test", display_name: "A" }, ["password"]],
  ["email of the wrong type", { ...validRegister, email: 42 }, ["email"]],
  ["not an email", { ...validRegister, email: "no-at-sign" }, ["email"]],
  ["email too long", { ...validRegister, email: "a".repeat(250) + "@b.test" }, ["email"]],
  ["password too short", { ...validRegister, password: "1234567" }, ["password"]],
  ["password too long", { ...validRegister, password: "p".repeat(129) }, ["password"]],
  ["password of the wrong type", { ...validRegister, password: ["x"] }, ["password"]],
  ["blank display name", { ...validRegister, display_name: "   " }, ["display_name"]],
  ["display name too long", { ...validRegister, display_name: "n".repeat(65) }, ["display_name"]],
  ["null display name", { ...validRegister, display_name: null }, ["display_name"]],
  ["NUL in display name", { ...validRegister, display_name: "a\u0000b" }, ["display_name"]],
  ["an array", [validRegister], ["body"]],
  ["a string", "hello", ["body"]],
];

Deno.test("auth - bad register bodies get 400 naming each field", () =>
  withApp(async (app) => {
    for (const [label, json, fields] of badRegisterBodies) {
      const res = await call(app, "POST", "/api/auth/register", { json });
      assert.equal(res.status, 400, label);
      assert.equal(res.body.error.code, "invalid_request", label);
      assert.deepEqual(
        res.body.error.fields.map((f: { field: string }) => f.field).sort(),
        [...fields].sort(),
        label,
      );
      // Each problem in a person's words, never the validator's ("Too small: expected…").
      for (const f of res.body.error.fields as { message: string }[]) {
        assert.match(f.message, /^[A-Z“].*[.:a-z]/, label);
        assert.doesNotMatch(f.message, /expected|too_small|invalid input|[<>]=/i, label);
        assert.ok(res.body.error.message.includes(f.message), label);
      }
    }
    // A few, word for word.
    const said = async (json: unknown) =>
      (await call(app, "POST", "/api/auth/register", { json })).body.error.message;
    assert.equal(
      await said({ ...validRegister, display_name: "   " }),
      "The name is empty: fill it in.",
    );
    assert.equal(
      await said({ ...validRegister, password: "1234567" }),
      "The password is too short: use at least 8 characters.",
    );
    assert.equal(
      await said({ ...validRegister, email: "no-at-sign" }),
      "That email address does not look right: check it for typos.",
    );
    const [{ count }] = await app.sql`select count(*)::int from users`;
    assert.equal(count, 0, "nothing was stored");
  }));

Deno.test("auth - malformed requests get JSON errors, never a 500", () =>
  withApp(async (app) => {
    const cases: [string, Parameters<typeof call>[3], number, string][] = [
      [
        "invalid JSON",
        { body: "{not json", headers: { "Content-Type": "application/json" } },
        400,
        "invalid_json",
      ],
      [
        "empty JSON body",
        { body: "", headers: { "Content-Type": "application/json" } },
        400,
        "invalid_json",
      ],
      [
        "wrong content type",
        { body: JSON.stringify(validRegister), headers: { "Content-Type": "text/plain" } },
        415,
        "unsupported_media_type",
      ],
      [
        "form encoded",
        {
          body: "email=a%40b.test",
          headers: { "Content-Type": "application/x-www-form-urlencoded" },
        },
        415,
        "unsupported_media_type",
      ],
      ["no body", {}, 400, "invalid_request"],
      [
        "oversize body",
        { json: { ...validRegister, display_name: "x".repeat(MAX_BODY_BYTES) } },
        413,
        "payload_too_large",
      ],
    ];
    for (const [label, options, status, code] of cases) {
      for (const path of ["/api/auth/register", "/api/auth/login"]) {
        const res = await call(app, "POST", path, options);
        assert.equal(res.status, status, `${label} ${path}`);
        assert.equal(res.body.error.code, code, `${label} ${path}`);
        assert.equal(typeof res.body.error.message, "string");
      }
    }
  }));

Deno.test("auth - login by email in any case; one message for unknown email and bad password", () =>
  withApp(async (app) => {
    const u = await registerUser(app, { email: "Linus@example.test" });
    const ok = await call(app, "POST", "/api/auth/login", {
      json: { email: "linus@EXAMPLE.test", password: u.password },
    });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.user.id, u.id);
    assert.equal(ok.body.token_type, "bearer");
    assert.notEqual(ok.body.access_token, u.token, "a new session");
    sessionCookie(ok.headers);

    const wrong = await call(app, "POST", "/api/auth/login", {
      json: { email: u.email, password: "not the password" },
    });
    const unknown = await call(app, "POST", "/api/auth/login", {
      json: { email: "nobody@example.test", password: "not the password" },
    });
    assert.equal(wrong.status, 401);
    assert.equal(unknown.status, 401);
    assert.deepEqual(wrong.body, unknown.body);
    assert.equal(wrong.headers.getSetCookie().length, 0);
  }));

Deno.test("auth - login is throttled per email with Retry-After, and success clears it", () =>
  withApp(async (app) => {
    const u = await registerUser(app);
    const attempt = (password: string) =>
      call(app, "POST", "/api/auth/login", { json: { email: u.email, password } });
    for (let i = 0; i < 3; i++) assert.equal((await attempt("wrong password")).status, 401);
    const throttled = await attempt(u.password);
    assert.equal(throttled.status, 429, "even the right password waits");
    assert.equal(throttled.body.error.code, "rate_limited");
    const retry = Number(throttled.headers.get("Retry-After"));
    assert.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`);

    // Another account is not affected by this email's counter.
    const other = await registerUser(app);
    const res = await call(app, "POST", "/api/auth/login", {
      json: { email: other.email, password: other.password },
    });
    assert.equal(res.status, 200);

    // Once the window has passed, a successful login resets the email's count.
    await app.sql`update rate_limits set window_start = now() - interval '2 minutes'`;
    assert.equal((await attempt(u.password)).status, 200);
    for (let i = 0; i < 3; i++) assert.equal((await attempt("wrong password")).status, 401);
  }, { loginLimits: { perEmail: 3, perAddress: 1000, windowSeconds: 60 } }));

Deno.test("auth - login is throttled per client address across emails", () =>
  withApp(async (app) => {
    for (let i = 0; i < 4; i++) {
      const res = await call(app, "POST", "/api/auth/login", {
        json: { email: `spray${i}@example.test`, password: "guess guess" },
      });
      assert.equal(res.status, 401);
    }
    const res = await call(app, "POST", "/api/auth/login", {
      json: { email: "spray9@example.test", password: "guess guess" },
    });
    assert.equal(res.status, 429);
    assert.ok(Number(res.headers.get("Retry-After")) > 0);
  }, { loginLimits: { perEmail: 100, perAddress: 4, windowSeconds: 60 } }));

Deno.test("auth - behind a trusted proxy the forwarded address is throttled", () =>
  withApp(async (app) => {
    const from = (addr: string) =>
      call(app, "POST", "/api/auth/login", {
        json: { email: `p${crypto.randomUUID()}@example.test`, password: "guess guess" },
        headers: { "X-Forwarded-For": `203.0.113.9, ${addr}` },
      });
    assert.equal((await from("198.51.100.1")).status, 401);
    assert.equal((await from("198.51.100.1")).status, 401);
    assert.equal((await from("198.51.100.1")).status, 429);
    assert.equal((await from("198.51.100.2")).status, 401, "another client is not throttled");
  }, {
    env: { TRUST_PROXY: "true" },
    loginLimits: { perEmail: 100, perAddress: 2, windowSeconds: 60 },
  }));

Deno.test("auth - logout ends exactly that session", () =>
  withApp(async (app) => {
    const u = await registerUser(app);
    const second = await call(app, "POST", "/api/auth/login", {
      json: { email: u.email, password: u.password },
    });
    const other = second.body.access_token;

    const out = await call(app, "POST", "/api/auth/logout", { token: u.token });
    assert.equal(out.status, 204);
    assert.equal((await call(app, "GET", "/api/auth/me", { token: u.token })).status, 401);
    assert.equal((await call(app, "GET", "/api/auth/me", { cookie: u.cookie })).status, 401);
    assert.equal((await call(app, "POST", "/api/auth/logout", { token: u.token })).status, 401);
    const still = await call(app, "GET", "/api/auth/me", { token: other });
    assert.equal(still.status, 200, "the other session keeps working");
  }));

Deno.test("auth - logout by cookie clears the cookie", () =>
  withApp(async (app) => {
    const u = await registerUser(app);
    const out = await call(app, "POST", "/api/auth/logout", { cookie: u.cookie });
    assert.equal(out.status, 204);
    assert.match(out.headers.getSetCookie().join("\n"), /urbania_session=;.*Max-Age=0/);
    assert.equal((await call(app, "GET", "/api/auth/me", { cookie: u.cookie })).status, 401);
  }));

Deno.test("auth - expired, tampered and forged tokens get 401", () =>
  withApp(async (app) => {
    const u = await registerUser(app);
    const now = Math.floor(Date.now() / 1000);
    const expired = await resign(u.token, { iat: now - 3600, exp: now - 60 });
    const [h, p, s] = u.token.split(".");
    const flipped = s.slice(0, -2) + (s.at(-2) === "A" ? "B" : "A") + s.at(-1);
    const payload = JSON.parse(atob(p.replaceAll("-", "+").replaceAll("_", "/")));
    const otherSub = btoa(JSON.stringify({ ...payload, sub: crypto.randomUUID() }))
      .replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
    const forged = await new SignJWT({ sid: decodeJwt(u.token).sid }).setProtectedHeader({
      alg: "HS256",
    })
      .setSubject(u.id).setIssuer("urbania").setIssuedAt().setExpirationTime("10m")
      .sign(new TextEncoder().encode("another secret that is at least 32 bytes"));
    const none = `${btoa('{"alg":"none"}').replace(/=+$/, "")}.${p}.`;
    for (
      const [label, token] of [
        ["expired", expired],
        ["tampered signature", `${h}.${p}.${flipped}`],
        ["tampered subject", `${h}.${otherSub}.${s}`],
        ["wrong key", forged],
        ["alg none", none],
        ["garbage", "abc.def.ghi"],
      ]
    ) {
      const res = await call(app, "GET", "/api/auth/me", { token });
      assert.equal(res.status, 401, label);
      assert.equal(res.body.error.code, "unauthorized", label);
    }
    const bad = await call(app, "GET", "/api/auth/me", { headers: { Authorization: "Basic abc" } });
    assert.equal(bad.status, 401);
    const staleCookie = await call(app, "GET", "/api/auth/me", {
      cookie: `urbania_session=${expired}`,
    });
    assert.equal(staleCookie.status, 401);
    assert.match(
      staleCookie.headers.getSetCookie().join(),
      /urbania_session=;/,
      "stale cookie cleared",
    );
  }));

Deno.test("auth - a session whose row expired is refused even with a valid token", () =>
  withApp(async (app) => {
    const u = await registerUser(app);
    await app.sql`update sessions set expires_at = now() - interval '1 second'`;
    assert.equal((await call(app, "GET", "/api/auth/me", { token: u.token })).status, 401);
  }));

Deno.test("auth - a session in use is renewed past half its life", () =>
  withApp(async (app) => {
    const u = await registerUser(app);
    const fresh = await call(app, "GET", "/api/auth/me", { token: u.token });
    assert.equal(fresh.headers.get("X-Access-Token"), null, "no renewal for a fresh token");

    const now = Math.floor(Date.now() / 1000);
    const aging = await resign(u.token, { iat: now - 1500, exp: now + 300 });
    await app.sql`update sessions set expires_at = now() + interval '5 minutes'`;
    const res = await call(app, "GET", "/api/auth/me", { token: aging });
    assert.equal(res.status, 200);
    const renewed = res.headers.get("X-Access-Token");
    assert.ok(renewed, "a renewed token is returned");
    assert.ok(decodeJwt(renewed).exp! >= now + 1700);
    assert.equal(decodeJwt(renewed).sid, decodeJwt(u.token).sid, "same session");
    const [row] = await app
      .sql`select extract(epoch from expires_at - now())::int as left from sessions
      where user_id = ${u.id}`;
    assert.ok(row.left > 1700, `row extended (${row.left}s left)`);

    const byCookie = await call(app, "GET", "/api/auth/me", { cookie: `urbania_session=${aging}` });
    assert.match(byCookie.headers.getSetCookie().join(), /urbania_session=ey/, "cookie renewed");
    assert.equal((await call(app, "GET", "/api/auth/me", { token: renewed })).status, 200);
  }));

Deno.test("auth - cookie-authenticated writes must come from our origin", () =>
  withApp(async (app) => {
    const u = await registerUser(app);
    const foreign = await call(app, "POST", "/api/auth/logout", {
      cookie: u.cookie,
      origin: "https://evil.example",
    });
    assert.equal(foreign.status, 403);
    assert.equal(foreign.body.error.code, "forbidden_origin");
    const missing = await call(app, "POST", "/api/auth/logout", { cookie: u.cookie, origin: null });
    assert.equal(missing.status, 403);
    assert.equal(
      (await call(app, "GET", "/api/auth/me", { cookie: u.cookie })).status,
      200,
      "still signed in",
    );

    const bearer = await call(app, "POST", "/api/auth/logout", { token: u.token, origin: null });
    assert.equal(bearer.status, 204, "bearer clients need no Origin");

    const login = await call(app, "POST", "/api/auth/login", {
      origin: "https://evil.example",
      json: { email: u.email, password: u.password },
    });
    assert.equal(login.status, 403, "no login from a foreign page");
    const own = await call(app, "POST", "/api/auth/login", {
      origin: ORIGIN,
      json: { email: u.email, password: u.password },
    });
    assert.equal(own.status, 200);
  }));

Deno.test("auth - no password or hash is ever returned or logged", () =>
  withApp(async (app) => {
    const password = "very-distinctive-password-7731";
    const u = await registerUser(app, { password });
    const replies = [
      await call(app, "POST", "/api/auth/login", { json: { email: u.email, password } }),
      await call(app, "POST", "/api/auth/login", {
        json: { email: u.email, password: password + "x" },
      }),
      await call(app, "GET", "/api/auth/me", { token: u.token }),
      await call(app, "POST", "/api/auth/register", {
        json: { email: u.email, password, display_name: "x" },
      }),
    ];
    const [row] = await app.sql`select password_hash from users where id = ${u.id}`;
    const seen = JSON.stringify(replies.map((r) => r.body)) + app.logs.join("\n");
    assert.ok(!seen.includes(password), "password not echoed or logged");
    assert.ok(!seen.includes(row.password_hash), "hash not echoed or logged");
    assert.ok(!seen.includes("$argon2"), "no hash fragment anywhere");
  }));
