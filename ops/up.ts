// Everything a laptop needs for a call, from one command (`deno task up`): .env with fresh
// secrets when there is none; the database at DATABASE_URL when it answers, otherwise a
// PostgreSQL of its own (ops/local_postgres.ts) in .urbania/; LiveKit (installed when missing)
// and coturn (where installed) with the stack's configuration rendered for this machine; the
// browser bundle; then the app, which applies pending migrations as it starts.
import pg from "pg";
import { parseEnvFile } from "./env_file.ts";
import { startLocalPostgres } from "./local_postgres.ts";
import { mediaMissing, type MediaStack, startMediaStack } from "./media.ts";
import { freePort } from "./ports.ts";

export interface UpOptions {
  /** The repository (the command's working directory). */
  root: string;
  /** Free ports instead of the stack's own (8000, 7880, 3478, ...): beside another stack. */
  freePorts?: boolean;
  /** One line per step and component (the command prints them). */
  log(line: string): void;
}

export interface Up {
  url: string;
  /** The app process ended by itself (its status), while everything else is up. */
  appExited: Promise<Deno.CommandStatus>;
  stop(): Promise<void>;
}

async function answers(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query("select 1");
    return null;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await client.end().catch(() => {});
  }
}

async function run(root: string, cmd: string, args: string[], env?: Record<string, string>) {
  const out = await new Deno.Command(cmd, { args, cwd: root, env, stdin: "null" }).output();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/** Brings everything up; every failure is one line saying what to do. */
export async function up(options: UpOptions): Promise<Up> {
  // What was started, stopped last first (the app, then what it uses).
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    while (stops.length > 0) await stops.pop()!().catch(() => {});
  };
  try {
    return { ...await bringUp(options, stops), stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function bringUp(
  { root, log, freePorts }: UpOptions,
  stops: (() => Promise<void>)[],
): Promise<Omit<Up, "stop">> {
  // 1. Settings: .env (made with fresh secrets when missing); the environment wins.
  const envFile = `${root}/.env`;
  try {
    await Deno.stat(envFile);
  } catch {
    await run(root, "sh", ["scripts/new_env.sh"]);
    log(".env        written with fresh secrets");
  }
  const env: Record<string, string> = {
    ...parseEnvFile(await Deno.readTextFile(envFile)),
    ...Deno.env.toObject(),
  };
  const port = freePorts ? freePort() : Number(env.PORT || 8000);
  const publicUrl = freePorts ? `http://localhost:${port}` : env.PUBLIC_URL;

  // 2. The database.
  const given = env.DATABASE_URL;
  const problem = given ? await answers(given) : "not set";
  let databaseUrl = given;
  if (problem) {
    const local = await startLocalPostgres(`${root}/.urbania/postgres`, {
      log: (line) => log(`PostgreSQL  ${line}`),
    });
    stops.push(local.stop);
    databaseUrl = local.url;
    log(
      `PostgreSQL  embedded, 127.0.0.1:${local.port}, data in .urbania/postgres ` +
        `(${local.created ? "made now" : "kept from the last run"}; DATABASE_URL: ${problem})`,
    );
  } else {
    log(`PostgreSQL  ${new URL(given).host} (DATABASE_URL)`);
  }

  // 3. LiveKit, installed when missing; coturn where it is installed.
  if (mediaMissing({ coturn: false, caddy: false }).length > 0) {
    log(
      "LiveKit     not installed: building it (bash scripts/install_media.sh; needs Go " +
        "1.26, about 5 minutes once)",
    );
    await run(root, "bash", ["scripts/install_media.sh"]);
  }
  const coturn = mediaMissing({ livekit: false, caddy: false }).length === 0;
  const media: MediaStack = await startMediaStack({
    webhookUrl: `${publicUrl}/api/livekit/webhook`,
    stackPorts: !freePorts,
    coturn,
    detached: true,
    secrets: {
      apiKey: env.LIVEKIT_API_KEY,
      apiSecret: env.LIVEKIT_API_SECRET,
      turnSecret: env.TURN_SECRET,
    },
  });
  stops.push(media.stop);
  log(`LiveKit     ${media.livekitUrl}`);
  log(
    coturn
      ? `coturn      127.0.0.1:${media.turn.port} (TURN relay)`
      : "coturn      not installed: calls work on this machine's network, without a relay " +
        "(bash scripts/install_media.sh installs it)",
  );

  // 4. The browser bundle, then the app (it applies pending migrations as it starts).
  await run(root, Deno.execPath(), [
    "run",
    "--allow-read=.",
    "--allow-write=static",
    "--allow-env",
    "--allow-run",
    "scripts/build.ts",
    "--if-needed",
  ]);
  const app = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", "--allow-read=.", "main.ts"],
    cwd: root,
    env: {
      ...env,
      ...media.appEnv,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: "127.0.0.1",
      PUBLIC_URL: publicUrl,
    },
    stdin: "null",
    // Ctrl-C reaches this command only: it stops the app first, then what the app uses.
    detached: true,
  }).spawn();
  const appExited = app.status;
  stops.push(async () => {
    try {
      app.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    await app.status;
  });
  const ready = `http://127.0.0.1:${port}/readyz`;
  for (let i = 0;; i++) {
    const res = await fetch(ready).catch(() => null);
    await res?.body?.cancel();
    if (res?.ok) break;
    const done = await Promise.race([appExited, new Promise((r) => setTimeout(r, 250))]);
    if (done || i > 240) {
      throw new Error(`the app did not get ready at ${ready}: its output above says why`);
    }
  }
  log(`app         ${publicUrl} (ready)`);
  return { url: publicUrl, appExited };
}
