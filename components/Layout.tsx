import type { ComponentChildren } from "preact";
import type { UserJson } from "../protocol/api.ts";

/** What every page needs from the bundle: the stylesheet and its island entry's files. */
export interface PageAssets {
  css: string;
  script?: { file: string; preload: string[] };
}

export interface LayoutProps {
  title: string;
  assets: PageAssets;
  user?: UserJson | null;
  children: ComponentChildren;
  /** Pages that fill the screen (the call) drop the header's margins. */
  wide?: boolean;
}

const BUILD = "/static/build/";

/** The page shell: head, header with navigation and sign-out, main content. */
export function Layout({ title, assets, user, children, wide }: LayoutProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <link rel="icon" href="data:," />
        <title>{`${title} · Urbania`}</title>
        <link rel="stylesheet" href={BUILD + assets.css} />
        {assets.script?.preload.map((f) => <link key={f} rel="modulepreload" href={BUILD + f} />)}
        {assets.script && <script type="module" src={BUILD + assets.script.file} />}
      </head>
      <body class={wide ? "wide" : undefined}>
        <header class="top">
          <a class="brand" href={user ? "/dashboard" : "/"}>Urbania</a>
          {user && (
            <nav aria-label="Main">
              <a href="/dashboard">Dashboard</a>
              <a href="/meeting/pre-join">New meeting</a>
              <span class="who" title={user.email}>{user.display_name}</span>
              <form method="post" action="/logout" class="inline">
                <button type="submit" class="link">Sign out</button>
              </form>
            </nav>
          )}
        </header>
        {/* Calls ringing a signed-in user, on every page (rendered in the browser). */}
        {user && <Island name="Inbox" props={{ me: user.id }} />}
        <main id="main">{children}</main>
      </body>
    </html>
  );
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
