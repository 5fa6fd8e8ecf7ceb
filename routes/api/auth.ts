import { Hono } from "hono";
import type { Context } from "hono";
import { z } from "zod";
import { AppError } from "../../lib/platform/errors.ts";
import { enforceLimits, resetLimit } from "../../lib/platform/rate_limit.ts";
import { authenticate, registerUser, type User } from "../../lib/accounts/users.ts";
import type { IssuedToken } from "../../lib/accounts/sessions.ts";
import type { AppEnv, Deps } from "../context.ts";
import { emailSchema, text } from "../schemas.ts";
import {
  clearSessionCookie,
  clientAddress,
  jsonBody,
  requireUser,
  setSessionCookie,
} from "../middleware.ts";

export const registerSchema = z.object({
  email: emailSchema,
  password: z.string().min(8).max(128),
  display_name: text(1, 64),
});

export const loginSchema = z.object({
  email: emailSchema,
  password: z.string().min(1).max(128),
});

function sessionBody(user: User, issued: IssuedToken) {
  return {
    user,
    access_token: issued.token,
    token_type: "bearer",
    expires_in: issued.expiresIn,
  };
}

/**
 * Checks a sign-in attempt against the throttles and the stored hash; the user, or an AppError
 * (401 for bad credentials, 429 when throttled). Shared by the API and the sign-in form.
 */
export async function signIn(
  deps: Deps,
  c: Context,
  input: z.infer<typeof loginSchema>,
): Promise<User> {
  const { config, sql, loginLimits } = deps;
  const emailKey = `login:email:${input.email.toLowerCase()}`;
  await enforceLimits(sql, [
    { key: emailKey, max: loginLimits.perEmail, windowSeconds: loginLimits.windowSeconds },
    {
      key: `login:addr:${clientAddress(c, config)}`,
      max: loginLimits.perAddress,
      windowSeconds: loginLimits.windowSeconds,
    },
  ], "limit.signIns");
  const user = await authenticate(sql, input.email, input.password);
  if (!user) throw new AppError(401, "invalid_credentials", "error.invalid_credentials");
  await resetLimit(sql, emailKey);
  return user;
}

/**
 * Creates an account (409 when the email is taken), counted against its address first: each
 * attempt costs an argon2id hash, taken email or not. Shared by the API and the form.
 */
export async function signUp(
  deps: Deps,
  c: Context,
  input: z.infer<typeof registerSchema>,
): Promise<User> {
  await enforceLimits(deps.sql, [{
    key: `register:addr:${clientAddress(c, deps.config)}`,
    ...deps.limits.registerPerAddress,
  }], "limit.signUps");
  return await registerUser(deps.sql, input);
}

/** /api/auth: register, login, logout, me. */
export function authRoutes(deps: Deps) {
  const { config, sessions } = deps;
  const app = new Hono<AppEnv>();

  app.post("/register", jsonBody(registerSchema), async (c) => {
    const user = await signUp(deps, c, c.req.valid("json"));
    const issued = await sessions.create(user.id);
    setSessionCookie(c, config, issued.token);
    return c.json(sessionBody(user, issued), 201);
  });

  app.post("/login", jsonBody(loginSchema), async (c) => {
    const user = await signIn(deps, c, c.req.valid("json"));
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
