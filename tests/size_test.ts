// Sizes a newcomer can read: no island file over 300 lines, no function of the product over
// 150 (tests and benchmarks aside). tests/structure.ts measures them with TypeScript's parser.
import assert from "node:assert/strict";
import { functionsOf, sourceFiles } from "./structure.ts";

const ROOT = new URL("../", import.meta.url);
export const MAX_ISLAND_LINES = 300;
export const MAX_FUNCTION_LINES = 150;

const isProduct = (f: string) =>
  !/_test\.tsx?$/.test(f) && !f.startsWith("tests/") && !f.startsWith("bench/");

Deno.test("size - no island file is over 300 lines", async () => {
  const files = (await sourceFiles(ROOT)).filter((f) => f.startsWith("islands/"));
  assert.ok(files.includes("islands/Call.tsx"), "the islands were listed");
  const long: string[] = [];
  for (const file of files) {
    const lines = (await Deno.readTextFile(new URL(file, ROOT))).trimEnd().split("\n").length;
    if (lines > MAX_ISLAND_LINES) long.push(`${file}: ${lines} lines`);
  }
  assert.deepEqual(long, [], long.join("\n"));
});

Deno.test("size - no function of the product is over 150 lines", async () => {
  const files = (await sourceFiles(ROOT)).filter(isProduct);
  assert.ok(files.includes("routes/app.ts"), "the product's files were listed");
  const long: string[] = [];
  for (const file of files) {
    for (const f of functionsOf(file, await Deno.readTextFile(new URL(file, ROOT)))) {
      if (f.lines > MAX_FUNCTION_LINES) long.push(`${file}:${f.line} ${f.name}: ${f.lines} lines`);
    }
  }
  assert.deepEqual(long, [], long.join("\n"));
});

Deno.test("size - functions are measured from first line to last, nested ones too", () => {
  const code = [
    "export function outer() {", //  1
    "  const inner = () => {", //    2
    "    return 1;", //              3
    "  };", //                       4
    "  return inner;", //            5
    "}", //                          6
    "class A {", //                  7
    "  method() {", //               8
    "    return 2;", //              9
    "  }", //                       10
    "}", //                         11
    "declare function bare(): void;", // 12: no body, not counted
  ].join("\n");
  assert.deepEqual(
    functionsOf("x.ts", code).map(({ name, line, lines }) => ({ name, line, lines })),
    [
      { name: "outer", line: 1, lines: 6 },
      { name: "inner", line: 2, lines: 3 },
      { name: "method", line: 8, lines: 3 },
    ],
  );
});
