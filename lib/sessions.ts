import { errors as joseErrors, jwtVerify, SignJWT } from "jose";
import type { Sql } from "./db.ts";
import type { User } from "./users.ts";

/** Sessions last 30 minutes and are renewed while in use. */
export const SESSION_SECONDS = 30 * 60;
// Renew once less than half the lifetime is left: at most one write per 15 minutes of use.
const RENEW_BELOW_SECONDS = SESSION_SECONDS / 2;
const ISSUER = "urbania";

export interface Session {
  user: User;
  /** SHA-256 of the session's secret id: the row's key. */
  idHash: Uint8Array;
}

export interface IssuedToken {
  token: string;
  expiresIn: number;
}

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
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

/** Session storage and the signed tokens that name its rows. */
export class SessionStore {
  constructor(private sql: Sql, private secret: Uint8Array) {}

  /** Starts a session for a user and returns its signed token. */
  async create(userId: string): Promise<IssuedToken> {
    const sid = randomId();
    const idHash = await sha256(sid);
    await this.sql`
      with pruned as (delete from sessions where user_id = ${userId} and expires_at < now())
      insert into sessions (id_hash, user_id, expires_at)
      values (${idHash}, ${userId}, now() + make_interval(secs => ${SESSION_SECONDS}))`;
    return { token: await sign(this.secret, userId, sid), expiresIn: SESSION_SECONDS };
  }

  /**
   * The session a token names, or null when the token is malformed, tampered, expired or
   * revoked. `renewed` carries a fresh token once the old one is past half its life.
   */
  async validate(token: string): Promise<{ session: Session; renewed?: IssuedToken } | null> {
    let sid: string, userId: string, exp: number;
    try {
      const { payload } = await jwtVerify(token, this.secret, {
        algorithms: ["HS256"],
        issuer: ISSUER,
        requiredClaims: ["sub", "exp", "sid"],
      });
      if (typeof payload.sid !== "string" || typeof payload.sub !== "string") return null;
      sid = payload.sid;
      userId = payload.sub;
      exp = payload.exp!;
    } catch (err) {
      if (err instanceof joseErrors.JOSEError || err instanceof TypeError) return null;
      throw err;
    }
    const idHash = await sha256(sid);
    const [row] = await this.sql<User[]>`
      select u.id, u.email, u.display_name
      from sessions s join users u on u.id = s.user_id
      where s.id_hash = ${idHash} and s.user_id = ${userId} and s.expires_at > now()`;
    if (!row) return null;
    const session = { user: row, idHash };
    if (exp - Date.now() / 1000 >= RENEW_BELOW_SECONDS) return { session };
    await this.sql`
      update sessions set expires_at = now() + make_interval(secs => ${SESSION_SECONDS})
      where id_hash = ${idHash}`;
    return {
      session,
      renewed: { token: await sign(this.secret, userId, sid), expiresIn: SESSION_SECONDS },
    };
  }

  /** Ends exactly one session. */
  async revoke(idHash: Uint8Array): Promise<void> {
    await this.sql`delete from sessions where id_hash = ${idHash}`;
  }
}
