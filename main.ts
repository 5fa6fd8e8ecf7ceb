import { AssetsMissing, loadAssets } from "./lib/server/assets.ts";
import { ConfigError, loadConfig } from "./lib/platform/config.ts";
import { createDb } from "./lib/platform/db.ts";
import { DEFAULT_GUARD, serveGuarded } from "./lib/server/guard.ts";
import { DatabaseSetupError, stopOnSignals, whenDatabaseAnswers } from "./lib/server/lifecycle.ts";
import { LiveKit } from "./lib/meetings/livekit.ts";
import { createLogger } from "./lib/platform/log.ts";
import { migrate } from "./lib/platform/migrate.ts";
import { startPresenceClock } from "./lib/meetings/presence.ts";
import { Realtime } from "./lib/realtime/realtime.ts";
import { createApp } from "./routes/app.ts";

let config;
try {
  config = loadConfig(Deno.env.toObject());
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(err.message);
  Deno.exit(1);
}
let assets;
try {
  assets = await loadAssets();
} catch (err) {
  if (!(err instanceof AssetsMissing)) throw err;
  console.error(err.message);
  Deno.exit(1);
}
const log = createLogger(config.logLevel);
const sql = createDb(config.databaseUrl, { log });
let applied;
try {
  applied = await whenDatabaseAnswers(() => migrate(sql), log, {
    databaseUrl: config.databaseUrl,
  });
} catch (err) {
  if (!(err instanceof DatabaseSetupError)) throw err;
  console.error(err.message);
  await sql.end({ timeout: 1 });
  Deno.exit(1);
}
if (applied.length > 0) log.info("migrations applied", { versions: applied });
const realtime = new Realtime(sql, config, log);
await realtime.start();
const livekit = new LiveKit(config);
// Departures LiveKit could not report (it crashed or restarted) are read from its own list.
const stopPresenceClock = startPresenceClock(sql, livekit, log);
const app = createApp({ config, sql, log, assets, realtime, livekit });
// Clients reach the app through the connection guard (header, body and idle timeouts,
// WebSocket frame sizes, connections per address); behind a proxy every connection is the
// proxy's, so the per-address count is left to it.
const server = serveGuarded({ hostname: config.host, port: config.port }, app.fetch, {
  maxConnectionsPerAddress: config.trustProxy ? 0 : DEFAULT_GUARD.maxConnectionsPerAddress,
});
log.info("listening", {
  hostname: server.addr.hostname,
  port: server.addr.port,
  url: config.publicUrl,
});
stopOnSignals({ server, realtime, sql, log, clocks: [stopPresenceClock] });
