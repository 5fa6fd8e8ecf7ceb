import type { Sql } from "./db.ts";
import { AppError, isUniqueViolation, notFound } from "./errors.ts";

export interface Contact {
  id: string;
  email: string;
  display_name: string;
  added_at: Date;
}

/** The owner's contacts, by display name. */
export async function listContacts(sql: Sql, ownerId: string): Promise<Contact[]> {
  return await sql<Contact[]>`
    select u.id, u.email, u.display_name, c.created_at as added_at
    from contacts c join users u on u.id = c.contact_id
    where c.owner_id = ${ownerId}
    order by lower(u.display_name), u.id`;
}

/** Adds the account with this email to the owner's contacts. */
export async function addContactByEmail(
  sql: Sql,
  ownerId: string,
  email: string,
): Promise<Contact> {
  try {
    const [row] = await sql<(Contact & { is_self: boolean })[]>`
      with target as (select id, email, display_name from users where lower(email) = lower(${email})),
      added as (
        insert into contacts (owner_id, contact_id)
        select ${ownerId}, id from target where id <> ${ownerId}
        returning contact_id, created_at
      )
      select t.id, t.email, t.display_name, a.created_at as added_at, t.id = ${ownerId} as is_self
      from target t left join added a on a.contact_id = t.id`;
    if (!row) throw notFound("An account with this email");
    if (row.is_self) {
      throw new AppError(400, "cannot_add_self", "You cannot add yourself as a contact.");
    }
    return { id: row.id, email: row.email, display_name: row.display_name, added_at: row.added_at };
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw new AppError(409, "contact_exists", "This person is already one of your contacts.");
    }
    throw err;
  }
}

/** Removes a contact; 404 when it was not one. */
export async function removeContact(sql: Sql, ownerId: string, contactId: string): Promise<void> {
  const rows = await sql`
    delete from contacts where owner_id = ${ownerId} and contact_id = ${contactId} returning 1`;
  if (rows.length === 0) throw notFound("This contact");
}
