// A signed-in user's own pages: the dashboard, starting a meeting, the connection test; and the
// service worker behind call notifications.
import { Hono } from "hono";
import { listContacts, listRequests } from "../../lib/meetings/contacts.ts";
import { listInvites } from "../../lib/meetings/invites.ts";
import { listRoomsForUser, roomView } from "../../lib/meetings/rooms.ts";
import { t } from "../../i18n/t.ts";
import { Island } from "../../components/Layout.tsx";
import { ConnectionPage } from "../../islands/ConnectionTest.tsx";
import { Dashboard } from "../../islands/Dashboard.tsx";
import { PreJoin } from "../../islands/PreJoin.tsx";
import type {
  ContactJson,
  ContactRequestJson,
  InviteJson,
  RoomJson,
  SentRequestJson,
  UserJson,
} from "../../protocol/api.ts";
import type { AppEnv, Deps } from "../context.ts";
import { type PageKit, wire } from "./render.tsx";

let worker: Promise<string> | undefined;
const serviceWorker = () =>
  worker ??= Deno.readTextFile(new URL("../../static/sw.js", import.meta.url));

export function homePages(deps: Deps, kit: PageKit) {
  const { config, sql } = deps;
  const { html, currentUser, toLogin } = kit;
  const app = new Hono<AppEnv>();

  // Served from the root so that its scope is the whole site.
  app.get("/sw.js", async (c) => {
    c.header("Content-Type", "text/javascript; charset=utf-8");
    c.header("Cache-Control", "no-cache");
    return c.body(await serviceWorker());
  });

  app.get("/", async (c) => c.redirect((await currentUser(c)) ? "/dashboard" : "/login", 303));

  app.get("/dashboard", async (c) => {
    const user = await currentUser(c);
    if (!user) return toLogin(c);
    const [rooms, contacts, invites, requests] = await Promise.all([
      listRoomsForUser(sql, user.id),
      listContacts(sql, user.id),
      listInvites(sql, user.id),
      listRequests(sql, user.id),
    ]);
    const props = {
      user: wire<UserJson>(user),
      rooms: wire<RoomJson[]>(rooms.map((r) => roomView(r, user.id, config.publicUrl))),
      contacts: wire<ContactJson[]>(contacts),
      requests: wire<{ incoming: ContactRequestJson[]; outgoing: SentRequestJson[] }>(requests),
      missed: wire<InviteJson[]>(invites.filter((i) => i.status === "missed")),
    };
    return html(
      c,
      200,
      "title.dashboard",
      () => (
        <>
          <h1 class="sr-only">{t("dash.heading")}</h1>
          <Island name="Dashboard" props={props}>
            <Dashboard {...props} />
          </Island>
        </>
      ),
      { user, entry: "dashboard" },
    );
  });

  app.get("/meeting/pre-join", async (c) => {
    const user = await currentUser(c);
    if (!user) return toLogin(c);
    const props = {
      user: wire<UserJson>(user),
      contacts: wire<ContactJson[]>(await listContacts(sql, user.id)),
    };
    return html(
      c,
      200,
      "title.prejoin",
      () => (
        <Island name="PreJoin" props={props}>
          <PreJoin {...props} />
        </Island>
      ),
      { user, entry: "prejoin" },
    );
  });

  app.get("/connection-test", async (c) => {
    const user = await currentUser(c);
    if (!user) return toLogin(c);
    return html(
      c,
      200,
      "title.connection",
      () => (
        <Island name="ConnectionPage" props={{}}>
          <ConnectionPage />
        </Island>
      ),
      { user, entry: "connection" },
    );
  });

  return app;
}
