// The browser bundle built by `deno task build`: the manifest that names each page's script and
// the stylesheet, and the files themselves (with their gzip copies), held in memory.

export interface AssetFile {
  body: Uint8Array;
  gzip: Uint8Array;
  type: string;
}

export interface Assets {
  css: string;
  /** Each page script: its file, the chunks to preload, the catalog keys its code uses. */
  entries: Record<string, { file: string; preload: string[]; keys: string[] }>;
  files: Map<string, AssetFile>;
}

export class AssetsMissing extends Error {}

const TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
};

/** Reads static/build; AssetsMissing when it was never built. */
export async function loadAssets(
  dir = new URL("../../static/build", import.meta.url),
): Promise<Assets> {
  let manifest: Omit<Assets, "files"> & { files: string[] };
  try {
    manifest = JSON.parse(await Deno.readTextFile(new URL(`${dir}/manifest.json`)));
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new AssetsMissing("static/build/manifest.json is missing: run `deno task build`.");
    }
    throw err;
  }
  const files = new Map<string, AssetFile>();
  for (const name of manifest.files) {
    const ext = name.split(".").pop()!;
    files.set(name, {
      body: await Deno.readFile(new URL(`${dir}/${name}`)),
      gzip: await Deno.readFile(new URL(`${dir}/${name}.gz`)),
      type: TYPES[ext] ?? "application/octet-stream",
    });
  }
  return { css: manifest.css, entries: manifest.entries, files };
}
