import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHmac } from "node:crypto";
import { SignJWT } from "jose";
import { verifyHs256 } from "./jwt.ts";

const secret = new TextEncoder().encode("a-secret-of-at-least-thirty-two-bytes!");
const now = () => Math.floor(Date.now() / 1000);

function jose(claims: Record<string, unknown>, header: Record<string, unknown> = { alg: "HS256" }) {
  return new SignJWT(claims)
    .setProtectedHeader(header as { alg: string })
    .sign(secret);
}

/** Signs any header and payload by hand, to build tokens jose would refuse to make. */
function handmade(header: unknown, payload: unknown, key = secret) {
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const input = `${enc(header)}.${enc(payload)}`;
  return `${input}.${createHmac("sha256", key).update(input).digest("base64url")}`;
}

const good = () => ({ iss: "urbania", sub: "u1", sid: "s1", exp: now() + 60 });

Deno.test("jwt - accepts what jose signs with HS256 and returns the claims", async () => {
  const claims = verifyHs256(await jose(good()), secret, "urbania");
  assert.equal(claims?.sub, "u1");
  assert.equal(claims?.sid, "s1");
});

Deno.test("jwt - refuses expired, not-yet-valid, foreign and claim-less tokens", async () => {
  const cases: [string, Record<string, unknown>][] = [
    ["expired", { ...good(), exp: now() - 1 }],
    ["no exp", { iss: "urbania", sub: "u1" }],
    ["exp not a number", { ...good(), exp: String(now() + 60) }],
    ["nbf in the future", { ...good(), nbf: now() + 30 }],
    ["other issuer", { ...good(), iss: "someone-else" }],
    ["no issuer", { sub: "u1", exp: now() + 60 }],
  ];
  for (const [label, claims] of cases) {
    assert.equal(verifyHs256(await jose(claims), secret, "urbania"), null, label);
  }
});

Deno.test("jwt - refuses other algorithms, other keys and altered tokens", async () => {
  const token = await jose(good());
  const [h, p, s] = token.split(".");
  const cases: [string, string][] = [
    ["alg none", handmade({ alg: "none" }, good())],
    ["alg HS512 header", handmade({ alg: "HS512" }, good())],
    ["crit header", handmade({ alg: "HS256", crit: ["b64"], b64: false }, good())],
    ["payload not an object", handmade({ alg: "HS256" }, [1, 2])],
    ["another key", handmade({ alg: "HS256" }, good(), new TextEncoder().encode("x".repeat(40)))],
    ["signature cut short", `${h}.${p}.${s.slice(0, -4)}`],
    ["signature with junk", `${h}.${p}.${s}!!`],
    ["signature padded", `${h}.${p}.${s}=`],
    [
      "payload swapped",
      `${h}.${Buffer.from(JSON.stringify({ ...good(), sub: "u2" })).toString("base64url")}.${s}`,
    ],
    ["two parts", `${h}.${p}`],
    ["four parts", `${token}.x`],
    ["empty", ""],
  ];
  for (const [label, t] of cases) assert.equal(verifyHs256(t, secret, "urbania"), null, label);
  assert.ok(verifyHs256(handmade({ alg: "HS256", typ: "JWT" }, good()), secret, "urbania"));
});
