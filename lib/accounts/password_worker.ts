// One of the password pool's workers (lib/passwords.ts): argon2id off the server's event loop.
import { argon2id, argon2Verify } from "hash-wasm";

export type PasswordJob =
  | { op: "hash"; password: string; salt: Uint8Array; params: HashParams }
  | { op: "verify"; password: string; hash: string };

export interface HashParams {
  parallelism: number;
  iterations: number;
  memorySize: number;
  hashLength: number;
}

export type PasswordResult = { id: number; value: string | boolean } | {
  id: number;
  error: string;
};

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<PasswordJob & { id: number }>) => void) | null;
  postMessage(message: PasswordResult): void;
};

scope.onmessage = async ({ data: job }) => {
  try {
    const value = job.op === "hash"
      ? await argon2id({
        password: job.password,
        salt: job.salt,
        ...job.params,
        outputType: "encoded",
      })
      : await argon2Verify({ password: job.password, hash: job.hash }).catch(() => false);
    scope.postMessage({ id: job.id, value });
  } catch (err) {
    scope.postMessage({ id: job.id, error: err instanceof Error ? err.message : String(err) });
  }
};
