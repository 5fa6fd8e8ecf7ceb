// deno run -A scripts/local_postgres.ts <folder>
//
// A PostgreSQL of its own in <folder> (ops/local_postgres.ts), for running the tests where no
// PostgreSQL answers at 127.0.0.1:5432 (`bash .ci/run` does it). Prints "ready <admin URL>"
// once it accepts connections; SIGINT or SIGTERM stops it.
import { startLocalPostgres } from "../ops/local_postgres.ts";

const dir = Deno.args[0];
if (!dir) {
  console.error("usage: deno run -A scripts/local_postgres.ts <folder>");
  Deno.exit(2);
}
try {
  const pg = await startLocalPostgres(dir, { log: (line) => console.log(line) });
  console.log(`ready postgres://postgres@127.0.0.1:${pg.port}/postgres`);
  const stop = async () => {
    await pg.stop();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);
} catch (err) {
  console.error(`could not start PostgreSQL: ${(err as Error).message}`);
  Deno.exit(1);
}
