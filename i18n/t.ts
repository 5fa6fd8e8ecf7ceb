// Text for people, in their language. Code names a string by its key (`t("call.mute")`); the
// catalogs (en.ts, fr.ts) hold the words. On the server, the page being rendered sets the
// strings (synchronously around its render); in the browser they come from the page itself,
// a JSON script the server wrote with the strings of that page's islands, in its language
// only, so the bundles hold keys and never a whole catalog.
import type { Key } from "./en.ts";

export type { Key };
export type Lang = "en" | "fr";
export const LANGS: readonly Lang[] = ["en", "fr"];
/** Placeholder values: text as is, numbers written the language's way, or another key's string. */
export type Vars = Record<string, string | number | { t: Key }>;
/** A message not yet rendered: a key, with the values its placeholders take. */
export type Text = Key | readonly [Key, Vars];

let strings: Partial<Record<Key, string>> = {};
let current: Lang = "en";

/** Makes `t` speak `lang` with these strings (the server, per render; the page, once). */
export function useStrings(lang: Lang, table: Partial<Record<Key, string>>): void {
  current = lang;
  strings = table;
}

/** The language `t` speaks now. */
export const lang = (): Lang => current;

/** `key`'s string in `table` (written in `l`), its `{name}` placeholders filled. */
export function render(
  table: Partial<Record<Key, string>>,
  l: Lang,
  key: Key,
  vars?: Vars,
): string {
  const template = table[key] ?? key;
  if (!vars) return template;
  return template.replace(/\{(\w+)\}/g, (all, name: string) => {
    // "{Field}" is "{field}" starting a sentence: its first letter capitalized.
    const lower = name[0].toLowerCase() + name.slice(1);
    const capital = lower !== name && vars[name] === undefined;
    const v = vars[capital ? lower : name];
    if (v === undefined) return all;
    const s = typeof v === "number"
      ? new Intl.NumberFormat(l).format(v)
      : typeof v === "object"
      ? render(table, l, v.t)
      : v;
    return capital ? s.charAt(0).toLocaleUpperCase(l) + s.slice(1) : s;
  });
}

/** The string for `key`, its placeholders filled. */
export function t(key: Key, vars?: Vars): string {
  return render(strings, current, key, vars);
}

/** `one` or `other` as the language's plural rules choose for `n` (which fills `{n}`). */
export function tn(n: number, one: Key, other: Key, vars?: Vars): string {
  const form = new Intl.PluralRules(current).select(n) === "one" ? one : other;
  return t(form, { n, ...vars });
}

/** A message given as a key or a key with its values. */
export const say = (text: Text): string => typeof text === "string" ? t(text) : t(text[0], text[1]);

// Dates and countdowns, written the language's way.
/** A date and time, shortly: "24 Nov, 14:05". */
export const dateTimeOf = (d: Date | string): string =>
  new Intl.DateTimeFormat(current, {
    day: "numeric",
    month: "short",
    hour: "numeric",
    minute: "2-digit",
  }).format(new Date(d));

/** A countdown: "0:42". */
export const clockOf = (seconds: number): string => {
  const s = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
};

// In the browser: the page's strings, once, before any island renders.
if (typeof document !== "undefined") {
  const tag = document.getElementById("i18n");
  if (tag?.textContent) {
    const l = document.documentElement.lang === "fr" ? "fr" : "en";
    useStrings(l, JSON.parse(tag.textContent));
  }
}
