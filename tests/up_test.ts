// `deno task up` as a new user runs it: from a clean copy of the tree, with no .env and no
// DATABASE_URL, it writes settings, makes a PostgreSQL of its own, starts LiveKit and the app;
// a browser signs up, two people see each other in a call; Ctrl-C stops every process it
// started; a second start keeps the data.
import assert from "node:assert/strict";
import { launchChromium, screenshot, signedIn } from "./browser.ts";
import { oneCallAtATime, preparePage, seesVideoOf } from "./call_fixture.ts";
import { addContacts, call, registerUser, type TestApp } from "./harness.ts";
import { SKIP_CALLS } from "./media.ts";

const ROOT = new URL("../", import.meta.url);
const UP = ["run", "--allow-all", "scripts/up.ts", "--free-ports"];

/** The tracked and untracked files of the tree (what a clone has, and the work in progress). */
async function copyTree(to: string) {
  const out = await new Deno.Command("git", {
    args: ["ls-files", "--cached", "--others", "--exclude-standard"],
    cwd: ROOT,
    stdout: "piped",
  }).output();
  for (const file of new TextDecoder().decode(out.stdout).split("\n").filter(Boolean)) {
    if (file === ".env" || file.startsWith(".urbania/")) continue;
    const target = `${to}/${file}`;
    await Deno.mkdir(target.slice(0, target.lastIndexOf("/")), { recursive: true });
    await Deno.copyFile(new URL(file, ROOT), target).catch((err) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err; // deleted in the work tree
    });
  }
}

/** Processes working in `dir` or below (every process the up command starts): pid and name. */
async function processesIn(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name) || Number(entry.name) === Deno.pid) continue;
    try {
      const cwd = await Deno.readLink(`/proc/${entry.name}/cwd`);
      if (cwd !== dir && !cwd.startsWith(`${dir}/`)) continue;
      const name = (await Deno.readTextFile(`/proc/${entry.name}/comm`)).trim();
      found.push(`${entry.name} ${name}`);
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return found.sort();
}

interface Running {
  child: Deno.ChildProcess;
  url: string;
  output: string[];
}

/** Starts the up command in `dir` and waits for "Urbania is up at ...". */
async function start(dir: string): Promise<Running> {
  const env = Deno.env.toObject();
  for (const k of ["DATABASE_URL", "PUBLIC_URL", "LIVEKIT_URL", "PORT"]) delete env[k];
  const child = new Deno.Command(Deno.execPath(), {
    args: UP,
    cwd: dir,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output: string[] = [];
  let resolveUrl: (url: string) => void = () => {};
  const upAt = new Promise<string>((resolve) => resolveUrl = resolve);
  for (const stream of [child.stdout, child.stderr]) {
    (async () => {
      const decoder = new TextDecoder();
      let rest = "";
      for await (const chunk of stream) {
        const lines = (rest + decoder.decode(chunk, { stream: true })).split("\n");
        rest = lines.pop() ?? "";
        for (const line of lines) {
          output.push(line);
          const m = /^Urbania is up at (\S+) /.exec(line);
          if (m) resolveUrl(m[1]);
        }
      }
    })().catch(() => {});
  }
  const url = await Promise.race([
    upAt,
    child.status.then((s) => {
      throw new Error(`up exited (${s.code}) before it was up:\n${output.join("\n")}`);
    }),
  ]);
  return { child, url, output };
}

/** Ctrl-C: SIGINT to the command; it exits 0 once everything it started has stopped. */
async function interrupt(run: Running) {
  run.child.kill("SIGINT");
  const status = await run.child.status;
  assert.equal(status.code, 0, run.output.join("\n"));
}

Deno.test({
  name: "up - a fresh tree to a sign-up and a call in one command; Ctrl-C stops it all; data kept",
  ignore: SKIP_CALLS,
  fn: () =>
    oneCallAtATime(async () => {
      const tasks = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT))).tasks;
      assert.equal(tasks.up, `deno ${UP.slice(0, 3).join(" ")}`, "the task runs this command");
      const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "urbania-up-" }));
      // As a clone is: other users may enter it (as root, PostgreSQL runs as nobody).
      await Deno.chmod(dir, 0o755);
      let running: Running | undefined;
      try {
        await copyTree(dir);
        running = await start(dir);
        const first = running.output.join("\n");
        assert.match(first, /^\.env {8}written with fresh secrets$/m);
        assert.match(first, /^PostgreSQL {2}embedded, .*data in \.urbania\/postgres \(made now/m);
        assert.match(first, /^LiveKit {5}ws:\/\/127\.0\.0\.1:\d+$/m);
        assert.match(first, /^app {9}http:\/\/localhost:\d+ \(ready\)$/m);
        const names = (await processesIn(dir)).map((p) => p.split(" ")[1]);
        // PostgreSQL, LiveKit (its binary is named "server"), coturn, the app (deno).
        for (const name of ["postgres", "server", "turnserver", "deno"]) {
          assert.ok(names.includes(name), `${name} runs: ${names.join(", ")}`);
        }

        const browser = await launchChromium();
        try {
          const page = await browser.newPage();
          await page.goto(`${running.url}/register`);
          await page.getByLabel("Your name").fill("Ada Lovelace");
          await page.getByLabel("Email").fill("ada@example.test");
          await page.getByLabel("Password").fill("analytical engine");
          await page.getByRole("button", { name: "Create account" }).click();
          await page.waitForURL(`${running.url}/dashboard`);
          await page.getByRole("heading", { name: "My meetings" }).waitFor();
          await screenshot(page, "95-up-dashboard");

          // A call on what it started: two people see each other through its LiveKit.
          const app = { base: running.url, config: { publicUrl: running.url } } as TestApp;
          const [ada, bob] = [
            await registerUser(app, { display_name: "Ada" }),
            await registerUser(app, { display_name: "Bob" }),
          ];
          await addContacts(app, ada, [bob]);
          const made = await call(app, "POST", "/api/livekit/rooms", {
            token: ada.token,
            json: { room_name: "First call", call_type: "video", participants: [bob.id] },
          });
          assert.equal(made.status, 201, JSON.stringify(made.body));
          const people = [];
          for (const user of [ada, bob]) {
            const person = await preparePage(await signedIn(browser, app, user));
            await person.page.goto(`${running.url}/meeting/room?room=${made.body.id}`);
            people.push(person);
          }
          await seesVideoOf(people[0].page, bob.id);
          await seesVideoOf(people[1].page, ada.id);
          await screenshot(people[1].page, "96-up-first-call");
          for (const person of people) assert.deepEqual(person.errors, []);
        } finally {
          await browser.close();
        }

        await interrupt(running);
        running = undefined;
        assert.deepEqual(await processesIn(dir), [], "nothing it started is left running");

        // A second start: the same database, the account still there.
        running = await start(dir);
        assert.match(running.output.join("\n"), /kept from the last run/);
        assert.doesNotMatch(running.output.join("\n"), /written with fresh secrets/);
        const res = await fetch(`${running.url}/api/auth/login`, {
          method: "POST",
          headers: { "Content-Type": "application/json", Origin: running.url },
          body: JSON.stringify({ email: "ada@example.test", password: "analytical engine" }),
        });
        await res.body?.cancel();
        assert.equal(res.status, 200);
        await interrupt(running);
        running = undefined;
        assert.deepEqual(await processesIn(dir), []);
      } finally {
        if (running) {
          running.child.kill("SIGKILL");
          await running.child.status;
        }
        for (const p of await processesIn(dir)) {
          try {
            Deno.kill(Number(p.split(" ")[0]), "SIGKILL");
          } catch {
            // Gone.
          }
        }
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    }),
});
