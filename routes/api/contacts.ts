import { Hono } from "hono";
import { z } from "zod";
import { addContactByEmail, listContacts, removeContact } from "../../lib/contacts.ts";
import type { AppEnv, Deps } from "../context.ts";
import { emailSchema } from "../schemas.ts";
import { enforceLimits } from "../../lib/rate_limit.ts";
import { jsonBody, param, requireUser } from "../middleware.ts";

const addSchema = z.object({ email: emailSchema });

/** /api/contacts: the signed-in user's own contacts. */
export function contactRoutes(deps: Deps) {
  const { config, sql, sessions } = deps;
  const app = new Hono<AppEnv>();
  app.use(requireUser(config, sessions));

  app.get("/", async (c) => c.json(await listContacts(sql, c.get("user").id)));

  // Each addition is a lookup by email: counted, so that finding out who has an account here
  // cannot be done at speed.
  app.post("/", jsonBody(addSchema), async (c) => {
    const user = c.get("user");
    await enforceLimits(
      sql,
      [{ key: `contacts:add:${user.id}`, ...deps.limits.contactAdds }],
      "contacts added",
    );
    const contact = await addContactByEmail(sql, user.id, c.req.valid("json").email);
    return c.json(contact, 201);
  });

  app.delete("/:user_id", param("user_id", z.object({ user_id: z.uuid() })), async (c) => {
    await removeContact(sql, c.get("user").id, c.req.valid("param").user_id);
    return c.body(null, 204);
  });

  return app;
}
