import type { Assets } from "../lib/server/assets.ts";
import type { Config } from "../lib/platform/config.ts";
import type { Sql } from "../lib/platform/db.ts";
import type { Metrics } from "../lib/server/metrics.ts";
import type { LiveKit } from "../lib/meetings/livekit.ts";
import type { Logger } from "../lib/platform/log.ts";
import type { Realtime } from "../lib/realtime/realtime.ts";
import type { SessionClaims, SessionStore } from "../lib/accounts/sessions.ts";
import type { User } from "../lib/accounts/users.ts";
import type { LoginLimits } from "../lib/accounts/sign_in.ts";

export type { LoginLimits };

/** Guest joins per client address within a window. */
export interface GuestLimits {
  perAddress: number;
  windowSeconds: number;
}

/** At most `max` in a fixed window of `windowSeconds`. */
export interface Window {
  max: number;
  windowSeconds: number;
}

/** What one client may make the server do, beyond sign-in and guest joins. */
export interface Limits {
  /** Accounts created from one client address (each costs an argon2id hash). */
  registerPerAddress: Window;
  /** Meetings one person creates. */
  roomsPerCaller: Window;
  /** Calls one person starts ringing (a new meeting with invitees, or inviting more). */
  ringsPerCaller: Window;
  /** Times one caller rings the same person. */
  ringsPerPair: Window;
  /** Times one person is rung, by anyone. */
  ringsPerPerson: Window;
  /** Contacts one person adds (each a lookup by email). */
  contactAdds: Window;
  /** Connection tests one person runs (each a LiveKit token; a test takes three). */
  connectionChecks: Window;
  /** The deployment doctor's webhook probes, per address. */
  probesPerAddress: Window;
  /** Requests to join a meeting (knocks), per address: each reaches every host's tabs. */
  knocksPerAddress: Window;
  /** Hands raised or lowered by one person in a call (each a LiveKit update). */
  handsPerPerson: Window;
  /** Moderation acts of one host or co-host that call LiveKit (mute all, lower hands). */
  moderationPerPerson: Window;
}

/** What route modules are built from. */
export interface Deps {
  config: Config;
  sql: Sql;
  log: Logger;
  sessions: SessionStore;
  loginLimits: LoginLimits;
  guestLimits: GuestLimits;
  limits: Limits;
  livekit: LiveKit;
  /** The browser bundle; null when it was not built (pages then answer 503). */
  assets: Assets | null;
  /** This instance's sockets and the event channel. */
  realtime: Realtime;
  /** What this instance counts for GET /metrics. */
  metrics: Metrics;
}

export interface AppEnv {
  Variables: {
    claims: SessionClaims;
    authVia: "bearer" | "cookie";
    user: User;
  };
}
