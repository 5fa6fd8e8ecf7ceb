// Browser fixtures: Debian's Chromium driven by playwright-core, with a fake camera and
// microphone, against an app served on the origin its PUBLIC_URL names.
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { freePort, startApp, type TestApp, type TestUser } from "./harness.ts";

export const CHROMIUM = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";
const SCREENSHOTS = new URL("./screenshots/", import.meta.url);

/** Starts the app on a port of its own so that its PUBLIC_URL is the page's real origin. */
export async function startPageApp(
  options: Parameters<typeof startApp>[0] = {},
): Promise<TestApp> {
  const port = options.port ?? freePort();
  // LiveKit is not running here: this port answers nothing, as an unreachable server would.
  const livekitPort = freePort();
  return await startApp({
    ...options,
    port,
    env: {
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      LIVEKIT_URL: `ws://127.0.0.1:${livekitPort}`,
      ...options.env,
    },
  });
}

/** Chromium as the tests run it; playwright gives each launch a fresh, empty profile. */
export async function launchChromium(
  extraArgs: string[] = [],
  env?: Record<string, string>,
  /** Another way to start it: a wrapper that runs it inside a test host (tests/netns.ts). */
  executablePath = CHROMIUM,
): Promise<Browser> {
  return await chromium.launch({
    executablePath,
    headless: true,
    ...(env ? { env: { ...Deno.env.toObject(), ...env } } : {}),
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--use-fake-ui-for-media-stream",
      "--use-fake-device-for-media-stream",
      // Calls run on loopback (tests/media.ts): let WebRTC use it.
      "--allow-loopback-in-peer-connection",
      ...extraArgs,
    ],
  });
}

/** Runs `fn` with a fresh Chromium and a fresh app, then closes both. */
export async function withBrowser(
  fn: (browser: Browser, app: TestApp) => Promise<void>,
  options: Parameters<typeof startApp>[0] = {},
): Promise<void> {
  const app = await startPageApp(options);
  const browser = await launchChromium();
  try {
    await fn(browser, app);
  } finally {
    await browser.close();
    await app.stop();
  }
}

/** A browser context signed in as `user` (their session cookie set for the app's origin). */
export async function signedIn(
  browser: Browser,
  /** Where the pages are: the app, or the entrance in front of it. */
  app: { base: string },
  user: TestUser,
  options: Parameters<Browser["newContext"]>[0] = {},
): Promise<BrowserContext> {
  const context = await browser.newContext(options);
  const [name, value] = user.cookie.split("=");
  await context.addCookies([{ name, value, url: app.base }]);
  return context;
}

/**
 * Collects what went wrong in a page: uncaught errors, console errors, and every answer of 400
 * or more from the app (as "STATUS METHOD path"), so that a test asserts exactly which were
 * expected. Console errors matching `allowed` are left out.
 */
export function watchErrors(page: Page, allowed: RegExp[] = []): string[] {
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(`pageerror: ${err.message}`));
  page.on("console", (msg) => {
    const text = msg.text();
    // Failed loads are reported below with their URL.
    if (msg.type() !== "error" || text.startsWith("Failed to load resource")) return;
    if (!allowed.some((re) => re.test(text))) errors.push(`console: ${text}`);
  });
  page.on("response", (res) => {
    if (res.status() >= 400) {
      errors.push(`${res.status()} ${res.request().method()} ${new URL(res.url()).pathname}`);
    }
  });
  return errors;
}

/** Passes the device check the room page shows first (as a person who did not skip it). */
export async function joinNow(page: Page): Promise<void> {
  await page.getByRole("button", { name: "Join now" }).click();
}

/** Saves a full-page screenshot to tests/screenshots/<name>.png (git-ignored). */
export async function screenshot(page: Page, name: string): Promise<void> {
  await Deno.mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: new URL(`${name}.png`, SCREENSHOTS).pathname, fullPage: true });
}

/**
 * Runs the connection test on its page (or pre-join's compact one) and reads what it says: the
 * verdict, each path's line by its mode, and the administrator's report (empty where none).
 */
export async function runConnectionTest(page: Page, timeout = 120_000) {
  await page.getByRole("button", { name: "Test my connection" }).click();
  await page.locator("p.verdict").waitFor({ timeout });
  return {
    verdict: (await page.locator("p.verdict").textContent()) ?? "",
    paths: Object.fromEntries(
      await page.locator("ul.paths li").evaluateAll((items) =>
        items.map((li) => [li.getAttribute("data-mode"), li.textContent ?? ""])
      ),
    ) as Record<string, string>,
    report: await page.evaluate(() => document.querySelector("pre.report")?.textContent ?? ""),
  };
}
