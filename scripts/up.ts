// deno task up [--free-ports]
//
// The whole thing on this machine, in one terminal: settings, database, LiveKit and coturn,
// the app (ops/up.ts says how each is found or made). Ctrl-C stops all of it.
import { up } from "../ops/up.ts";

const started = Date.now();
let running;
try {
  running = await up({
    root: Deno.cwd(),
    freePorts: Deno.args.includes("--free-ports"),
    log: (line) => console.log(line),
  });
} catch (err) {
  console.error(`could not start: ${(err as Error).message}`);
  Deno.exit(1);
}
console.log(
  `\nUrbania is up at ${running.url} (${((Date.now() - started) / 1000).toFixed(1)} s). ` +
    "Ctrl-C stops everything.",
);
const current = running;
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log("stopping the app, LiveKit, coturn and PostgreSQL...");
  await current.stop();
  console.log("stopped.");
  Deno.exit(0);
};
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);
current.appExited.then(async (status) => {
  if (stopping) return;
  console.error(`the app stopped (exit code ${status.code}); stopping the rest.`);
  stopping = true;
  await current.stop();
  Deno.exit(1);
});
