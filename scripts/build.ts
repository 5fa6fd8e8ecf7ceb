// deno task build [--if-needed] [--watch]
//
// Bundles each page's island entry (islands/entries/*.tsx) for the browser with `deno bundle`
// (code splitting, minified), gives every file a content-hashed name, writes a gzip copy of
// each, and records them in static/build/manifest.json, which the server reads at start.
// --if-needed skips the build when the sources are unchanged since the last one.
// --watch rebuilds whenever islands/, components/, i18n/, protocol/ or static/ change.
// Each entry also lists the catalog keys its code uses (its own files and every chunk it may
// load), so that a page sends its islands those strings only, in its language.
import { en } from "../i18n/en.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const OUT = `${ROOT}/static/build`;
const SOURCES = ["islands", "components", "i18n", "protocol", "static"];
const SOURCE_FILES = ["deno.json", "deno.lock", "scripts/build.ts"];

export interface Manifest {
  source_hash: string;
  css: string;
  entries: Record<string, { file: string; preload: string[]; keys: string[] }>;
  files: string[];
}

/** The chunks a module loads later (`import("./x.js")`). */
function dynamicImports(code: string): string[] {
  return [...new Set([...code.matchAll(/import\(\s*"\.\/([^"]+\.js)"\s*\)/g)].map((m) => m[1]))];
}

/** The catalog keys a bundle's code names (as string literals). */
function keysIn(code: string): string[] {
  const found = new Set<string>();
  for (const m of code.matchAll(/["'`]([a-z][a-zA-Z]*\.[a-zA-Z0-9_.]+)["'`]/g)) {
    if (m[1] in en) found.add(m[1]);
  }
  return [...found];
}

async function sha256Hex(data: Uint8Array | string): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>),
  );
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const entry of Deno.readDir(`${ROOT}/${dir}`)) {
      const path = `${dir}/${entry.name}`;
      if (path === "static/build" || entry.name.startsWith(".")) continue;
      if (entry.isDirectory) out.push(...await listFiles(path));
      else if (entry.isFile) out.push(path);
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return out;
}

/** One hash over every file the bundle is made from. */
async function sourceHash(): Promise<string> {
  const files = [...SOURCE_FILES];
  for (const dir of SOURCES) files.push(...await listFiles(dir));
  files.sort();
  const parts: string[] = [];
  for (const file of files) {
    parts.push(file, await sha256Hex(await Deno.readFile(`${ROOT}/${file}`)));
  }
  return await sha256Hex(parts.join("\n"));
}

async function gzip(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** The files a module imports statically (`import ... from "./x.js"`, `import "./x.js"`). */
function staticImports(code: string): string[] {
  const found = new Set<string>();
  for (const m of code.matchAll(/(?:from|import)\s*"\.\/([^"]+\.js)"/g)) found.add(m[1]);
  return [...found];
}

export async function build(): Promise<Manifest> {
  const started = performance.now();
  const hash = await sourceHash();
  const entryFiles = (await listFiles("islands/entries")).filter((f) => f.endsWith(".tsx")).sort();
  const tmp = await Deno.makeTempDir({ dir: `${ROOT}/static`, prefix: ".build-" });
  try {
    const bundled = `${tmp}/bundle`;
    const result = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--platform",
        "browser",
        "--code-splitting",
        "--minify",
        "--outdir",
        bundled,
        ...entryFiles,
      ],
      cwd: ROOT,
      stdout: "inherit",
      stderr: "inherit",
    }).output();
    if (!result.success) throw new Error("deno bundle failed");

    const out = `${tmp}/out`;
    await Deno.mkdir(out);
    const files: string[] = [];
    const renamed = new Map<string, string>();
    const entryNames = new Set(entryFiles.map((f) => f.split("/").pop()!.replace(/\.tsx$/, "")));
    // esbuild names chunks by content already; entries get their hash here.
    for await (const entry of Deno.readDir(bundled)) {
      const data = await Deno.readFile(`${bundled}/${entry.name}`);
      const base = entry.name.replace(/\.js$/, "");
      const name = entryNames.has(base)
        ? `${base}-${(await sha256Hex(data)).slice(0, 10)}.js`
        : entry.name;
      renamed.set(entry.name, name);
      await Deno.writeFile(`${out}/${name}`, data);
      await Deno.writeFile(`${out}/${name}.gz`, await gzip(data));
      files.push(name);
    }

    const css = await Deno.readFile(`${ROOT}/static/app.css`);
    const cssName = `app-${(await sha256Hex(css)).slice(0, 10)}.css`;
    await Deno.writeFile(`${out}/${cssName}`, css);
    await Deno.writeFile(`${out}/${cssName}.gz`, await gzip(css));
    files.push(cssName);

    const entries: Manifest["entries"] = {};
    for (const name of entryNames) {
      const file = renamed.get(`${name}.js`)!;
      // Every chunk the entry needs before it runs, so the page can fetch them in parallel.
      const preload: string[] = [];
      const queue = [file];
      while (queue.length > 0) {
        const code = await Deno.readTextFile(`${out}/${queue.shift()}`);
        for (const dep of staticImports(code)) {
          if (!preload.includes(dep)) {
            preload.push(dep);
            queue.push(dep);
          }
        }
      }
      // Its strings: those of every file it runs, loaded now or on demand.
      const keys = new Set<string>();
      const seen = new Set<string>();
      const all = [file];
      while (all.length > 0) {
        const f = all.shift()!;
        if (seen.has(f)) continue;
        seen.add(f);
        const code = await Deno.readTextFile(`${out}/${f}`);
        keysIn(code).forEach((k) => keys.add(k));
        all.push(...staticImports(code), ...dynamicImports(code));
      }
      entries[name] = { file, preload, keys: [...keys].sort() };
    }
    const manifest: Manifest = { source_hash: hash, css: cssName, entries, files: files.sort() };
    await Deno.writeTextFile(`${out}/manifest.json`, JSON.stringify(manifest, null, 2) + "\n");

    await Deno.remove(OUT, { recursive: true }).catch(() => {});
    await Deno.rename(out, OUT);
    const ms = (performance.now() - started).toFixed(0);
    console.error(`built ${files.length} files into static/build in ${ms} ms`);
    return manifest;
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

async function isCurrent(): Promise<boolean> {
  try {
    const manifest = JSON.parse(await Deno.readTextFile(`${OUT}/manifest.json`)) as Manifest;
    return manifest.source_hash === await sourceHash();
  } catch {
    return false;
  }
}

async function watch() {
  await build().catch((err) => console.error(err.message));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const watcher = Deno.watchFs(SOURCES.map((d) => `${ROOT}/${d}`));
  for await (const event of watcher) {
    if (event.paths.every((p) => p.startsWith(OUT) || p.includes("/.build-"))) continue;
    clearTimeout(timer);
    timer = setTimeout(() => build().catch((err) => console.error(err.message)), 100);
  }
}

if (import.meta.main) {
  if (Deno.args.includes("--watch")) await watch();
  else if (Deno.args.includes("--if-needed") && await isCurrent()) {
    console.error("static/build is up to date");
  } else {
    try {
      await build();
    } catch (err) {
      console.error(`build failed: ${(err as Error).message}`);
      Deno.exit(1);
    }
  }
}
