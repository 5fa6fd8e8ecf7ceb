// The layers, checked on every import of the repository (tests/structure.ts reads them):
// islands and protocol reach no server code; lib/ reaches no routes, scripts, tests or
// deployment tooling; lib's groups import only groups below them (platform, accounts,
// meetings, realtime, server); nothing but tests and benchmarks imports tests/ or bench/.
import assert from "node:assert/strict";
import { type ImportEdge, importsOf, sourceFiles } from "./structure.ts";

const ROOT = new URL("../", import.meta.url);

/** lib's groups, lowest first: each may import the ones before it. */
export const LIB_GROUPS = ["platform", "accounts", "meetings", "realtime", "server"];

const isTest = (f: string) =>
  /_test\.tsx?$/.test(f) || f.startsWith("tests/") ||
  f.startsWith("bench/");
const top = (f: string) => f.split("/")[0];

/** What is wrong with one import; null when it keeps the layers. */
export function violation(edge: ImportEdge): string | null {
  const { from, to, typeOnly } = edge;
  if (!edge.local) return null; // packages (deno.json's imports, node:)
  const where = `${from}:${edge.line} imports ${to}`;
  const area = top(to);
  if (!isTest(from) && (area === "tests" || area === "bench")) {
    return `${where}: only tests and benchmarks import tests/ and bench/`;
  }
  if (from.startsWith("protocol/") && area !== "protocol") {
    return `${where}: protocol/ stands alone (shared by server and browser)`;
  }
  if (from.startsWith("islands/") && !typeOnly) {
    const client = ["islands", "components", "protocol", "i18n"].includes(area) &&
      to !== "i18n/server.ts";
    if (!client) return `${where}: islands import islands, components, protocol and i18n only`;
  }
  if (from.startsWith("lib/") && !isTest(from)) {
    if (!["lib", "protocol", "i18n"].includes(area)) {
      return `${where}: server code imports lib, protocol and i18n only`;
    }
    if (area === "lib") {
      const [mine, theirs] = [from.split("/")[1], to.split("/")[1]];
      if (LIB_GROUPS.indexOf(theirs) > LIB_GROUPS.indexOf(mine)) {
        return `${where}: lib/${mine} may not import lib/${theirs}, a group above it`;
      }
    }
  }
  if (from.startsWith("ops/") && ["routes", "islands", "components", "scripts"].includes(area)) {
    return `${where}: deployment tooling imports lib, protocol and ops only`;
  }
  if (from.startsWith("routes/") && ["scripts", "ops"].includes(area)) {
    return `${where}: routes import no CLI and no deployment tooling`;
  }
  return null;
}

Deno.test("layering - every import of the repository keeps the layers", async () => {
  const files = await sourceFiles(ROOT);
  assert.ok(files.includes("lib/meetings/rooms.ts"), "the repository's files were listed");
  const problems: string[] = [];
  for (const file of files) {
    const text = await Deno.readTextFile(new URL(file, ROOT));
    for (const edge of importsOf(file, text)) {
      const problem = violation(edge);
      if (problem) problems.push(problem);
    }
  }
  assert.deepEqual(problems, [], problems.join("\n"));
});

Deno.test("layering - lib holds its groups and nothing else", async () => {
  const groups: string[] = [];
  for await (const entry of Deno.readDir(new URL("lib/", ROOT))) {
    assert.ok(entry.isDirectory, `lib/${entry.name} is a file: lib/ holds only groups`);
    groups.push(entry.name);
  }
  assert.deepEqual(groups.sort(), [...LIB_GROUPS].sort());
});

Deno.test("layering - the check names each kind of import that runs up the layers", () => {
  const bad = [
    ['import { getRoom } from "../lib/meetings/rooms.ts";', "islands/Evil.tsx"],
    ['import { x } from "../../tests/harness.ts";', "lib/platform/x.ts"],
    ['import { Realtime } from "../realtime/realtime.ts";', "lib/meetings/x.ts"],
    ['import { createApp } from "../../routes/app.ts";', "lib/server/x.ts"],
    ['import { report } from "../../ops/doctor.ts";', "lib/server/x.ts"],
    ['import { api } from "../islands/api.ts";', "protocol/x.ts"],
    ['const m = await import("../tests/media.ts");', "scripts/x.ts"],
    ['export { x } from "../scripts/build.ts";', "routes/x.ts"],
  ];
  for (const [code, file] of bad) {
    const problems = importsOf(file, code).map(violation).filter(Boolean);
    assert.equal(problems.length, 1, `${file}: ${code}`);
  }
  const good = [
    ['import type { Room } from "../lib/meetings/rooms.ts";', "islands/Fine.tsx"],
    ['import { publish } from "../platform/events.ts";', "lib/meetings/x.ts"],
    ['import { t } from "../i18n/t.ts";', "islands/Fine.tsx"],
    ['import { harness } from "../../tests/harness.ts";', "lib/platform/x_test.ts"],
    ['import { Room } from "livekit-client";', "islands/Fine.tsx"],
  ];
  for (const [code, file] of good) {
    assert.deepEqual(importsOf(file, code).map(violation).filter(Boolean), [], `${file}: ${code}`);
  }
});
