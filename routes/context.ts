import type { Assets } from "../lib/assets.ts";
import type { Config } from "../lib/config.ts";
import type { Sql } from "../lib/db.ts";
import type { LiveKit } from "../lib/livekit.ts";
import type { Logger } from "../lib/log.ts";
import type { Realtime } from "../lib/realtime.ts";
import type { SessionClaims, SessionStore } from "../lib/sessions.ts";
import type { User } from "../lib/users.ts";

/** Login throttling: attempts per email and per client address within a window. */
export interface LoginLimits {
  perEmail: number;
  perAddress: number;
  windowSeconds: number;
}

/** Guest joins per client address within a window. */
export interface GuestLimits {
  perAddress: number;
  windowSeconds: number;
}

/** What route modules are built from. */
export interface Deps {
  config: Config;
  sql: Sql;
  log: Logger;
  sessions: SessionStore;
  loginLimits: LoginLimits;
  guestLimits: GuestLimits;
  livekit: LiveKit;
  /** The browser bundle; null when it was not built (pages then answer 503). */
  assets: Assets | null;
  /** This instance's sockets and the event channel. */
  realtime: Realtime;
}

export interface AppEnv {
  Variables: {
    claims: SessionClaims;
    authVia: "bearer" | "cookie";
    user: User;
  };
}
