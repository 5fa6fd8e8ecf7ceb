import type { ComponentChildren } from "preact";
import type { UserJson } from "../protocol/api.ts";
import { type Key, type Lang, t } from "../i18n/t.ts";

/** What every page needs from the bundle: the stylesheet and its island entry's files. */
export interface PageAssets {
  css: string;
  script?: { file: string; preload: string[]; keys: string[] };
}

export interface LayoutProps {
  /** The page's title, from the catalog, or as given (a meeting's name). */
  title: Key | { text: string };
  lang: Lang;
  /** Where this page is (path and query), for the language switch to come back to. */
  here: string;
  /** The strings the page's islands use, in its language. */
  strings?: Record<string, string>;
  assets: PageAssets;
  user?: UserJson | null;
  children: ComponentChildren;
  /** Pages that fill the screen (the call) drop the header's margins. */
  wide?: boolean;
}

const BUILD = "/static/build/";

/** The page shell: head, header with navigation and sign-out, main content. */
export function Layout(
  { title, lang, here, strings, assets, user, children, wide }: LayoutProps,
) {
  const name = typeof title === "string" ? t(title) : title.text;
  return (
    <html lang={lang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <link rel="icon" href="data:," />
        <title>{`${name} · Urbania`}</title>
        <link rel="stylesheet" href={BUILD + assets.css} />
        {assets.script?.preload.map((f) => <link key={f} rel="modulepreload" href={BUILD + f} />)}
        {strings && <JsonScript id="i18n" value={strings} />}
        {assets.script && <script type="module" src={BUILD + assets.script.file} />}
      </head>
      <body class={wide ? "wide" : undefined}>
        <a class="skip" href="#main">{t("nav.skip")}</a>
        <header class="top">
          <a class="brand" href={user ? "/dashboard" : "/"}>Urbania</a>
          {user && (
            <nav aria-label={t("nav.main")}>
              <a href="/dashboard" class="nav-dashboard">{t("nav.dashboard")}</a>
              <a href="/meeting/pre-join">{t("nav.new")}</a>
              <span class="who" title={user.email}>{user.display_name}</span>
              <form method="post" action="/logout" class="inline">
                <button type="submit" class="link">{t("nav.signOut")}</button>
              </form>
            </nav>
          )}
          <LangSwitch lang={lang} here={here} />
        </header>
        {/* Calls ringing a signed-in user, on every page (rendered in the browser). */}
        {user && <Island name="Inbox" props={{ me: user.id }} />}
        <main id="main">{children}</main>
      </body>
    </html>
  );
}

/** The other language, offered in its own words; the choice is kept (account and browser). */
export function LangSwitch({ lang, here }: { lang: Lang; here: string }) {
  const other: Lang = lang === "fr" ? "en" : "fr";
  return (
    <form method="post" action="/lang" class="inline lang-switch">
      <input type="hidden" name="next" value={here} />
      <button
        type="submit"
        name="lang"
        value={other}
        class="link"
        lang={other}
        title={t("lang.switch")}
      >
        {/* On a phone the header shows the code; the name stays the button's name. */}
        <span class="lang-long">{other === "fr" ? t("lang.fr") : t("lang.en")}</span>
        <span class="lang-short" aria-hidden="true">{other.toUpperCase()}</span>
      </button>
    </form>
  );
}

/** JSON for the page's scripts; "<" escaped so that no string can close the script element. */
function JsonScript({ id, value }: { id: string; value: unknown }) {
  const json = JSON.stringify(value).replace(/</g, "\\u003c");
  return <script type="application/json" id={id} dangerouslySetInnerHTML={{ __html: json }} />;
}

/**
 * An island's place in the page: its server-rendered markup (when `children` is given, the
 * browser hydrates it) and its props as JSON beside it.
 */
export function Island(
  { name, props, children }: { name: string; props: unknown; children?: ComponentChildren },
) {
  // "<" escaped so that no string in the props can close the script element.
  const json = JSON.stringify(props).replace(/</g, "\\u003c");
  return (
    <>
      <div data-island={name} data-ssr={children ? "true" : "false"}>{children}</div>
      <script
        type="application/json"
        data-props={name}
        dangerouslySetInnerHTML={{ __html: json }}
      />
    </>
  );
}
