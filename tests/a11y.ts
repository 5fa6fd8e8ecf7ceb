// Accessibility and language checks for browser tests: axe-core (WCAG 2.2 A and AA rules) on a
// page as it is, at desktop and phone width, in light and dark; and, for a French page, any
// English sentence of the catalog or raw key left on screen.
import assert from "node:assert/strict";
import axe from "axe-core";
import type { Page } from "playwright-core";
import { en } from "../i18n/en.ts";
import { fr } from "../i18n/fr.ts";

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };
const TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];

interface Violation {
  id: string;
  help: string;
  nodes: { target: unknown[]; summary: string }[];
}

/** axe-core's violations on the page as it is now. */
async function violations(page: Page): Promise<Violation[]> {
  // evaluate() is not subject to the page's CSP, which would refuse an inline script.
  if (!await page.evaluate(() => "axe" in globalThis)) await page.evaluate(axe.source);
  return await page.evaluate(async (tags) => {
    const a = (globalThis as unknown as { axe: typeof axe }).axe;
    const result = await a.run(document, {
      runOnly: { type: "tag", values: tags },
      resultTypes: ["violations"],
    });
    return result.violations.map((v) => ({
      id: v.id,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => ({
        target: n.target,
        summary: n.failureSummary ?? "",
      })),
    }));
  }, TAGS);
}

/**
 * Zero violations at desktop and phone width, each in light and dark, and no sideways scroll;
 * the page is left at the width it had. `where` names the state in the failure.
 */
export async function audit(page: Page, where: string): Promise<void> {
  const before = page.viewportSize() ?? DESKTOP;
  const found: string[] = [];
  for (const [width, viewport] of [["desktop", DESKTOP], ["phone", PHONE]] as const) {
    // Without motion, colours are read as they stay, never halfway through a fade (the
    // phone's tile buttons fade in as the width changes).
    await page.emulateMedia({ reducedMotion: "reduce" });
    await page.setViewportSize(viewport);
    // Nothing wider than the screen (WCAG's reflow): the header and its switch included.
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    if (wide > viewport.width) found.push(`${where} (${width}): the page is ${wide}px wide`);
    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const v of await violations(page)) {
        found.push(
          `${where} (${width}, ${scheme}): ${v.id} – ${v.help}\n` +
            v.nodes.map((n) => `    ${JSON.stringify(n.target)}: ${n.summary}`).join("\n"),
        );
      }
    }
  }
  await page.emulateMedia({ colorScheme: "light", reducedMotion: "no-preference" });
  await page.setViewportSize(before);
  assert.deepEqual(found, [], found.join("\n"));
}

/** Everything a person can perceive of the page: its text, names, titles and placeholders. */
async function perceivable(page: Page): Promise<string> {
  return await page.evaluate(() => {
    const parts = [document.title, document.body.innerText];
    for (const el of document.querySelectorAll("[aria-label], [title], [placeholder], [alt]")) {
      for (const a of ["aria-label", "title", "placeholder", "alt"]) {
        const v = el.getAttribute(a);
        if (v) parts.push(v);
      }
    }
    return parts.join("\n");
  });
}

// English sentences (their fixed parts, placeholders cut out) that French writes differently.
const ENGLISH = Object.entries(en).flatMap(([key, text]) =>
  text === fr[key as keyof typeof fr]
    ? []
    : text.split(/\{\w+\}/).map((s) => s.trim()).filter((s) => s.length >= 12 || /\s\w+\s/.test(s))
      .filter((s) => !fr[key as keyof typeof fr].includes(s))
);
const KEYS = new Set(Object.keys(en));

/** English left on a French page, and catalog keys shown raw: both must be none. */
export async function assertNoEnglish(page: Page, where: string): Promise<void> {
  const text = await perceivable(page);
  const english = ENGLISH.filter((s) => text.includes(s));
  const raw = [...text.matchAll(/\b[a-z][a-zA-Z]*\.[a-zA-Z_.]+\b/g)].map((m) => m[0])
    .filter((k) => KEYS.has(k));
  assert.deepEqual({ english, raw }, { english: [], raw: [] }, `${where}: ${text.slice(0, 2000)}`);
}
