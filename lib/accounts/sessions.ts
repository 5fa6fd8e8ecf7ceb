import { createHash } from "node:crypto";
import { SignJWT } from "jose";
import { verifyHs256 } from "./jwt.ts";
import type { Sql } from "../platform/db.ts";
import type { User } from "./users.ts";
import { EVENTS_CHANNEL } from "../platform/events.ts";

/** Sessions last 30 minutes and are renewed while in use. */
export const SESSION_SECONDS = 30 * 60;
// Renew once less than half the lifetime is left: at most one write per 15 minutes of use.
const RENEW_BELOW_SECONDS = SESSION_SECONDS / 2;
const ISSUER = "urbania";

/** What an authentic session token says. */
export interface SessionClaims {
  /** The session's secret id. */
  sid: string;
  /** SHA-256 of the secret id: the session row's key. */
  idHash: Uint8Array;
  userId: string;
  /** Expiry of this token, in seconds since the epoch. */
  exp: number;
}

export interface IssuedToken {
  token: string;
  expiresIn: number;
}

// node:crypto hashes synchronously; WebCrypto's digest is an async op on a thread pool,
// which costs more than the hash itself on the hot path of every request.
function sha256(text: string): Uint8Array {
  return new Uint8Array(createHash("sha256").update(text).digest());
}

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(
    /=+$/,
    "",
  );
}

async function sign(secret: Uint8Array, userId: string, sid: string): Promise<string> {
  return await new SignJWT({ sid })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(userId)
    .setIssuer(ISSUER)
    .setIssuedAt()
    .setExpirationTime(`${SESSION_SECONDS}s`)
    .sign(secret);
}

/** How sockets and events name a session: hex of its id hash (never the secret id itself). */
export function sessionKey(idHash: Uint8Array): string {
  return Array.from(idHash, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** SQL condition on `sessions s`: the row these claims name exists, is theirs and is unexpired. */
export function liveSession(sql: Sql, claims: SessionClaims) {
  return sql`s.id_hash = ${claims.idHash} and s.user_id = ${claims.userId} and s.expires_at > now()`;
}

/** Session storage and the signed tokens that name its rows. */
export class SessionStore {
  constructor(private sql: Sql, private secret: Uint8Array) {}

  /** Starts a session for a user and returns its signed token. */
  async create(userId: string): Promise<IssuedToken> {
    const sid = randomId();
    const idHash = sha256(sid);
    await this.sql`
      with pruned as (delete from sessions where user_id = ${userId} and expires_at < now())
      insert into sessions (id_hash, user_id, expires_at)
      values (${idHash}, ${userId}, now() + make_interval(secs => ${SESSION_SECONDS}))`;
    return { token: await sign(this.secret, userId, sid), expiresIn: SESSION_SECONDS };
  }

  /**
   * The claims of an authentic, unexpired token, checked without the database; null when the
   * token is malformed, tampered or expired. Whether its session row still exists is `load`'s
   * (or a query that joins `sessions`) to say.
   */
  verify(token: string): SessionClaims | null {
    const claims = verifyHs256(token, this.secret, ISSUER);
    if (!claims || typeof claims.sid !== "string" || typeof claims.sub !== "string") return null;
    return {
      sid: claims.sid,
      idHash: sha256(claims.sid),
      userId: claims.sub,
      exp: claims.exp as number,
    };
  }

  /** The user of a live session row, or null when it was revoked or has expired. */
  async load(claims: SessionClaims): Promise<User | null> {
    const [row] = await this.sql<User[]>`
      select u.id, u.email, u.display_name, u.lang
      from sessions s join users u on u.id = s.user_id
      where ${liveSession(this.sql, claims)}`;
    return row ?? null;
  }

  /** A fresh token for a session in use past half its life (the row is extended too). */
  async renewIfDue(claims: SessionClaims): Promise<IssuedToken | undefined> {
    if (claims.exp - Date.now() / 1000 >= RENEW_BELOW_SECONDS) return undefined;
    const rows = await this.sql`
      update sessions set expires_at = now() + make_interval(secs => ${SESSION_SECONDS})
      where id_hash = ${claims.idHash} and expires_at > now()
      returning 1`;
    if (rows.length === 0) return undefined;
    return {
      token: await sign(this.secret, claims.userId, claims.sid),
      expiresIn: SESSION_SECONDS,
    };
  }

  /** Ends exactly one session; its open sockets, on every instance, are closed. */
  async revoke(idHash: Uint8Array): Promise<void> {
    await this.sql`
      with gone as (delete from sessions where id_hash = ${idHash} returning 1)
      select pg_notify(${EVENTS_CHANNEL}, ${
      JSON.stringify({ e: "signout", session: sessionKey(idHash) })
    }) from gone`;
  }
}
