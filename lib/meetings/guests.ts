// Guests: people without an account who join through a meeting's link when the host allows
// it. Joining gives the browser a pass (an HttpOnly cookie for that room; only its hash is
// stored) that gets it a fresh LiveKit token on every connect, so a reload after the token's
// ten minutes still works and a guest the host removed stays out.
import { Buffer } from "node:buffer";
import type { Sql } from "../platform/db.ts";
import { AppError } from "../platform/errors.ts";
import { GUEST_IDENTITY, newGuestIdentity } from "./livekit.ts";
import { parseHeldSecret, secretHash } from "./lobby.ts";
import {
  type CallType,
  guestsNotAllowed,
  newcomerRefusal,
  removedByHost,
  roomEnded,
  roomForGuest,
  roomNotFound,
  type RoomStatus,
} from "./rooms.ts";

/** How long a guest pass lasts in the browser. */
export const GUEST_PASS_SECONDS = 12 * 60 * 60;

/** The cookie holding a guest's pass for one room. */
export const guestCookieName = (roomId: string) => `${GUEST_COOKIE_PREFIX}${roomId}`;
export const GUEST_COOKIE_PREFIX = "urbania_guest_";

export interface GuestPass {
  identity: string;
  secret: string;
}

/** The cookie's value, `identity.secret`. */
export const formatGuestPass = (p: GuestPass) => `${p.identity}.${p.secret}`;

export function parseGuestPass(raw: string | undefined): GuestPass | null {
  const held = parseHeldSecret(raw, GUEST_IDENTITY);
  return held && { identity: held.id, secret: held.secret };
}

export const guestPassRequired = () =>
  new AppError(401, "guest_pass_required", "error.guest_pass_required");

export interface Guest {
  identity: string;
  display_name: string;
  call_type: CallType;
}

/**
 * A guest joins through the link: a new guest with a new pass, or, for a browser that holds a
 * pass for this room already, the same guest under the name given now. 403 when that guest
 * was removed by the host (a removed guest cannot come back from the same browser).
 */
export async function joinAsGuest(
  sql: Sql,
  roomId: string,
  displayName: string,
  held: GuestPass | null,
): Promise<{ guest: Guest; pass: GuestPass }> {
  const room = await roomForGuest(sql, roomId);
  const { call_type } = room;
  if (held) {
    const [row] = await sql<{ removed: boolean }[]>`
      update room_guests set display_name = case when removed_at is null
          then ${displayName} else display_name end
      where room_id = ${roomId} and identity = ${held.identity}
        and pass_hash = ${await secretHash(held.secret)}
      returning removed_at is not null as removed`;
    if (row?.removed) throw removedByHost();
    if (row) {
      return {
        guest: { identity: held.identity, display_name: displayName, call_type },
        pass: held,
      };
    }
  }
  // Someone the meeting does not know yet: only through an open, unlocked meeting.
  const refusal = newcomerRefusal(room);
  if (refusal) throw refusal;
  const pass = {
    identity: newGuestIdentity(),
    secret: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url"),
  };
  await sql`
    insert into room_guests (room_id, identity, display_name, pass_hash, in_call)
    values (${roomId}, ${pass.identity}, ${displayName}, ${await secretHash(pass.secret)}, false)`;
  return { guest: { identity: pass.identity, display_name: displayName, call_type }, pass };
}

/**
 * The guest a pass stands for, when that guest may still connect: 401 without a valid pass for
 * this room, 404 no room, 410 ended, 403 guests no longer allowed or removed by the host.
 */
export async function guestForPass(
  sql: Sql,
  roomId: string,
  pass: GuestPass | null,
): Promise<Guest> {
  if (!pass) throw guestPassRequired();
  const [row] = await sql<{
    status: RoomStatus;
    call_type: CallType;
    allow_guests: boolean;
    display_name: string | null;
    removed: boolean | null;
  }[]>`
    select r.status, r.call_type, r.allow_guests, g.display_name,
      g.removed_at is not null as removed
    from rooms r
    left join room_guests g on g.room_id = r.id and g.identity = ${pass.identity}
      and g.pass_hash = ${await secretHash(pass.secret)}
    where r.id = ${roomId}`;
  if (!row) throw roomNotFound();
  if (row.status === "ended") throw roomEnded();
  if (row.display_name === null) throw guestPassRequired();
  if (row.removed) throw removedByHost();
  if (!row.allow_guests) throw guestsNotAllowed();
  return { identity: pass.identity, display_name: row.display_name, call_type: row.call_type };
}
