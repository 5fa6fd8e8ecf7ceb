// Reads the repository's TypeScript as the layering test needs it: every import of every file,
// type-only or not. Uses the TypeScript compiler's parser, so that strings, comments and JSX
// never pass for imports.
import ts from "typescript";

export interface ImportEdge {
  /** The importing file, relative to the repository (e.g. `lib/meetings/rooms.ts`). */
  from: string;
  /** What it names: a relative path resolved against the repository, or a bare specifier. */
  to: string;
  /** A file of the repository (a relative specifier), not a package. */
  local: boolean;
  typeOnly: boolean;
  line: number;
}

const parse = (file: string, text: string) =>
  ts.createSourceFile(
    file,
    text,
    ts.ScriptTarget.Latest,
    true,
    file.endsWith(".tsx") ? ts.ScriptKind.TSX : ts.ScriptKind.TS,
  );

/** A relative specifier resolved against the importing file; others as written. */
function resolve(from: string, spec: string): string {
  if (!spec.startsWith(".")) return spec;
  const parts = from.split("/").slice(0, -1);
  for (const seg of spec.split("/")) {
    if (seg === "..") parts.pop();
    else if (seg !== "." && seg !== "") parts.push(seg);
  }
  return parts.join("/");
}

/** Every import, re-export and dynamic import of a file. */
export function importsOf(file: string, text: string): ImportEdge[] {
  const source = parse(file, text);
  const edges: ImportEdge[] = [];
  const add = (spec: ts.Expression, typeOnly: boolean, node: ts.Node) => {
    if (!ts.isStringLiteral(spec)) return;
    edges.push({
      from: file,
      to: resolve(file, spec.text),
      local: spec.text.startsWith("."),
      typeOnly,
      line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1,
    });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      // `import { type A, type B }` is as type-only as `import type { A, B }`.
      const named = clause?.namedBindings;
      const allTypes = !!clause && !clause.name && !!named && ts.isNamedImports(named) &&
        named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly);
      add(node.moduleSpecifier, !!clause?.isTypeOnly || allTypes, node);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      add(node.moduleSpecifier, node.isTypeOnly, node);
    } else if (
      ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments.length > 0
    ) {
      add(node.arguments[0], false, node);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return edges;
}

/** The repository's own TypeScript files (relative paths), outside git-ignored folders. */
export async function sourceFiles(root: URL): Promise<string[]> {
  const out = await new Deno.Command("git", {
    args: ["ls-files", "--cached", "--others", "--exclude-standard", "*.ts", "*.tsx"],
    cwd: root,
    stdout: "piped",
  }).output();
  const files = new TextDecoder().decode(out.stdout).split("\n").filter(Boolean);
  const here: string[] = [];
  for (const f of files) {
    try {
      await Deno.stat(new URL(f, root));
      here.push(f);
    } catch {
      // Deleted in the work tree.
    }
  }
  return here;
}

export interface FunctionSpan {
  file: string;
  /** Its name, or the variable, property or method it is assigned to; "(anonymous)" else. */
  name: string;
  line: number;
  /** From its first line to its last, both counted. */
  lines: number;
}

function nameOf(node: ts.Node): string {
  const named = node as { name?: ts.Node };
  if (named.name && (ts.isIdentifier(named.name) || ts.isPrivateIdentifier(named.name))) {
    return named.name.text;
  }
  const parent = node.parent;
  if (parent && (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent))) {
    if (ts.isIdentifier(parent.name)) return parent.name.text;
  }
  return "(anonymous)";
}

/** Every function of a file (declarations, methods, arrows, expressions) with its length. */
export function functionsOf(file: string, text: string): FunctionSpan[] {
  const source = parse(file, text);
  const spans: FunctionSpan[] = [];
  const lineOf = (pos: number) => source.getLineAndCharacterOfPosition(pos).line + 1;
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && "body" in node && node.body) {
      const line = lineOf(node.getStart());
      spans.push({ file, name: nameOf(node), line, lines: lineOf(node.getEnd()) - line + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return spans;
}
