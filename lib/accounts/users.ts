import type { Sql, Tx } from "../platform/db.ts";
import { AppError, isUniqueViolation } from "../platform/errors.ts";
import { hashPassword, verifyDecoy, verifyPassword } from "./passwords.ts";

export interface User {
  id: string;
  email: string;
  display_name: string;
  /** The language chosen with the switch; null until one is. */
  lang: "en" | "fr" | null;
}

/** Creates an account; 409 when the email (in any case) is taken. */
export async function registerUser(
  sql: Sql,
  input: { email: string; password: string; display_name: string },
): Promise<User> {
  const passwordHash = await hashPassword(input.password);
  try {
    const [user] = await sql<User[]>`
      insert into users (email, display_name, password_hash)
      values (${input.email}, ${input.display_name}, ${passwordHash})
      returning id, email, display_name, lang`;
    return user;
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw new AppError(409, "email_taken", "error.email_taken");
    }
    throw err;
  }
}

/** The user whose email and password match, or null; takes as long either way. */
export async function authenticate(
  sql: Sql,
  email: string,
  password: string,
): Promise<User | null> {
  const [row] = await sql<(User & { password_hash: string })[]>`
    select id, email, display_name, lang, password_hash from users
    where lower(email) = lower(${email})`;
  if (!row) {
    await verifyDecoy(password);
    return null;
  }
  if (!(await verifyPassword(password, row.password_hash))) return null;
  return { id: row.id, email: row.email, display_name: row.display_name, lang: row.lang };
}

/** Keeps the language a person chose. */
export async function setUserLang(sql: Sql, userId: string, lang: "en" | "fr"): Promise<void> {
  await sql`update users set lang = ${lang} where id = ${userId}`;
}

/**
 * Locks these people's rows, always in one order (by id), before anything that reads or
 * changes what holds between them: `share` to ring on the strength of a contact (rings queue
 * behind a block, and see it), `update` to change it (a contact request, a block). Taken
 * before any room's row, so that no two transactions wait on each other.
 */
export async function lockPeople(tx: Tx, ids: string[], mode: "share" | "update") {
  if (ids.length === 0) return;
  await tx`select 1 from users where id = any(${[...new Set(ids)]}::uuid[]) order by id
    ${mode === "share" ? tx`for share` : tx`for no key update`}`;
}
