import { Buffer } from "node:buffer";
import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Verifies a compact HS256 JWT (as jose signs them) synchronously and returns its payload, or
 * null when the header is not exactly HS256, the signature does not match, or it has expired.
 * Sessions are checked on every request; WebCrypto's async HMAC costs several times more than
 * the HMAC itself there.
 */
export function verifyHs256(
  token: string,
  secret: Uint8Array,
  issuer: string,
): Record<string, unknown> | null {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  const [header, payload, signature] = parts;
  const expected = createHmac("sha256", secret).update(`${header}.${payload}`).digest();
  const given = Buffer.from(signature, "base64url");
  // base64url decoding skips stray characters: re-encoding must give back exactly what was sent.
  if (given.length !== expected.length || given.toString("base64url") !== signature) return null;
  if (!timingSafeEqual(given, expected)) return null;
  let head: unknown, claims: unknown;
  try {
    head = JSON.parse(Buffer.from(header, "base64url").toString("utf8"));
    claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    return null;
  }
  if (!isObject(head) || head.alg !== "HS256" || "crit" in head) return null;
  if (!isObject(claims) || claims.iss !== issuer) return null;
  const now = Date.now() / 1000;
  if (typeof claims.exp !== "number" || claims.exp <= now) return null;
  if (claims.nbf !== undefined && (typeof claims.nbf !== "number" || claims.nbf > now)) return null;
  return claims;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
