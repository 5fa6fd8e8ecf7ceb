// The network fixture itself (tests/netns.ts): nothing routes beyond its links, it is gone
// after a test that fails, a killed run's hosts are removed by the next, and its DNS server
// answers the test names only.
import assert from "node:assert/strict";
import { answer } from "./dns_server.ts";
import { createNetwork, NET, removeStale, SKIP_NETWORKS, withNetwork } from "./netns.ts";

const netTest = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, ignore: SKIP_NETWORKS, fn, sanitizeOps: false, sanitizeResources: false });

async function namespaces(): Promise<string[]> {
  const out = await new Deno.Command("ip", { args: ["netns", "list"], stdout: "piped" }).output();
  return new TextDecoder().decode(out.stdout).split("\n").map((l) => l.split(" ")[0])
    .filter(Boolean);
}

netTest("netns - the hosts reach each other through the router and nothing beyond", async () => {
  await withNetwork(async (net) => {
    const [c1, c2] = net.clients;
    // Client to server and client to client, through the router.
    assert.match(await c1.run("ip", ["route", "get", NET.server]), /via 198\.18\.1\.1/);
    assert.match(await c1.run("ip", ["route", "get", NET.client(2)]), /via 198\.18\.1\.1/);
    assert.match(await c2.run("ip", ["route", "get", NET.server]), /via 198\.18\.2\.1/);
    // No route from the router to anywhere else, the machine's own app link included.
    for (const beyond of ["1.1.1.1", NET.appLink]) {
      await assert.rejects(net.router.run("ip", ["route", "get", beyond]), /unreachable/i);
    }
    // The server host forwards nothing (its app link leads nowhere for the others).
    assert.equal((await net.server.run("sysctl", ["-n", "net.ipv4.ip_forward"])).trim(), "0");
    // The names resolve inside a client host through the router's DNS server.
    const hosts = await c1.run("getent", ["ahostsv4", "turn.urbania.test"]);
    assert.match(hosts, new RegExp(NET.server.replaceAll(".", "\\.")));
  });
});

netTest("netns - a test that fails leaves no namespace, link or hosts file behind", async () => {
  let names: string[] = [];
  let link = "";
  await assert.rejects(
    withNetwork((net) => {
      names = [net.server, net.router, ...net.clients].map((h) => h.ns);
      link = net.appLinkDevice;
      return Promise.reject(new Error("the test failed"));
    }),
    /the test failed/,
  );
  const left = await namespaces();
  for (const ns of names) {
    assert.ok(!left.includes(ns), `${ns} is gone`);
    await assert.rejects(Deno.stat(`/etc/netns/${ns}`));
  }
  const links = await new Deno.Command("ip", { args: ["-o", "link"], stdout: "piped" }).output();
  assert.ok(!new TextDecoder().decode(links.stdout).includes(`${link}@`), `${link} is gone`);
});

netTest("netns - what a killed run left is removed when the next network is made", async () => {
  const script = `import { createNetwork } from "${
    new URL("./netns.ts", import.meta.url).href
  }"; await createNetwork(); console.log("ready"); setInterval(() => {}, 1000);`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", script],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  assert.match((await reader.read()).value ?? "", /ready/);
  reader.releaseLock();
  child.kill("SIGKILL");
  await child.status;
  await child.stdout.cancel().catch(() => {});
  const theirs = (await namespaces()).filter((ns) => ns.startsWith(`urb-${child.pid}-`));
  assert.equal(theirs.length, 4, "server, router and two clients left by the killed run");
  const net = await createNetwork({ clients: 1 });
  try {
    const left = await namespaces();
    for (const ns of theirs) assert.ok(!left.includes(ns), `${ns} was removed`);
    assert.deepEqual(await removeStale(), [], "nothing else was left");
  } finally {
    await net.teardown();
  }
});

Deno.test("netns - the DNS server answers the test names with their address, others with NXDOMAIN", () => {
  const table = new Map([["turn.urbania.test", [203, 0, 113, 10]]]);
  const query = (name: string, type = 1) => {
    const labels = name.split(".").flatMap((l) => [l.length, ...new TextEncoder().encode(l)]);
    return new Uint8Array([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, ...labels, 0, 0, type, 0, 1]);
  };
  const a = answer(query("TURN.urbania.test"), table)!;
  assert.deepEqual([...a.subarray(0, 2)], [0x12, 0x34], "the query's id");
  assert.equal(a[3] & 0x0f, 0, "NOERROR");
  assert.equal((a[6] << 8) | a[7], 1, "one answer");
  assert.deepEqual([...a.subarray(-4)], [203, 0, 113, 10]);
  const aaaa = answer(query("turn.urbania.test", 28), table)!;
  assert.equal(aaaa[3] & 0x0f, 0, "a known name: no error");
  assert.equal((aaaa[6] << 8) | aaaa[7], 0, "and no IPv6 answer");
  const other = answer(query("example.com"), table)!;
  assert.equal(other[3] & 0x0f, 3, "NXDOMAIN");
  assert.equal(answer(new Uint8Array([1, 2, 3]), table), null, "too short: no answer");
});
