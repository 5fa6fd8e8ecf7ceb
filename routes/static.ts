import { Hono } from "hono";
import type { AppEnv, Deps } from "./context.ts";

/** /static/build/*: the bundle's files, named by content, cached for a year, gzip when accepted. */
export function staticRoutes(deps: Deps) {
  const app = new Hono<AppEnv>();
  app.get("/build/:name", (c) => {
    const file = deps.assets?.files.get(c.req.param("name"));
    if (!file) return c.notFound();
    const gzip = /\bgzip\b/.test(c.req.header("Accept-Encoding") ?? "");
    c.header("Content-Type", file.type);
    c.header("Cache-Control", "public, max-age=31536000, immutable");
    c.header("Vary", "Accept-Encoding");
    if (gzip) c.header("Content-Encoding", "gzip");
    return c.body((gzip ? file.gzip : file.body) as Uint8Array<ArrayBuffer>);
  });
  return app;
}
