import { Hono } from "hono";
import {
  acceptInvite,
  cancelInvite,
  declineInvite,
  dismissMissed,
  listInvites,
} from "../../lib/meetings/invites.ts";
import { viewRoom } from "../../lib/meetings/rooms.ts";
import type { AppEnv, Deps } from "../context.ts";
import { langOf, requireUser } from "../middleware.ts";
import { tr } from "../../i18n/server.ts";
import { uuidOr404 } from "../schemas.ts";

const inviteId = (raw: string) => uuidOr404(raw, "error.nf.call");

/** /api/invites: calls ringing the user, and their answers. */
export function inviteRoutes(deps: Deps) {
  const { config, sql, sessions } = deps;
  const app = new Hono<AppEnv>();
  const auth = requireUser(config, sessions);

  app.get("/", auth, async (c) => c.json(await listInvites(sql, c.get("user").id)));

  app.post("/:id/accept", auth, async (c) => {
    const user = c.get("user");
    const roomId = await acceptInvite(sql, inviteId(c.req.param("id")), user.id);
    deps.metrics.answers.inc({ answer: "accepted" });
    return c.json(await viewRoom(sql, roomId, user.id, config.publicUrl));
  });

  app.post("/:id/decline", auth, async (c) => {
    await declineInvite(sql, inviteId(c.req.param("id")), c.get("user").id);
    deps.metrics.answers.inc({ answer: "declined" });
    return c.json({ message: tr(langOf(c), "done.declined") });
  });

  app.post("/:id/cancel", auth, async (c) => {
    await cancelInvite(sql, inviteId(c.req.param("id")), c.get("user").id);
    return c.json({ message: tr(langOf(c), "done.withdrawn") });
  });

  // A missed call, seen or called back, leaves the list.
  app.post("/:id/dismiss", auth, async (c) => {
    await dismissMissed(sql, inviteId(c.req.param("id")), c.get("user").id);
    return c.json({ message: tr(langOf(c), "done.dismissed") });
  });

  return app;
}
