import { ConfigError, loadDatabaseUrl } from "../lib/platform/config.ts";
import { createDb } from "../lib/platform/db.ts";
import { migrate } from "../lib/platform/migrate.ts";

let url: string;
try {
  url = loadDatabaseUrl(Deno.env.toObject());
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  Deno.exit(1);
}
const sql = createDb(url, { max: 1 });
try {
  const applied = await migrate(sql);
  console.log(
    applied.length ? `applied migrations ${applied.join(", ")}` : "database is up to date",
  );
} finally {
  await sql.end();
}
