// Signing in and signing up, with the throttles in front of each: shared by the API and the
// sign-in and registration forms.
import type { Sql } from "../platform/db.ts";
import { AppError } from "../platform/errors.ts";
import { enforceLimits, resetLimit } from "../platform/rate_limit.ts";
import { authenticate, registerUser, type User } from "./users.ts";

/** Login throttling: attempts per email and per client address within a window. */
export interface LoginLimits {
  perEmail: number;
  perAddress: number;
  windowSeconds: number;
}

/**
 * Checks a sign-in attempt from `address` against the throttles and the stored hash; the
 * user, or an AppError (401 for bad credentials, 429 when throttled).
 */
export async function signIn(
  sql: Sql,
  limits: LoginLimits,
  address: string,
  input: { email: string; password: string },
): Promise<User> {
  const emailKey = `login:email:${input.email.toLowerCase()}`;
  await enforceLimits(sql, [
    { key: emailKey, max: limits.perEmail, windowSeconds: limits.windowSeconds },
    { key: `login:addr:${address}`, max: limits.perAddress, windowSeconds: limits.windowSeconds },
  ], "limit.signIns");
  const user = await authenticate(sql, input.email, input.password);
  if (!user) throw new AppError(401, "invalid_credentials", "error.invalid_credentials");
  await resetLimit(sql, emailKey);
  return user;
}

/**
 * Creates an account (409 when the email is taken), counted against its address first: each
 * attempt costs an argon2id hash, taken email or not.
 */
export async function signUp(
  sql: Sql,
  perAddress: { max: number; windowSeconds: number },
  address: string,
  input: { email: string; password: string; display_name: string },
): Promise<User> {
  await enforceLimits(sql, [{ key: `register:addr:${address}`, ...perAddress }], "limit.signUps");
  return await registerUser(sql, input);
}
