// What every page route shares: the page in its language around its body, the signed-in user
// from the session cookie, the way to the sign-in page, and form posts read with their bounds.
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import type { ComponentChildren } from "preact";
import { renderToString } from "preact-render-to-string";
import { AppError } from "../../lib/platform/errors.ts";
import type { Assets } from "../../lib/server/assets.ts";
import type { User } from "../../lib/accounts/users.ts";
import { inLang, stringsFor, tr } from "../../i18n/server.ts";
import type { Key, Lang } from "../../i18n/t.ts";
import { Layout, type PageAssets } from "../../components/Layout.tsx";
import type { AppEnv, Deps } from "../context.ts";
import { clearSessionCookie, langOf, renewSession, SESSION_COOKIE } from "../middleware.ts";

/** JSON the way the browser receives it (dates as strings), for island props. */
export const wire = <T,>(value: unknown): T => JSON.parse(JSON.stringify(value));

/** Where to go after signing in: a path on this site only. */
export function safeNext(raw: string | undefined): string {
  if (!raw || raw.length > 512 || !raw.startsWith("/") || raw.startsWith("//")) return "/dashboard";
  // No backslashes (browsers read them as slashes) and no control characters.
  if ([...raw].some((ch) => ch === "\\" || ch.charCodeAt(0) < 0x20)) return "/dashboard";
  return raw;
}

export interface PageKit {
  /**
   * A page in its language. `body` is a function so that every string in it is looked up while
   * rendering, in that language.
   */
  html(
    c: Context,
    status: number,
    title: Key | { text: string },
    body: () => ComponentChildren,
    opts?: { user?: User | null; entry?: string; wide?: boolean },
  ): Response;
  /** The signed-in user from the session cookie, or null; renews the cookie while in use. */
  currentUser(c: Context<AppEnv>): Promise<User | null>;
  /** To the sign-in page, coming back here after. */
  toLogin(c: Context): Response;
  /** A form post's string fields (415 for another type, 400 for one that does not parse). */
  form(c: Context): Promise<Record<string, string>>;
}

export function pageKit(deps: Deps): PageKit {
  const { config, sessions } = deps;

  function assets(entry?: string): PageAssets {
    const built: Assets | null = deps.assets;
    if (!built) throw new AppError(503, "not_built", "error.not_built");
    return { css: built.css, script: entry ? built.entries[entry] : undefined };
  }

  return {
    html(c, status, title, body, opts = {}) {
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
      return c.html("<!doctype html>" + markup, status as 200) as Response;
    },

    async currentUser(c) {
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
    },

    toLogin(c) {
      const url = new URL(c.req.url);
      return c.redirect(`/login?next=${encodeURIComponent(url.pathname + url.search)}`, 303);
    },

    async form(c) {
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
    },
  };
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
