// The app, LiveKit, coturn and the tls profile's entrance (Caddy) on loopback, for tests of
// what crosses the entrance: the browser on it, the doctor, the connection test. One at a
// time on this machine, like the call tests (they share the lock).
import type { Browser, BrowserContext } from "playwright-core";
import { launchChromium, signedIn, startPageApp } from "./browser.ts";
import { type IcePolicy, oneCallAtATime, preparePage } from "./call_fixture.ts";
import { freePort, registerUser, type TestApp, type TestUser } from "./harness.ts";
import { type MediaStack, RESOLVE_TEST_DOMAINS, startMediaStack } from "./media.ts";

/** Runs `fn` with the app, the media stack and the entrance; stops them all. */
export function withEdge(fn: (media: MediaStack, app: TestApp) => Promise<void>) {
  return oneCallAtATime(async () => {
    const port = freePort();
    let media: MediaStack | undefined;
    let app: TestApp | undefined;
    try {
      media = await startMediaStack({
        webhookUrl: `http://127.0.0.1:${port}/api/livekit/webhook`,
        edge: { appPort: port },
      });
      app = await startPageApp({ port, env: media.appEnv });
      await fn(media, app);
    } catch (err) {
      if (media) {
        console.error(
          `Caddy said:\n${media.edge?.caddy.tail(20)}\nLiveKit said:\n${media.livekit.tail(20)}` +
            `\ncoturn said:\n${media.coturn.tail(10)}`,
        );
      }
      throw err;
    } finally {
      await app?.stop();
      await media?.stop();
    }
  });
}

/**
 * Chromium that trusts the entrance's CA (`rootCa`, a PEM file; none when null) as a machine
 * trusts a public one: the root is added to the profile's NSS database (certutil, Debian's
 * libnss3-tools), so every certificate is checked as in production, the TURN server's included
 * (Chromium refuses TURN over TLS with a certificate it does not trust).
 */
export async function trustingBrowser(
  rootCa: string | null,
  args: string[],
  executablePath?: string,
): Promise<Browser> {
  const home = await Deno.makeTempDir({ prefix: "urbania-chromium-home-" });
  const nssdb = `${home}/.pki/nssdb`;
  await Deno.mkdir(nssdb, { recursive: true });
  const certutil = async (args: string[]) => {
    const out = await new Deno.Command("certutil", { args, stdout: "piped", stderr: "piped" })
      .output();
    if (!out.success) {
      throw new Error(`certutil ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
    }
  };
  await certutil(["-N", "-d", `sql:${nssdb}`, "--empty-password"]);
  if (rootCa) {
    await certutil([
      "-A",
      "-d",
      `sql:${nssdb}`,
      "-n",
      "Urbania test entrance",
      "-t",
      "C,,",
      "-i",
      rootCa,
    ]);
  }
  const browser = await launchChromium(args, { HOME: home }, executablePath);
  browser.on("disconnected", () => {
    Deno.remove(home, { recursive: true }).catch(() => {});
  });
  return browser;
}

/** Runs `fn` with a `trustingBrowser` on loopback (the entrance's CA unless `trustCa` is false). */
export async function withEdgeBrowser(
  media: MediaStack,
  fn: (browser: Browser) => Promise<void>,
  options: { extra?: string[]; trustCa?: boolean } = {},
): Promise<void> {
  const browser = await trustingBrowser(
    options.trustCa ?? true ? media.edge!.rootCa : null,
    [RESOLVE_TEST_DOMAINS, ...options.extra ?? []],
  );
  try {
    await fn(browser);
  } finally {
    await browser.close();
  }
}

/** A signed-in person with a page on the entrance's app address. */
export async function edgePerson(
  browser: Browser,
  app: TestApp,
  media: MediaStack,
  name: string,
  ice: IcePolicy = "all",
  /** Let the page load over certificates the browser does not trust (WebRTC still checks). */
  ignoreHTTPSErrors = false,
): Promise<
  { user: TestUser; context: BrowserContext } & Awaited<ReturnType<typeof preparePage>>
> {
  const user = await registerUser(app, { display_name: name });
  const context = await signedIn(browser, { base: media.edge!.appUrl }, user, {
    ignoreHTTPSErrors,
  });
  return { user, ...(await preparePage(context, ice)) };
}
