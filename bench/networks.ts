// deno task bench:networks [--joins=5] [--profiles=open,no-udp,...]
//
// On the test network (tests/netns.ts, as root): for each network profile, `--joins` times,
// two people on client hosts of their own pass the device check and join a new meeting through
// the entrance; Bob's Join → first remote frame is recorded, and the path ICE selected. Prints
// per profile p50 and the worst join, with the path, beside the open network's p50 measured in
// the same run (the ratio is what compares across machines).
import { flag } from "./load.ts";
import { callAcross, withNetworkCall } from "../tests/network_call.ts";
import { selectedPaths } from "../tests/call_fixture.ts";
import { NETNS_MISSING, type Profile, PROFILES } from "../tests/netns.ts";
import { MEDIA_MISSING } from "../ops/media.ts";

const JOINS = flag("joins", 5);
const chosen = Deno.args.find((a) => a.startsWith("--profiles="))?.slice(11).split(",");
const profiles = (chosen ?? Object.keys(PROFILES).filter((p) => p !== "offline")) as Profile[];
for (const p of profiles) {
  if (!(p in PROFILES) || p === "offline") {
    console.error(`unknown profile ${p}; one of ${Object.keys(PROFILES).join(", ")}`);
    Deno.exit(2);
  }
}
if (NETNS_MISSING || MEDIA_MISSING.length > 0) {
  console.error(`cannot run: ${NETNS_MISSING ?? `not installed: ${MEDIA_MISSING.join(", ")}`}`);
  Deno.exit(1);
}

const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
let baseline: number | null = null;
console.log(`profile | p50 join → first frame | worst | ratio to open | path (Bob's side)`);
for (const profile of ["open" as Profile, ...profiles.filter((p) => p !== "open")]) {
  await withNetworkCall(profile, async (world) => {
    const times: number[] = [];
    const paths = new Set<string>();
    for (let i = 0; i < JOINS; i++) {
      const { ada, bob, joinMs } = await callAcross(world);
      times.push(joinMs);
      for (const path of await selectedPaths(bob.page)) {
        paths.add(`${path.type}/${path.relayProtocol ?? path.protocol}`);
      }
      await ada.context.close();
      await bob.context.close();
    }
    const mid = p50(times);
    if (profile === "open") baseline = mid;
    const ratio = baseline ? (mid / baseline).toFixed(2) : "-";
    console.log(
      `${world.applied} | ${mid} ms | ${Math.max(...times)} ms | ${ratio} | ${
        [...paths].join(", ")
      }`,
    );
  });
}
Deno.exit(0);
