import { Hono } from "hono";
import { z } from "zod";
import {
  acceptRequest,
  blockPerson,
  declineRequest,
  listBlocked,
  listContacts,
  listRequests,
  removeContact,
  requestContact,
  unblockPerson,
  withdrawRequest,
} from "../../lib/meetings/contacts.ts";
import type { AppEnv, Deps } from "../context.ts";
import { emailSchema } from "../schemas.ts";
import { enforceLimits } from "../../lib/platform/rate_limit.ts";
import { jsonBody, langOf, param, requireUser } from "../middleware.ts";
import { tr } from "../../i18n/server.ts";

const addSchema = z.object({ email: emailSchema });
const blockSchema = z.object({ user_id: z.uuid() });
const userParam = param("user_id", z.object({ user_id: z.uuid() }));
const requestParam = param("id", z.object({ id: z.uuid() }));

/** /api/contacts: the signed-in user's contacts, the requests that make them, and blocks. */
export function contactRoutes(deps: Deps) {
  const { config, sql, sessions } = deps;
  const app = new Hono<AppEnv>();
  app.use(requireUser(config, sessions));

  app.get("/", async (c) => c.json(await listContacts(sql, c.get("user").id)));

  // Asking for someone by email. The answer is the same whether or not an account has that
  // email (and counted), so that this cannot tell who is here.
  app.post("/", jsonBody(addSchema), async (c) => {
    const user = c.get("user");
    await enforceLimits(
      sql,
      [{ key: `contacts:add:${user.id}`, ...deps.limits.contactAdds }],
      "limit.contactRequests",
    );
    const sent = await requestContact(sql, user.id, c.req.valid("json").email);
    return c.json({
      request: sent,
      message: tr(langOf(c), "done.requestSent"),
    }, 202);
  });

  app.get("/requests", async (c) => c.json(await listRequests(sql, c.get("user").id)));

  app.post("/requests/:id/accept", requestParam, async (c) => {
    await acceptRequest(sql, c.req.valid("param").id, c.get("user").id);
    return c.json(await listContacts(sql, c.get("user").id));
  });

  app.post("/requests/:id/decline", requestParam, async (c) => {
    await declineRequest(sql, c.req.valid("param").id, c.get("user").id);
    return c.body(null, 204);
  });

  app.delete("/requests/:id", requestParam, async (c) => {
    await withdrawRequest(sql, c.req.valid("param").id, c.get("user").id);
    return c.body(null, 204);
  });

  app.get("/blocks", async (c) => c.json(await listBlocked(sql, c.get("user").id)));

  app.post("/blocks", jsonBody(blockSchema), async (c) => {
    await blockPerson(sql, c.get("user").id, c.req.valid("json").user_id);
    return c.body(null, 204);
  });

  app.delete("/blocks/:user_id", userParam, async (c) => {
    await unblockPerson(sql, c.get("user").id, c.req.valid("param").user_id);
    return c.body(null, 204);
  });

  app.delete("/:user_id", userParam, async (c) => {
    await removeContact(sql, c.get("user").id, c.req.valid("param").user_id);
    return c.body(null, 204);
  });

  return app;
}
