// The server-rendered pages. Forms for signing in and registering are plain HTML posts; the
// interactive parts are islands, hydrated by the page's bundle.
import { Hono } from "hono";
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import type { ComponentChildren } from "preact";
import { renderToString } from "preact-render-to-string";
import { z } from "zod";
import { AppError } from "../lib/errors.ts";
import type { Assets } from "../lib/assets.ts";
import { listContacts } from "../lib/contacts.ts";
import { getRoom, listRoomsForUser, roomView } from "../lib/rooms.ts";
import { registerUser, type User } from "../lib/users.ts";
import { AuthForm } from "../components/AuthForm.tsx";
import { Island, Layout, type PageAssets } from "../components/Layout.tsx";
import { RoomSummary } from "../components/RoomSummary.tsx";
import { Dashboard } from "../islands/Dashboard.tsx";
import { Invite } from "../islands/Invite.tsx";
import { PreJoin } from "../islands/PreJoin.tsx";
import type { ContactJson, RoomJson, RoomSummaryJson, UserJson } from "../protocol/api.ts";
import { loginSchema, registerSchema, signIn } from "./api/auth.ts";
import type { AppEnv, Deps } from "./context.ts";
import {
  clearSessionCookie,
  renewSession,
  SESSION_COOKIE,
  setSessionCookie,
} from "./middleware.ts";
import { roomIdSchema } from "./schemas.ts";

/** JSON the way the browser receives it (dates as strings), for island props. */
const wire = <T,>(value: unknown): T => JSON.parse(JSON.stringify(value));

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
        "The browser bundle is not built: run `deno task build`.",
      );
    }
    return { css: built.css, script: entry ? built.entries[entry] : undefined };
  }

  function html(c: Context, status: number, title: string, body: ComponentChildren, opts: {
    user?: User | null;
    entry?: string;
    wide?: boolean;
  } = {}) {
    const page = renderToString(
      <Layout title={title} assets={assets(opts.entry)} user={opts.user} wide={opts.wide}>
        {body}
      </Layout>,
    );
    c.header("Cache-Control", "no-store");
    return c.html("<!doctype html>" + page, status as 200);
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
      throw new AppError(415, "unsupported_media_type", "Send this form as a web form.");
    }
    let body: Record<string, unknown>;
    try {
      body = await c.req.parseBody();
    } catch {
      throw new AppError(400, "invalid_form", "The form could not be read.");
    }
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(body)) if (typeof v === "string") out[k] = v;
    return out;
  }

  /** Field problems from a zod failure: the first message for each field. */
  function problems(error: z.ZodError): Record<string, string> {
    const out: Record<string, string> = {};
    for (const issue of error.issues) {
      const field = String(issue.path[0] ?? "form");
      out[field] ??= issue.message;
    }
    return out;
  }

  app.get("/", async (c) => c.redirect((await currentUser(c)) ? "/dashboard" : "/login", 303));

  app.get("/login", async (c) => {
    const next = safeNext(c.req.query("next"));
    if (await currentUser(c)) return c.redirect(next, 303);
    return html(c, 200, "Sign in", <AuthForm mode="login" next={next} />);
  });

  app.post("/login", async (c) => {
    const next = safeNext(c.req.query("next"));
    const input = await form(c);
    const parsed = loginSchema.safeParse(input);
    const again = (status: number, error: string, fieldErrors?: Record<string, string>) =>
      html(
        c,
        status,
        "Sign in",
        <AuthForm
          mode="login"
          next={next}
          error={error}
          values={{ email: input.email }}
          fieldErrors={fieldErrors}
        />,
      );
    if (!parsed.success) {
      return again(400, "Enter your email and password.", problems(parsed.error));
    }
    try {
      const user = await signIn(deps, c, parsed.data);
      setSessionCookie(c, config, (await sessions.create(user.id)).token);
      return c.redirect(next, 303);
    } catch (err) {
      if (err instanceof AppError && err.status < 500) {
        if (err.extra.headers) {
          for (const [k, v] of Object.entries(err.extra.headers)) c.header(k, v);
        }
        return again(err.status, err.message);
      }
      throw err;
    }
  });

  app.get("/register", async (c) => {
    const next = safeNext(c.req.query("next"));
    if (await currentUser(c)) return c.redirect(next, 303);
    return html(c, 200, "Create your account", <AuthForm mode="register" next={next} />);
  });

  app.post("/register", async (c) => {
    const next = safeNext(c.req.query("next"));
    const input = await form(c);
    const parsed = registerSchema.safeParse(input);
    const again = (status: number, error: string, fieldErrors?: Record<string, string>) =>
      html(
        c,
        status,
        "Create your account",
        <AuthForm
          mode="register"
          next={next}
          error={error}
          values={{ email: input.email, display_name: input.display_name }}
          fieldErrors={fieldErrors}
        />,
      );
    if (!parsed.success) return again(400, "Check the highlighted fields.", problems(parsed.error));
    try {
      const user = await registerUser(sql, parsed.data);
      setSessionCookie(c, config, (await sessions.create(user.id)).token);
      return c.redirect(next, 303);
    } catch (err) {
      if (err instanceof AppError && err.status < 500) return again(err.status, err.message);
      throw err;
    }
  });

  app.post("/logout", async (c) => {
    const token = getCookie(c, SESSION_COOKIE);
    const claims = token ? sessions.verify(token) : null;
    if (claims) await sessions.revoke(claims.idHash);
    clearSessionCookie(c, config);
    return c.redirect("/login", 303);
  });

  app.get("/dashboard", async (c) => {
    const user = await currentUser(c);
    if (!user) return toLogin(c);
    const [rooms, contacts] = await Promise.all([
      listRoomsForUser(sql, user.id),
      listContacts(sql, user.id),
    ]);
    const props = {
      user: wire<UserJson>(user),
      rooms: wire<RoomJson[]>(rooms.map((r) => roomView(r, user.id, config.publicUrl))),
      contacts: wire<ContactJson[]>(contacts),
    };
    return html(
      c,
      200,
      "Dashboard",
      <Island name="Dashboard" props={props}>
        <Dashboard {...props} />
      </Island>,
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
      "New meeting",
      <Island name="PreJoin" props={props}>
        <PreJoin {...props} />
      </Island>,
      { user, entry: "prejoin" },
    );
  });

  /** The meeting id a page names in `?room=`; one not of our format is a 404 page. */
  function roomIdFromQuery(c: Context): string {
    const id = c.req.query("room") ?? "";
    if (!roomIdSchema.safeParse(id).success) {
      throw new AppError(404, "not_found", "This meeting was not found.");
    }
    return id;
  }

  app.get("/meeting/room", async (c) => {
    const user = await currentUser(c);
    const id = roomIdFromQuery(c);
    const inviteUrl = `${config.publicUrl}/meeting/invite?room=${id}`;
    let room: RoomJson | null = null;
    // A guest's page needs nothing from the database: its token is in the browser.
    if (user) {
      const view = roomView(await getRoom(sql, id), user.id, config.publicUrl);
      // Someone with the link but not yet in the room accepts the invitation first.
      if (!("participants" in view)) return c.redirect(`/meeting/invite?room=${id}`, 303);
      room = wire<RoomJson>(view);
    }
    const props = { roomId: id, room, user: user ? wire<UserJson>(user) : null, inviteUrl };
    return html(
      c,
      200,
      room?.room_name ?? "Meeting",
      <Island name="Call" props={props}>
        {/* Rendered in the browser only: the call needs livekit-client and the devices. */}
      </Island>,
      { user, entry: "room", wide: true },
    );
  });

  app.get("/meeting/invite", async (c) => {
    const user = await currentUser(c);
    const room = wire<RoomJson | RoomSummaryJson>(
      roomView(await getRoom(sql, roomIdFromQuery(c)), user?.id ?? "", config.publicUrl),
    );
    const props = { roomId: room.id, signedIn: !!user, allowGuests: room.allow_guests };
    const ended = room.status === "ended";
    return html(
      c,
      200,
      room.room_name,
      <section class="card narrow invite">
        <RoomSummary room={room} />
        {ended
          ? <p class="notice">This meeting has ended.</p>
          : (
            <Island name="Invite" props={props}>
              <Invite {...props} />
            </Island>
          )}
      </section>,
      { user, entry: ended ? undefined : "invite" },
    );
  });

  return app;
}

/** An HTML error page, for the errors of page routes. */
export function errorPage(assets: Assets | null, status: number, message: string): string {
  const css = assets ? <link rel="stylesheet" href={`/static/build/${assets.css}`} /> : null;
  return "<!doctype html>" + renderToString(
    <html lang="en">
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
            <h1>{status === 404 ? "Not found" : status >= 500 ? "Unavailable" : "Sorry"}</h1>
            <p role="alert">{message}</p>
            <p>
              <a href="/dashboard">Go to the dashboard</a>
            </p>
          </section>
        </main>
      </body>
    </html>,
  );
}
