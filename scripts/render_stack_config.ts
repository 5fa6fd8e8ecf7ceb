// Writes the compose stack's LiveKit and coturn configuration, rendered from the environment
// (readable by their owner only: they hold secrets). Run by the stack's `config` service:
//   deno run --allow-read=<templates> --allow-write=<out> --allow-env \
//     scripts/render_stack_config.ts [--owner=uid:gid] <templates dir> <out dir>
import {
  deploymentProblems,
  renderTemplate,
  STACK_TEMPLATES,
  StackConfigError,
} from "../ops/stack_config.ts";

/** `--owner=uid:gid` among the arguments, and the rest. */
function parseArgs(args: string[]): { owner?: [number, number]; rest: string[] } {
  let owner: [number, number] | undefined;
  const rest: string[] = [];
  for (const a of args) {
    const m = /^--owner=(\d+):(\d+)$/.exec(a);
    if (m) owner = [Number(m[1]), Number(m[2])];
    else rest.push(a);
  }
  return { owner, rest };
}

if (import.meta.main) {
  const { owner, rest } = parseArgs(Deno.args);
  const [from, to] = rest;
  if (!from || !to) {
    console.error("usage: render_stack_config.ts [--owner=uid:gid] <templates dir> <out dir>");
    Deno.exit(2);
  }
  const env = Deno.env.toObject();
  try {
    const warnings: string[] = [];
    const problems = deploymentProblems(env, warnings);
    for (const w of warnings) console.error(`warning: ${w}`);
    if (problems.length > 0) throw new StackConfigError(problems);
    for (const name of STACK_TEMPLATES) {
      const text = renderTemplate(await Deno.readTextFile(`${from}/${name}`), env);
      const path = `${to}/${name}`;
      await Deno.writeTextFile(path, text, { mode: 0o600 });
      await Deno.chmod(path, 0o600);
      // LiveKit and coturn run unprivileged and read these files; nobody else may.
      if (owner) await Deno.chown(path, owner[0], owner[1]);
      console.log(`wrote ${path}`);
    }
  } catch (err) {
    console.error(err instanceof StackConfigError ? err.message : String(err));
    Deno.exit(1);
  }
}
