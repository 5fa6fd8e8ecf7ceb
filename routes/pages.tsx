// The server-rendered pages. Forms for signing in and registering are plain HTML posts; the
// interactive parts are islands, hydrated by the page's bundle. One module per area, all
// mounted at the root: pages/auth.tsx, pages/home.tsx, pages/meeting.tsx; pages/render.tsx is
// what they share.
import { Hono } from "hono";
import type { AppEnv, Deps } from "./context.ts";
import { authPages } from "./pages/auth.tsx";
import { homePages } from "./pages/home.tsx";
import { meetingPages } from "./pages/meeting.tsx";
import { pageKit } from "./pages/render.tsx";

export { errorPage, safeNext } from "./pages/render.tsx";

export function pageRoutes(deps: Deps) {
  const kit = pageKit(deps);
  const app = new Hono<AppEnv>();
  for (const pages of [homePages, authPages, meetingPages]) app.route("/", pages(deps, kit));
  return app;
}
