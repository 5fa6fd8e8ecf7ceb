import { Hono } from "hono";
import { z } from "zod";
import { AppError } from "../../lib/platform/errors.ts";
import type { Tx } from "../../lib/platform/db.ts";
import { enforceLimits } from "../../lib/platform/rate_limit.ts";
import { endForEveryone } from "../../lib/meetings/host_controls.ts";
import { inviteMore } from "../../lib/meetings/invites.ts";
import {
  clearHistory,
  createRoom,
  joinRoom,
  leaveRoom,
  listRoomsForUser,
  MAX_INVITED,
  roomView,
  viewRoom,
} from "../../lib/meetings/rooms.ts";
import { ENTRY_POLICIES, type JoinJson } from "../../protocol/api.ts";
import { tr, trn } from "../../i18n/server.ts";
import type { AppEnv, Deps } from "../context.ts";
import { jsonBody, langOf, requireUser } from "../middleware.ts";
import { roomIdOr404, text } from "../schemas.ts";
import { tokenMinter } from "./tokens.ts";

/** An Idempotency-Key the API accepts. */
const REQUEST_KEY = /^[A-Za-z0-9_-]{8,100}$/;

const createSchema = z.object({
  room_name: text(1, 100),
  call_type: z.enum(["audio", "video"]),
  participants: z.array(z.uuid()).max(MAX_INVITED).default([]),
  allow_guests: z.boolean().default(true),
  entry: z.enum(ENTRY_POLICIES).default("knock"),
});
const inviteSchema = z.object({ participants: z.array(z.uuid()).min(1).max(MAX_INVITED) });

/** /api/livekit/rooms: meetings, their invitees, joining, leaving and ending them. */
export function roomRoutes(deps: Deps) {
  const { config, sql, sessions, livekit, log } = deps;
  const app = new Hono<AppEnv>();
  const auth = requireUser(config, sessions);
  const mint = tokenMinter(deps);
  const view = (id: string, userId: string) => viewRoom(sql, id, userId, config.publicUrl);

  // Counted in the transaction that rings: a refused or failed request counts nothing.
  /** Counts one ring from `caller` to each of `invitees`; 429 past any of the ring limits. */
  const ringLimits = (caller: string) => (tx: Tx, invitees: string[]) =>
    enforceLimits(tx, [
      { key: `ring:caller:${caller}`, ...deps.limits.ringsPerCaller },
      ...invitees.flatMap((id) => [
        { key: `ring:pair:${caller}:${id}`, ...deps.limits.ringsPerPair },
        { key: `ring:person:${id}`, ...deps.limits.ringsPerPerson },
      ]),
    ], "limit.calls");

  // Idempotency-Key: a retry of the same request (after a timeout or a 503) answers 200 with
  // the meeting the first one created, instead of creating and ringing another.
  app.post("/rooms", auth, jsonBody(createSchema), async (c) => {
    const user = c.get("user");
    const requestKey = c.req.header("Idempotency-Key");
    if (requestKey !== undefined && !REQUEST_KEY.test(requestKey)) {
      throw new AppError(400, "invalid_idempotency_key", "error.invalid_idempotency_key");
    }
    const input = c.req.valid("json");
    const { id, created } = await createRoom(sql, user.id, input, {
      ringSeconds: config.inviteRingSeconds,
      requestKey,
      beforeRing: ringLimits(user.id),
      beforeCreate: (tx) =>
        enforceLimits(
          tx,
          [{ key: `rooms:caller:${user.id}`, ...deps.limits.roomsPerCaller }],
          "limit.rooms",
        ),
    });
    if (created) deps.metrics.rings.inc({}, input.participants?.length ?? 0);
    return c.json(await view(id, user.id), created ? 201 : 200);
  });

  app.get("/rooms", auth, async (c) => {
    const user = c.get("user");
    const rooms = await listRoomsForUser(sql, user.id);
    return c.json(rooms.map((r) => roomView(r, user.id, config.publicUrl)));
  });

  // The user's ended meetings leave their own list (everyone else's stays). Before
  // /rooms/:id, which would take "history" for a meeting's id.
  app.delete("/rooms/history", auth, async (c) => {
    const cleared = await clearHistory(sql, c.get("user").id);
    return c.json({
      cleared,
      message: trn(langOf(c), cleared, "done.cleared.one", "done.cleared.other"),
    });
  });

  app.get("/rooms/:id", auth, async (c) => {
    return c.json(await view(roomIdOr404(c.req.param("id")), c.get("user").id));
  });

  // The host rings more contacts into the meeting.
  app.post("/rooms/:id/invite", auth, jsonBody(inviteSchema), async (c) => {
    const user = c.get("user");
    const id = roomIdOr404(c.req.param("id"));
    const { participants } = c.req.valid("json");
    const rung = await inviteMore(
      sql,
      id,
      user.id,
      participants,
      config.inviteRingSeconds,
      ringLimits(user.id),
    );
    deps.metrics.rings.inc({}, rung);
    return c.json({ rung, room: await view(id, user.id) });
  });

  // The LiveKit token comes with the answer: a page that has none yet joins in one round trip.
  app.post("/rooms/:id/join", auth, async (c) => {
    const id = roomIdOr404(c.req.param("id"));
    await joinRoom(sql, id, c.get("user").id);
    const answer: JoinJson = { message: tr(langOf(c), "done.joined"), ...await mint.member(c, id) };
    return c.json(answer);
  });

  app.post("/rooms/:id/leave", auth, async (c) => {
    const id = roomIdOr404(c.req.param("id"));
    await leaveRoom(sql, id, c.get("user").id);
    return c.json({ message: tr(langOf(c), "done.left") });
  });

  app.delete("/rooms/:id", auth, async (c) => {
    const id = roomIdOr404(c.req.param("id"));
    await endForEveryone(sql, livekit, log, id, c.get("user").id);
    return c.body(null, 204);
  });

  return app;
}
