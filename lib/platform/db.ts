// PostgreSQL access: node-postgres (`pg`) behind the small tagged-template interface the
// app writes its queries in (sql`select … where id = ${id}`, fragments inside queries,
// sql.begin for transactions, sql.listen for the event channel).
//
// Why node-postgres: postgres.js 3.4.9 (the newest) batches small writes behind a
// setImmediate and, when a connection closes with such a write pending or a transaction's
// own ROLLBACK is written after the close, either throws from the immediate (an uncaught
// TypeError: the process exits) or keeps a stale timer that stops every later write on
// that connection object from being flushed (the next connection attempt waits out its
// connect timeout). node-postgres writes to the socket directly, gives each connection a
// fresh client object, and reports a dead connection as an 'error' event, which can be
// answered: every client this module creates has a listener from the moment it exists
// (SafeClient), the pool has one, and the listening connection has one. No other path
// from the driver reaches the top of the event loop.
// @ts-types="@types/pg"
import pg from "pg";
import { errorFields, type Logger } from "./log.ts";

// deno-lint-ignore no-explicit-any
export type Row = Record<string, any>;

/** A piece of SQL with its values; interpolating one into a query inlines it. */
export class Fragment {
  constructor(readonly strings: readonly string[], readonly values: readonly unknown[]) {}
}

/** A query that runs when it is first awaited, or a fragment when interpolated instead. */
export class Query<T> extends Fragment implements PromiseLike<T> {
  #result: Promise<T> | undefined;

  constructor(
    strings: readonly string[],
    values: readonly unknown[],
    private readonly run: (text: string, values: unknown[]) => Promise<T>,
  ) {
    super(strings, values);
  }

  then<A = T, B = never>(
    onfulfilled?: ((value: T) => A | PromiseLike<A>) | null,
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    this.#result ??= (() => {
      try {
        const { text, values } = compile(this);
        return this.run(text, values);
      } catch (err) {
        return Promise.reject(err);
      }
    })();
    return this.#result.then(onfulfilled, onrejected);
  }

  catch<B = never>(
    onrejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<T | B> {
    return this.then(undefined, onrejected);
  }

  finally(onfinally?: (() => void) | null): Promise<T> {
    return this.then().finally(onfinally);
  }

  readonly [Symbol.toStringTag] = "Query";
}

const names = new Map<string, string>();

/** A prepared statement's name for a query text: a 53-bit FNV-1a hash of it, and its length. */
export function statementName(text: string): string {
  let name = names.get(text);
  if (name !== undefined) return name;
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i));
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  name = `u${(h & 0x1fffffffffffffn).toString(36)}_${text.length.toString(36)}`;
  // The app's queries are a fixed set of texts; this bound only guards against a bug.
  if (names.size < 10_000) names.set(text, name);
  return name;
}

/** Text with $1…$n placeholders and the values, fragments inlined. */
export function compile(fragment: Fragment): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const walk = (f: Fragment): string => {
    let text = f.strings[0];
    f.values.forEach((value, i) => {
      if (value instanceof Fragment) text += walk(value);
      else if (value === undefined) {
        throw new TypeError(`undefined value in a query at position ${values.length + 1}`);
      } else {
        values.push(value);
        text += `$${values.length}`;
      }
      text += f.strings[i + 1];
    });
    return text;
  };
  return { text: walk(fragment), values };
}

type Tag = <T extends readonly unknown[] = Row[]>(
  strings: TemplateStringsArray,
  ...values: unknown[]
) => Query<T>;

/** Queries inside one transaction, on one connection. */
export interface Tx extends Tag {
  /** Runs SQL text as is (simple protocol: several statements allowed). */
  unsafe(text: string): Promise<Row[]>;
}

export interface Sql extends Tag {
  unsafe(text: string): Promise<Row[]>;
  /** Runs `fn` in a transaction: committed when it resolves, rolled back when it throws. */
  begin<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * Subscribes to a NOTIFY channel on a connection of its own, subscribing again (after
   * 0.25 s, doubling to 5 s) whenever that connection is lost; `onListen` runs after every
   * subscription, the first included. Resolves once the first subscription holds.
   */
  listen(
    channel: string,
    onNotify: (payload: string) => void,
    onListen?: () => void,
  ): Promise<{ unlisten: () => Promise<void> }>;
  /**
   * Closes every connection once the queries in hand are done, waiting at most `timeout`
   * seconds for them; queries after this fail.
   */
  end(options?: { timeout?: number }): Promise<void>;
  /** Counts for readiness and tests: connections open, idle, and requests waiting. */
  stats(): { total: number; idle: number; waiting: number };
}

/**
 * The error for "PostgreSQL cannot be reached right now": a connection could not be made
 * (`DB_CONNECT_FAILED`, PostgreSQL away, refusing, not accepting connections, or the
 * attempt timed out) or the one in use was lost mid-query (`CONNECTION_CLOSED`). The
 * driver's own error is the cause. Errors PostgreSQL answered a query with keep their
 * SQLSTATE and are passed on unchanged.
 */
export class DatabaseUnavailableError extends Error {
  constructor(readonly code: "DB_CONNECT_FAILED" | "CONNECTION_CLOSED", cause: unknown) {
    super(
      code === "DB_CONNECT_FAILED"
        ? `could not connect to PostgreSQL: ${describe(cause)}`
        : `the connection to PostgreSQL was lost: ${describe(cause)}`,
      { cause },
    );
    this.name = "DatabaseUnavailableError";
  }
}

/**
 * Every connection of the pool was in use for the whole wait (`DB_POOL_BUSY`): PostgreSQL is
 * there, this instance is overloaded. Not the same answer as a database that is away.
 */
export class DatabaseBusyError extends Error {
  readonly code = "DB_POOL_BUSY";
  constructor(waitedMs: number, cause: unknown) {
    super(`every database connection stayed in use for ${waitedMs} ms`, { cause });
    this.name = "DatabaseBusyError";
  }
}

const describe = (err: unknown) => err instanceof Error ? err.message : String(err);

/** A server's answer to a query (it has a SQLSTATE): the connection itself is fine. */
function isServerError(err: unknown): boolean {
  return err instanceof pg.DatabaseError && !SERVER_ENDED.has(err.code ?? "");
}

// SQLSTATEs with which the server ends the session: the connection is gone.
const SERVER_ENDED = new Set(["57P01", "57P02", "57P03"]);

const noop = () => {};

/**
 * How long a query waits for a connection. Long enough for a burst to be served in turn (a
 * query holds one for milliseconds; 10 of them make thousands of queries in 3 s), short enough
 * that a caller hears "busy" or "unavailable" before it gives up on its own.
 */
export const POOL_WAIT_MS = 3000;

/** Options the pool connects with (see createDb). */
export interface DbOptions {
  max?: number;
  /** Milliseconds to wait for a connection (made or freed) before DB_CONNECT_FAILED. */
  connectTimeoutMs?: number;
  log?: Logger;
}

/**
 * A PostgreSQL pool that fails fast while the server is away and uses it again as soon as
 * it answers: a connection is made when one is needed, so there is no backoff to wait out.
 */
export function createDb(url: string, options: DbOptions = {}): Sql {
  const log = options.log;
  const onClientError = (err: unknown) => {
    log?.warn("database connection lost", errorFields(err));
  };
  // Every client carries an 'error' listener from birth: node-postgres emits 'error' when a
  // connection dies, and an EventEmitter 'error' with no listener is thrown to the top. The
  // pool removes its own listener while a client is checked out; this one stays.
  class SafeClient extends pg.Client {
    constructor(config?: pg.ClientConfig) {
      super(config);
      this.on("error", onClientError);
    }
  }
  const config: pg.PoolConfig = {
    connectionString: url,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? POOL_WAIT_MS,
    idleTimeoutMillis: 30_000,
    maxLifetimeSeconds: 60 * 30,
    application_name: "urbania",
    statement_timeout: 10_000,
    // A query on a connection that stopped answering (a dead peer with no reset) fails.
    query_timeout: 15_000,
    keepAlive: true,
    Client: SafeClient,
  };
  const pool = new pg.Pool(config);
  pool.on("error", onClientError);

  // Connections handed out and not yet given back (not those still being made).
  const max = config.max!;
  let inUse = 0;
  pool.on("acquire", () => inUse++);
  pool.on("release", () => inUse--);
  const acquire = async (): Promise<pg.PoolClient> => {
    try {
      return await pool.connect();
    } catch (err) {
      // Timed out waiting while every connection was in use: busy, not away.
      if (inUse >= max && /timeout/i.test(describe(err))) {
        throw new DatabaseBusyError(config.connectionTimeoutMillis!, err);
      }
      throw new DatabaseUnavailableError("DB_CONNECT_FAILED", err);
    }
  };

  const onClient = async <T>(client: pg.PoolClient, text: string, values?: unknown[]) => {
    try {
      // Queries with values are prepared once per connection, under a name made from their
      // text, and only bound and run afterwards. (Plain text, as migrations run, is not.)
      const query = values === undefined ? text : { name: statementName(text), text, values };
      return (await client.query(query)).rows as T;
    } catch (err) {
      if (isServerError(err)) throw err;
      throw new DatabaseUnavailableError("CONNECTION_CLOSED", err);
    }
  };

  const once = async <T>(text: string, values?: unknown[]): Promise<T> => {
    const client = await acquire();
    let failure: unknown;
    try {
      return await onClient<T>(client, text, values);
    } catch (err) {
      failure = err;
      throw err;
    } finally {
      // A lost connection is dropped, never handed out again.
      client.release(failure instanceof DatabaseUnavailableError ? failure : undefined);
    }
  };

  const listeners = new Set<Listener>();
  const sql =
    ((strings: TemplateStringsArray, ...values: unknown[]) =>
      new Query(strings, values, once)) as Sql;
  sql.unsafe = (text) => once<Row[]>(text);
  sql.begin = async <T>(fn: (tx: Tx) => Promise<T>): Promise<T> => {
    const client = await acquire();
    // Queries of one transaction go out one after another, in the order they were made.
    let last: Promise<unknown> = Promise.resolve();
    const serial = <R>(text: string, values?: unknown[]): Promise<R> => {
      const next = last.then(() => onClient<R>(client, text, values));
      last = next.catch(noop);
      return next;
    };
    const tx =
      ((strings: TemplateStringsArray, ...values: unknown[]) =>
        new Query(strings, values, serial)) as Tx;
    tx.unsafe = (text) => serial<Row[]>(text);
    let lost: unknown;
    try {
      await serial("begin");
      const result = await fn(tx);
      await serial("commit");
      return result;
    } catch (err) {
      if (err instanceof DatabaseUnavailableError) lost = err;
      else {
        // Only on a connection known to be alive: a rollback on a lost one has nothing to do.
        await last;
        await serial("rollback").catch((e) => lost = e);
      }
      throw err;
    } finally {
      client.release(lost ? (lost as Error) : undefined);
    }
  };
  sql.listen = async (channel, onNotify, onListen) => {
    const listener = new Listener(url, channel, onNotify, onListen ?? noop, onClientError);
    listeners.add(listener);
    await listener.started;
    return {
      unlisten: async () => {
        listeners.delete(listener);
        await listener.stop();
      },
    };
  };
  sql.end = async ({ timeout } = {}) => {
    await Promise.all([...listeners].map((l) => l.stop()));
    listeners.clear();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const waited = timeout === undefined
      ? undefined
      : new Promise<void>((done) => timer = setTimeout(done, timeout * 1000));
    await Promise.race([pool.end(), ...(waited ? [waited] : [])]);
    clearTimeout(timer);
  };
  sql.stats = () => ({
    total: pool.totalCount,
    idle: pool.idleCount,
    waiting: pool.waitingCount,
  });
  return sql;
}

/** One LISTEN subscription on a dedicated connection that comes back by itself. */
class Listener {
  readonly started: Promise<void>;
  #client: pg.Client | null = null;
  #stopped = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #delayMs = 250;

  constructor(
    private url: string,
    private channel: string,
    private onNotify: (payload: string) => void,
    private onListen: () => void,
    private onError: (err: unknown) => void,
  ) {
    this.started = this.#subscribe();
  }

  async #subscribe(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.url,
      application_name: "urbania-events",
      connectionTimeoutMillis: 3000,
      keepAlive: true,
    });
    client.on("error", this.onError);
    client.on("notification", (n) => {
      if (n.channel === this.channel) this.onNotify(n.payload ?? "");
    });
    client.on("end", () => {
      if (this.#client === client) this.#again();
    });
    try {
      await client.connect();
      await client.query(`listen ${pg.escapeIdentifier(this.channel)}`);
    } catch (err) {
      client.end().catch(noop);
      throw new DatabaseUnavailableError("DB_CONNECT_FAILED", err);
    }
    if (this.#stopped) {
      await client.end().catch(noop);
      return;
    }
    this.#client = client;
    this.#delayMs = 250;
    this.onListen();
  }

  #again(): void {
    this.#client = null;
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#subscribe().catch((err) => {
        this.onError(err);
        this.#delayMs = Math.min(this.#delayMs * 2, 5000);
        this.#again();
      });
    }, this.#delayMs);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = null;
    await this.started.catch(noop);
    await client?.end().catch(noop);
  }
}

/** Answers true when a trivial query succeeds within `timeoutMs`. */
export async function pingDb(sql: Sql, timeoutMs = 2000): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("database ping timed out")), timeoutMs);
    });
    await Promise.race([sql`select 1`, timeout]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
