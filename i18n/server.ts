// The server's side of the catalogs: which language a request gets, messages written out in a
// given language, and the strings a page's islands need.
import { en, type Key } from "./en.ts";
import { fr } from "./fr.ts";
import { type Lang, LANGS, render, type Text, useStrings } from "./t.ts";

export const CATALOGS: Record<Lang, Record<Key, string>> = { en, fr };
export const LANG_COOKIE = "urbania_lang";

export const isLang = (v: unknown): v is Lang => LANGS.includes(v as Lang);

/** A message in `lang`. */
export function tr(lang: Lang, text: Text): string {
  return typeof text === "string"
    ? render(CATALOGS[lang], lang, text)
    : render(CATALOGS[lang], lang, text[0], text[1]);
}

/** `one` or `other` as `lang`'s plural rules choose for `n` (which fills `{n}`). */
export function trn(lang: Lang, n: number, one: Key, other: Key): string {
  return tr(lang, [new Intl.PluralRules(lang).select(n) === "one" ? one : other, { n }]);
}

/**
 * The first language of an Accept-Language header that the app speaks (by weight, then order;
 * "fr-CA" counts as French), or null.
 */
export function fromAcceptLanguage(header: string | undefined): Lang | null {
  if (!header) return null;
  const ranked = header.slice(0, 512).split(",").slice(0, 32).map((part, i) => {
    const [tag, ...params] = part.trim().split(";");
    const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find(Boolean);
    return { base: tag.trim().toLowerCase().split("-")[0], q: q ? Number(q) : 1, i };
  }).filter((r) => r.q > 0 && Number.isFinite(r.q)).sort((a, b) => b.q - a.q || a.i - b.i);
  return ranked.map((r) => r.base).find(isLang) ?? null;
}

/** The language: the account's choice, else the browser's own switch (cookie), else its header. */
export function chooseLang(
  account: string | null | undefined,
  cookie: string | undefined,
  acceptLanguage: string | undefined,
): Lang {
  if (isLang(account)) return account;
  if (isLang(cookie)) return cookie;
  return fromAcceptLanguage(acceptLanguage) ?? "en";
}

/** Renders with `t` speaking `lang` (server rendering is synchronous, so no request mixes). */
export function inLang<T>(lang: Lang, render: () => T): T {
  useStrings(lang, CATALOGS[lang]);
  try {
    return render();
  } finally {
    useStrings("en", CATALOGS.en);
  }
}

/** The strings of these keys in `lang`: what a page's islands are sent. */
export function stringsFor(lang: Lang, keys: readonly string[]): Partial<Record<Key, string>> {
  const out: Partial<Record<Key, string>> = {};
  for (const k of keys) if (k in CATALOGS[lang]) out[k as Key] = CATALOGS[lang][k as Key];
  return out;
}
useStrings("en", en);
