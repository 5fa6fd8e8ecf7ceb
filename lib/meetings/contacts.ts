// Contacts by consent. Asking for someone by email makes a request they accept or decline;
// only then are the two contacts of each other (rows both ways), and only contacts can invite
// or ring each other (lib/rooms.ts checks the rows). The one who asks is told the same thing
// whether or not an account has that email, so the form answers no question about who is
// here. Blocking someone removes them, their requests and their ringing calls, and keeps the
// next ones from reaching the one who blocked.
import type { Sql, Tx } from "../platform/db.ts";
import { AppError, notFound } from "../platform/errors.ts";
import { lockPeople } from "../accounts/users.ts";
import { publish } from "../platform/events.ts";
import { cancelPending } from "./ring.ts";

export interface Contact {
  id: string;
  email: string;
  display_name: string;
  added_at: Date;
}

export interface IncomingRequest {
  id: string;
  from: { id: string; email: string; display_name: string };
  created_at: Date;
}

export interface OutgoingRequest {
  id: string;
  email: string;
  created_at: Date;
}

export interface BlockedPerson {
  id: string;
  display_name: string;
  blocked_at: Date;
}

/** How many requests one person may have waiting for an answer. */
export const MAX_PENDING_REQUESTS = 200;
/** A declined request keeps the same one from reaching that person again for this long. */
const DECLINED_QUIET_DAYS = 30;

/** The owner's contacts, by display name. */
export async function listContacts(sql: Sql, ownerId: string): Promise<Contact[]> {
  return await sql<Contact[]>`
    select u.id, u.email, u.display_name, c.created_at as added_at
    from contacts c join users u on u.id = c.contact_id
    where c.owner_id = ${ownerId}
    order by lower(u.display_name), u.id`;
}

/** Requests waiting for this person's answer (oldest first) and those they sent. */
export async function listRequests(
  sql: Sql,
  userId: string,
): Promise<{ incoming: IncomingRequest[]; outgoing: OutgoingRequest[] }> {
  const [incoming, outgoing] = await Promise.all([
    sql<IncomingRequest[]>`
      select r.id, json_build_object('id', u.id, 'email', u.email,
        'display_name', u.display_name) as "from", r.created_at
      from contact_requests r join users u on u.id = r.from_id
      where r.to_id = ${userId} and r.status = 'pending'
      order by r.created_at, r.id
      limit ${MAX_PENDING_REQUESTS}`,
    sql<OutgoingRequest[]>`
      select id, to_email as email, created_at from contact_requests
      where from_id = ${userId} and status = 'pending'
      order by created_at desc, id
      limit ${MAX_PENDING_REQUESTS}`,
  ]);
  return { incoming, outgoing };
}

/** The people this person blocked. */
export async function listBlocked(sql: Sql, userId: string): Promise<BlockedPerson[]> {
  return await sql<BlockedPerson[]>`
    select u.id, u.display_name, b.created_at as blocked_at
    from blocks b join users u on u.id = b.blocked_id
    where b.blocker_id = ${userId}
    order by b.created_at desc`;
}

/**
 * Asks the account with this email to become a contact. The answer is the same whatever the
 * email: a request is kept (and shown to the person asked, live) when an account has it, that
 * person has not blocked the one asking, and has not declined them lately. Already contacts:
 * nothing changes. 400 for one's own email; 429 past MAX_PENDING_REQUESTS waiting.
 */
export async function requestContact(
  sql: Sql,
  fromId: string,
  rawEmail: string,
): Promise<OutgoingRequest> {
  const email = rawEmail.trim().toLowerCase();
  return await sql.begin(async (tx) => {
    // One request at a time per asker (two at once cannot both pass the count), and per pair:
    // both people's rows, in one order (by id), so that two people asking each other at once
    // queue instead of each holding the row the other needs.
    const [found] = await tx<{ id: string }[]>`
      select id::text from users where lower(email) = ${email}`;
    await lockPeople(tx, [fromId, ...(found ? [found.id] : [])], "update");
    const [me] = await tx<{ email: string; waiting: number }[]>`
      select lower(email) as email, (select count(*) from contact_requests
        where from_id = ${fromId} and status = 'pending')::int as waiting
      from users where id = ${fromId}`;
    if (me.email === email) {
      throw new AppError(400, "cannot_add_self", "error.cannot_add_self");
    }
    // The person found above, now that both rows are held.
    const [target] = !found ? [] : await tx<{ id: string; quiet: boolean; contact: boolean }[]>`
      select u.id::text,
        exists(select 1 from blocks where blocker_id = u.id and blocked_id = ${fromId})
          or exists(select 1 from contact_requests
            where from_id = ${fromId} and to_id = u.id and status = 'declined'
              and answered_at > now() - make_interval(days => ${DECLINED_QUIET_DAYS}))
          as quiet,
        exists(select 1 from contacts where owner_id = ${fromId} and contact_id = u.id)
          as contact
      from users u where u.id = ${found.id}`;
    // Someone who already is a contact: nothing to ask. The answer looks like any other.
    if (target?.contact) {
      return { id: crypto.randomUUID(), email, created_at: new Date() };
    }
    const reaches = target && !target.quiet ? target.id : null;
    const [already] = await tx<(OutgoingRequest & { to_id: string | null })[]>`
      select id, to_email as email, created_at, to_id::text from contact_requests
      where from_id = ${fromId} and to_email = ${email} and status = 'pending'`;
    if (already) {
      // Asked before it could reach them (no account then, or blocked since lifted): it does now.
      if (reaches && already.to_id === null) {
        await tx`update contact_requests set to_id = ${reaches} where id = ${already.id}`;
        await publish(tx, { e: "contacts", users: [reaches] });
      }
      return { id: already.id, email: already.email, created_at: already.created_at };
    }
    if (me.waiting >= MAX_PENDING_REQUESTS) {
      throw new AppError(
        429,
        "too_many_requests",
        ["error.too_many_requests", { n: MAX_PENDING_REQUESTS }],
      );
    }
    // They asked first: asking back is consent on both sides.
    if (reaches) {
      const [theirs] = await tx<{ id: string }[]>`
        select id from contact_requests
        where from_id = ${reaches} and to_id = ${fromId} and status = 'pending'
        for update`;
      if (theirs) {
        await accept(tx, theirs.id, reaches, fromId);
        return { id: crypto.randomUUID(), email, created_at: new Date() };
      }
    }
    // A blocked or lately declined asker's request is kept where only they see it.
    const toId = reaches;
    const [row] = await tx<OutgoingRequest[]>`
      insert into contact_requests (from_id, to_email, to_id)
      values (${fromId}, ${email}, ${toId})
      returning id, to_email as email, created_at`;
    if (toId) await publish(tx, { e: "contacts", users: [toId] });
    return row;
  });
}

/** Makes the pair contacts of each other and closes the request. */
async function accept(tx: Tx, requestId: string, fromId: string, toId: string) {
  await tx`update contact_requests set status = 'accepted', answered_at = now()
    where id = ${requestId}`;
  await tx`insert into contacts (owner_id, contact_id)
    values (${fromId}, ${toId}), (${toId}, ${fromId})
    on conflict do nothing`;
  await publish(tx, { e: "contacts", users: [fromId, toId] });
}

const requestNotFound = () => notFound("error.nf.contactRequest");

/** The person asked accepts: both become contacts of each other. 404 for anyone else's. */
export async function acceptRequest(sql: Sql, requestId: string, userId: string): Promise<void> {
  await sql.begin(async (tx) => {
    const [req] = await tx<{ from_id: string }[]>`
      select from_id from contact_requests
      where id = ${requestId} and to_id = ${userId} and status = 'pending'
      for update`;
    if (!req) throw requestNotFound();
    await accept(tx, requestId, req.from_id, userId);
  });
}

/** The person asked declines. The one who asked is not told; the request stays theirs alone. */
export async function declineRequest(sql: Sql, requestId: string, userId: string): Promise<void> {
  const rows = await sql`
    update contact_requests set status = 'declined', answered_at = now()
    where id = ${requestId} and to_id = ${userId} and status = 'pending'
    returning 1`;
  if (rows.length === 0) throw requestNotFound();
}

/** The one who asked withdraws a request still waiting. */
export async function withdrawRequest(sql: Sql, requestId: string, userId: string): Promise<void> {
  await sql.begin(async (tx) => {
    const [row] = await tx<{ to_id: string | null }[]>`
      update contact_requests set status = 'withdrawn', answered_at = now()
      where id = ${requestId} and from_id = ${userId} and status = 'pending'
      returning to_id`;
    if (!row) throw requestNotFound();
    if (row.to_id) await publish(tx, { e: "contacts", users: [row.to_id] });
  });
}

/** Ends a contact on both sides; 404 when it was not one. */
export async function removeContact(sql: Sql, ownerId: string, contactId: string): Promise<void> {
  await sql.begin(async (tx) => {
    const rows = await tx`
      delete from contacts
      where (owner_id = ${ownerId} and contact_id = ${contactId})
        or (owner_id = ${contactId} and contact_id = ${ownerId})
      returning owner_id`;
    if (rows.length === 0) throw notFound("error.nf.contact");
    await publish(tx, { e: "contacts", users: [ownerId, contactId] });
  });
}

/**
 * Blocks someone who asked, or a contact: they stop being a contact, their requests go, calls
 * between the two that ring now stop, and nothing of theirs reaches the blocker until unblocked.
 * 404 for someone who never asked and is not a contact (a block by id could otherwise tell
 * which ids are accounts).
 */
export async function blockPerson(sql: Sql, blockerId: string, blockedId: string): Promise<void> {
  if (blockerId === blockedId) {
    throw new AppError(400, "cannot_block_self", "error.cannot_block_self");
  }
  await sql.begin(async (tx) => {
    // After any ring between the two that is under way (it rings, then this stops it), before
    // any that starts (it sees the block).
    await lockPeople(tx, [blockerId, blockedId], "update");
    const [known] = await tx`
      select 1 where exists(select 1 from contacts
          where owner_id = ${blockerId} and contact_id = ${blockedId})
        or exists(select 1 from contact_requests
          where from_id = ${blockedId} and to_id = ${blockerId})`;
    if (!known) throw notFound("error.nf.person");
    await tx`insert into blocks (blocker_id, blocked_id) values (${blockerId}, ${blockedId})
      on conflict do nothing`;
    await tx`delete from contacts
      where (owner_id = ${blockerId} and contact_id = ${blockedId})
        or (owner_id = ${blockedId} and contact_id = ${blockerId})`;
    // Their waiting request stops reaching the blocker; to them it still looks as it did.
    await tx`update contact_requests set to_id = null
      where status = 'pending' and from_id = ${blockedId} and to_id = ${blockerId}`;
    await tx`update contact_requests set status = 'withdrawn', answered_at = now()
      where status = 'pending' and from_id = ${blockerId} and to_id = ${blockedId}`;
    // Calls ringing between the two stop now.
    const ringing = await tx<{ room_id: string; id: string }[]>`
      select room_id, id::text from invites
      where status = 'pending' and ((inviter_id = ${blockedId} and invitee_id = ${blockerId})
        or (inviter_id = ${blockerId} and invitee_id = ${blockedId}))`;
    for (const r of ringing) await cancelPending(tx, r.room_id, "withdrawn", r.id);
    await publish(tx, { e: "contacts", users: [blockerId, blockedId] });
  });
}

/** Lifts a block; 404 when there was none. */
export async function unblockPerson(sql: Sql, blockerId: string, blockedId: string): Promise<void> {
  const rows = await sql`
    delete from blocks where blocker_id = ${blockerId} and blocked_id = ${blockedId} returning 1`;
  if (rows.length === 0) throw notFound("error.nf.block");
}
