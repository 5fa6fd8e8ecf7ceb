// Password hashing with argon2id, in a pool of workers sized to the machine's cores: a hash
// takes tens of milliseconds of CPU, which on the server's own event loop would hold up every
// other request meanwhile. Jobs wait in a bounded queue; past it, sign-ins and sign-ups get 503
// until the pool catches up (rate limits keep any one client far from that).
import { AppError } from "../platform/errors.ts";
import type { HashParams, PasswordJob, PasswordResult } from "./password_worker.ts";

// OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane.
const PARAMS: HashParams = { parallelism: 1, iterations: 2, memorySize: 19456, hashLength: 32 };

/** Jobs that may wait for a worker at most. */
export const MAX_WAITING = 256;

class PasswordPool {
  #idle: Worker[] = [];
  #workers: Worker[] = [];
  #waiting: { job: PasswordJob; done: (r: PasswordResult) => void }[] = [];
  #pending = new Map<number, (r: PasswordResult) => void>();
  #nextId = 1;
  done = 0;

  constructor(readonly size: number) {}

  run(job: PasswordJob): Promise<string | boolean> {
    if (this.#waiting.length >= MAX_WAITING) {
      return Promise.reject(
        new AppError(503, "busy", "error.busy.signIns", {
          headers: { "Retry-After": "5" },
        }),
      );
    }
    return new Promise((resolve, reject) => {
      this.#waiting.push({
        job,
        done: (r) =>
          "error" in r ? reject(new Error(`password worker: ${r.error}`)) : resolve(r.value),
      });
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#waiting.length > 0) {
      const worker = this.#idle.pop() ?? this.#spawn();
      if (!worker) return;
      const { job, done } = this.#waiting.shift()!;
      const id = this.#nextId++;
      this.#pending.set(id, done);
      worker.postMessage({ ...job, id });
    }
  }

  #spawn(): Worker | null {
    if (this.#workers.length >= this.size) return null;
    const worker = new Worker(new URL("./password_worker.ts", import.meta.url), { type: "module" });
    worker.onmessage = ({ data }: MessageEvent<PasswordResult>) => {
      const done = this.#pending.get(data.id);
      this.#pending.delete(data.id);
      this.done++;
      this.#idle.push(worker);
      done?.(data);
      this.#pump();
    };
    this.#workers.push(worker);
    return worker;
  }

  get workers(): number {
    return this.#workers.length;
  }

  /** Ends the workers (shutdown): jobs in hand fail; jobs started afterwards start new ones. */
  close(): void {
    for (const w of this.#workers) w.terminate();
    this.#workers = [];
    this.#idle = [];
    const stopped = { error: "the server is shutting down" };
    for (const [id, done] of this.#pending) done({ id, ...stopped });
    this.#pending.clear();
    for (const { done } of this.#waiting.splice(0)) done({ id: 0, ...stopped });
  }
}

export const passwordPool = new PasswordPool(Math.max(1, navigator.hardwareConcurrency || 1));

/** Hashes a password with argon2id and a fresh salt (PHC string). */
export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  return await passwordPool.run({ op: "hash", password, salt, params: PARAMS }) as string;
}

/** Checks a password against a stored PHC string. */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  return await passwordPool.run({ op: "verify", password, hash }) === true;
}

let decoy: Promise<string> | undefined;

/** Spends the time of one verification, so an unknown email answers as slowly as a wrong password. */
export async function verifyDecoy(password: string): Promise<void> {
  decoy ??= hashPassword(crypto.randomUUID());
  await verifyPassword(password, await decoy);
}
