// The server-rendered pages. Forms for signing in and registering are plain HTML posts; the
// interactive parts are islands, hydrated by the page's bundle.
import { Hono } from "hono";
import type { Context } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import type { ComponentChildren } from "preact";
import { renderToString } from "preact-render-to-string";
import { z } from "zod";
import { AppError } from "../lib/platform/errors.ts";
import type { Assets } from "../lib/server/assets.ts";
import { listContacts, listRequests } from "../lib/meetings/contacts.ts";
import { knockCookieName, knockForTicket, parseTicket } from "../lib/meetings/lobby.ts";
import { listInvites } from "../lib/meetings/invites.ts";
import { getRoom, listRoomsForUser, roomView, wasRemoved } from "../lib/meetings/rooms.ts";
import { guestCookieName, guestForPass, parseGuestPass } from "../lib/meetings/guests.ts";
import { setUserLang, type User } from "../lib/accounts/users.ts";
import { inLang, isLang, LANG_COOKIE, stringsFor, tr } from "../i18n/server.ts";
import { type Key, type Lang, say, t } from "../i18n/t.ts";
import { AuthForm } from "../components/AuthForm.tsx";
import { Island, Layout, type PageAssets } from "../components/Layout.tsx";
import { RoomSummary } from "../components/RoomSummary.tsx";
import { ConnectionPage } from "../islands/ConnectionTest.tsx";
import { Dashboard } from "../islands/Dashboard.tsx";
import { Invite } from "../islands/Invite.tsx";
import { PreJoin } from "../islands/PreJoin.tsx";
import type {
  ContactJson,
  ContactRequestJson,
  InviteJson,
  RoomJson,
  RoomSummaryJson,
  SentRequestJson,
  UserJson,
} from "../protocol/api.ts";
import { signIn, signUp } from "../lib/accounts/sign_in.ts";
import type { AppEnv, Deps } from "./context.ts";
import {
  clearSessionCookie,
  clientAddress,
  fieldProblems,
  langOf,
  renewSession,
  SESSION_COOKIE,
  setSessionCookie,
} from "./middleware.ts";
import { loginSchema, registerSchema, roomIdOr404 } from "./schemas.ts";

/** JSON the way the browser receives it (dates as strings), for island props. */
const wire = <T,>(value: unknown): T => JSON.parse(JSON.stringify(value));

let worker: Promise<string> | undefined;
const serviceWorker = () =>
  worker ??= Deno.readTextFile(new URL("../static/sw.js", import.meta.url));

/** Where to go after signing in: a path on this site only. */
export function safeNext(raw: string | undefined): string {
  if (!raw || raw.length > 512 || !raw.startsWith("/") || raw.startsWith("//")) return "/dashboard";
  // No backslashes (browsers read them as slashes) and no control characters.
  if ([...raw].some((ch) => ch === "\\" || ch.charCodeAt(0) < 0x20)) return "/dashboard";
  return raw;
}

export function pageRoutes(deps: Deps) {
  const { config, sql, sessions } = deps;
  const app = new Hono<AppEnv>();

  function assets(entry?: string): PageAssets {
    const built: Assets | null = deps.assets;
    if (!built) {
      throw new AppError(
        503,
        "not_built",
        "error.not_built",
      );
    }
    return { css: built.css, script: entry ? built.entries[entry] : undefined };
  }

  /**
   * A page in its language. `body` is a function so that every string in it is looked up while
   * rendering, in that language.
   */
  function html(
    c: Context,
    status: number,
    title: Key | { text: string },
    body: () => ComponentChildren,
    opts: { user?: User | null; entry?: string; wide?: boolean } = {},
  ) {
    // A signed-in user's page always has a script: the inbox that rings them, at least.
    const entry = opts.entry ?? (opts.user ? "inbox" : undefined);
    const lang = langOf(c, opts.user);
    const page = assets(entry);
    const url = new URL(c.req.url);
    const markup = inLang(lang, () =>
      renderToString(
        <Layout
          title={title}
          lang={lang}
          here={url.pathname + url.search}
          strings={page.script ? stringsFor(lang, page.script.keys) : undefined}
          assets={page}
          user={opts.user}
          wide={opts.wide}
        >
          {body()}
        </Layout>,
      ));
    c.header("Cache-Control", "no-store");
    c.header("Content-Language", lang);
    return c.html("<!doctype html>" + markup, status as 200);
  }

  /** The signed-in user from the session cookie, or null; renews the cookie while in use. */
  async function currentUser(c: Context<AppEnv>): Promise<User | null> {
    const token = getCookie(c, SESSION_COOKIE);
    if (!token) return null;
    const claims = sessions.verify(token);
    const user = claims ? await sessions.load(claims) : null;
    if (!claims || !user) {
      clearSessionCookie(c, config);
      return null;
    }
    c.set("claims", claims);
    c.set("authVia", "cookie");
    await renewSession(c, config, sessions);
    return user;
  }

  const toLogin = (c: Context) => {
    const url = new URL(c.req.url);
    return c.redirect(`/login?next=${encodeURIComponent(url.pathname + url.search)}`, 303);
  };

  async function form(c: Context): Promise<Record<string, string>> {
    const type = c.req.header("Content-Type")?.split(";")[0].trim().toLowerCase();
    if (type !== "application/x-www-form-urlencoded" && type !== "multipart/form-data") {
      throw new AppError(415, "unsupported_media_type", "error.unsupported_media_type.form");
    }
    let body: Record<string, unknown>;
    try {
      body = await c.req.parseBody();
    } catch {
      throw new AppError(400, "invalid_form", "error.invalid_form");
    }
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(body)) if (typeof v === "string") out[k] = v;
    return out;
  }

  // The service worker behind call notifications; served from the root so that its scope is
  // the whole site.
  app.get("/sw.js", async (c) => {
    c.header("Content-Type", "text/javascript; charset=utf-8");
    c.header("Cache-Control", "no-cache");
    return c.body(await serviceWorker());
  });

  app.get("/", async (c) => c.redirect((await currentUser(c)) ? "/dashboard" : "/login", 303));

  /**
   * A sign-in or registration page: the form, and its post, which starts a session and goes on
   * to `next`, or shows the form again with the problem (what was typed kept, not the password).
   */
  function authPage<S extends z.ZodType<{ email: string }>>(
    mode: "login" | "register",
    title: Key,
    schema: S,
    invalid: Key,
    act: (c: Context<AppEnv>, input: z.infer<S>) => Promise<User>,
  ) {
    app.get(`/${mode}`, async (c) => {
      const next = safeNext(c.req.query("next"));
      if (await currentUser(c)) return c.redirect(next, 303);
      return html(c, 200, title, () => <AuthForm mode={mode} next={next} />);
    });

    app.post(`/${mode}`, async (c) => {
      const next = safeNext(c.req.query("next"));
      const input = await form(c);
      const again = (err: AppError) => {
        for (const [k, v] of Object.entries(err.extra.headers ?? {})) c.header(k, v);
        return html(c, err.status, title, () => (
          <AuthForm
            mode={mode}
            next={next}
            error={say(err.text)}
            values={{ email: input.email, display_name: input.display_name }}
            fieldErrors={Object.fromEntries(
              (err.extra.fields ?? []).map((f) => [f.field, say(f.text)]),
            )}
          />
        ));
      };
      const parsed = schema.safeParse(input);
      if (!parsed.success) {
        const fields = fieldProblems(parsed.error);
        return again(new AppError(400, "invalid_request", invalid, { fields }));
      }
      try {
        const user = await act(c, parsed.data);
        setSessionCookie(c, config, (await sessions.create(user.id)).token);
        return c.redirect(next, 303);
      } catch (err) {
        if (err instanceof AppError && err.status < 500) return again(err);
        throw err;
      }
    });
  }

  authPage(
    "login",
    "title.login",
    loginSchema,
    "auth.invalidLogin",
    (c, input) => signIn(sql, deps.loginLimits, clientAddress(c, config), input),
  );
  authPage(
    "register",
    "title.register",
    registerSchema,
    "auth.invalidRegister",
    (c, input) => signUp(sql, deps.limits.registerPerAddress, clientAddress(c, config), input),
  );

  app.post("/logout", async (c) => {
    const token = getCookie(c, SESSION_COOKIE);
    const claims = token ? sessions.verify(token) : null;
    if (claims) await sessions.revoke(claims.idHash);
    clearSessionCookie(c, config);
    return c.redirect("/login", 303);
  });

  // The language switch on every page: kept in a cookie for this browser, and on the account
  // when signed in (so every device follows); back to the page it was pressed on.
  app.post("/lang", async (c) => {
    const input = await form(c);
    if (!isLang(input.lang)) {
      throw new AppError(400, "invalid_request", ["issue.oneOf", {
        field: { t: "field.lang" },
        values: "en, fr",
      }]);
    }
    setCookie(c, LANG_COOKIE, input.lang, {
      sameSite: "Lax",
      secure: config.secureCookies,
      path: "/",
      maxAge: 400 * 24 * 3600,
    });
    const user = await currentUser(c);
    if (user) await setUserLang(sql, user.id, input.lang);
    return c.redirect(safeNext(input.next), 303);
  });

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

  app.get("/meeting/room", async (c) => {
    const user = await currentUser(c);
    const id = roomIdOr404(c.req.query("room"));
    const inviteUrl = `${config.publicUrl}/meeting/invite?room=${id}`;
    const found = await getRoom(sql, id);
    let room: RoomJson | null = null;
    // Someone waiting in the lobby (their ticket) waits on this page, and comes in from here.
    const knocking = async () => {
      const ticket = parseTicket(getCookie(c, knockCookieName(id)));
      if (!ticket) return false;
      const k = await knockForTicket(sql, id, ticket).catch(() => null);
      return k !== null && (k.user_id ?? null) === (user?.id ?? null);
    };
    let knock = false;
    let guestName: string | undefined;
    if (user) {
      const view = roomView(found, user.id, config.publicUrl);
      // Someone with the link but not yet in the room accepts the invitation first (or asks to
      // join there); someone the host removed is told so there.
      if ("participants" in view) room = wire<RoomJson>(view);
      else if (!(knock = await knocking())) {
        return c.redirect(`/meeting/invite?room=${id}`, 303);
      }
    } else {
      const pass = parseGuestPass(getCookie(c, guestCookieName(id)));
      // Not signed in and not a guest of this meeting yet: the invitation lets them in.
      if (!pass && !(knock = await knocking())) {
        return c.redirect(`/meeting/invite?room=${id}`, 303);
      }
      // Their name, for the initials of the device check (the call itself says the rest).
      if (pass) guestName = (await guestForPass(sql, id, pass).catch(() => null))?.display_name;
    }
    const summary = { room_name: found.room_name, call_type: found.call_type };
    const props = {
      roomId: id,
      room,
      summary,
      user: user ? wire<UserJson>(user) : null,
      inviteUrl,
      knock,
      guestName,
    };
    return html(
      c,
      200,
      { text: found.room_name },
      () => (
        <Island name="Call" props={props}>
          {/* Rendered in the browser only: the call needs livekit-client and the devices. */}
        </Island>
      ),
      { user, entry: "room", wide: true },
    );
  });

  app.get("/meeting/invite", async (c) => {
    const user = await currentUser(c);
    const room = wire<RoomJson | RoomSummaryJson>(
      roomView(
        await getRoom(sql, roomIdOr404(c.req.query("room"))),
        user?.id ?? "",
        config.publicUrl,
      ),
    );
    const member = "participants" in room;
    const props = {
      roomId: room.id,
      signedIn: !!user,
      allowGuests: room.allow_guests,
      entry: room.entry,
      locked: room.locked,
      member,
    };
    const ended = room.status === "ended";
    const removed = !ended && !!user && await wasRemoved(sql, room.id, user.id);
    return html(
      c,
      200,
      { text: room.room_name },
      () => (
        <section class="card narrow invite">
          <RoomSummary room={room} />
          {ended
            ? <p class="notice">{t("summary.ended")}</p>
            : removed
            ? <p class="notice" role="alert">{t("error.removed")}</p>
            : (
              <Island name="Invite" props={props}>
                <Invite {...props} />
              </Island>
            )}
        </section>
      ),
      { user, entry: ended || removed ? undefined : "invite" },
    );
  });

  return app;
}

/** An HTML error page, for the errors of page routes, in the request's language. */
export function errorPage(
  assets: Assets | null,
  status: number,
  message: string,
  lang: Lang = "en",
): string {
  const css = assets ? <link rel="stylesheet" href={`/static/build/${assets.css}`} /> : null;
  const heading = status === 404
    ? "errorPage.notFound"
    : status >= 500
    ? "errorPage.unavailable"
    : "errorPage.sorry";
  return "<!doctype html>" + renderToString(
    <html lang={lang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${status} · Urbania`}</title>
        <link rel="icon" href="data:," />
        {css}
      </head>
      <body>
        <header class="top">
          <a class="brand" href="/">Urbania</a>
        </header>
        <main id="main">
          <section class="card narrow">
            <h1>{tr(lang, heading)}</h1>
            <p role="alert">{message}</p>
            <p>
              <a href="/dashboard">{tr(lang, "errorPage.home")}</a>
            </p>
          </section>
        </main>
      </body>
    </html>,
  );
}
