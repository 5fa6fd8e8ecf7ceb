import { Hono } from "hono";
import { signIn, signUp } from "../../lib/accounts/sign_in.ts";
import type { User } from "../../lib/accounts/users.ts";
import type { IssuedToken } from "../../lib/accounts/sessions.ts";
import type { AppEnv, Deps } from "../context.ts";
import { loginSchema, registerSchema } from "../schemas.ts";
import {
  clearSessionCookie,
  clientAddress,
  jsonBody,
  requireUser,
  setSessionCookie,
} from "../middleware.ts";

function sessionBody(user: User, issued: IssuedToken) {
  return {
    user,
    access_token: issued.token,
    token_type: "bearer",
    expires_in: issued.expiresIn,
  };
}

/** /api/auth: register, login, logout, me. */
export function authRoutes(deps: Deps) {
  const { config, sessions, sql } = deps;
  const app = new Hono<AppEnv>();

  app.post("/register", jsonBody(registerSchema), async (c) => {
    const address = clientAddress(c, config);
    const user = await signUp(sql, deps.limits.registerPerAddress, address, c.req.valid("json"));
    const issued = await sessions.create(user.id);
    setSessionCookie(c, config, issued.token);
    return c.json(sessionBody(user, issued), 201);
  });

  app.post("/login", jsonBody(loginSchema), async (c) => {
    const address = clientAddress(c, config);
    const user = await signIn(sql, deps.loginLimits, address, c.req.valid("json"));
    const issued = await sessions.create(user.id);
    setSessionCookie(c, config, issued.token);
    return c.json(sessionBody(user, issued), 200);
  });

  app.post("/logout", requireUser(config, sessions), async (c) => {
    await sessions.revoke(c.get("claims").idHash);
    clearSessionCookie(c, config);
    return c.body(null, 204);
  });

  app.get("/me", requireUser(config, sessions), (c) => c.json(c.get("user")));

  return app;
}
