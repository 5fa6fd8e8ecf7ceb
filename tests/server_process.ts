// The server as production runs it (main.ts in a process of its own), for tests that need
// to see it exit, or not.
import { freePort, testEnv } from "./harness.ts";

/** The server's log lines as they arrive, with a way to wait for one. */
export class Output {
  lines: string[] = [];
  #wake: (() => void) | null = null;

  constructor(stream: ReadableStream<Uint8Array>) {
    (async () => {
      let rest = "";
      const decoder = new TextDecoder();
      for await (const bytes of stream) {
        const parts = (rest + decoder.decode(bytes, { stream: true })).split("\n");
        rest = parts.pop() ?? "";
        this.lines.push(...parts);
        this.#wake?.();
      }
    })();
  }

  async waitFor(pattern: RegExp, ms = 20_000): Promise<string> {
    const end = Date.now() + ms;
    for (;;) {
      const line = this.lines.find((l) => pattern.test(l));
      if (line) return line;
      if (Date.now() > end) {
        throw new Error(`no line matching ${pattern}:\n${this.lines.join("\n")}`);
      }
      await new Promise<void>((wake) => {
        this.#wake = wake;
        setTimeout(wake, 100);
      });
    }
  }
}

/** main.ts serving `databaseUrl` on a free port, its output collected. */
export function spawnServer(databaseUrl: string, env: Record<string, string> = {}) {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", "--allow-read=.", "main.ts"],
    env: { ...testEnv(databaseUrl), PORT: String(port), LOG_LEVEL: "info", NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let exited: Deno.CommandStatus | null = null;
  child.status.then((s) => exited = s);
  return {
    child,
    port,
    base: `http://127.0.0.1:${port}`,
    out: new Output(child.stdout),
    err: new Output(child.stderr),
    /** The exit status if the process has exited, else null. */
    exited: () => exited,
    async kill(): Promise<void> {
      try {
        child.kill("SIGKILL");
      } catch {
        // already exited
      }
      await child.status;
    },
  };
}
