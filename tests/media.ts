// The media fixture: the stack's LiveKit, coturn and entrance (ops/media.ts) with the tests'
// key pair and TURN secret. Without the servers the call tests report themselves skipped, except
// in CI (CI=true), where they run and fail saying what is missing. `deno task test` runs this
// module first, which prints one line saying what is skipped and how to install it (and one
// for the network tests, tests/netns.ts, when they cannot run here).
import { MEDIA_MISSING, type MediaStack, startMediaStack as startStack } from "../ops/media.ts";
import { TEST_LIVEKIT_KEY, TEST_LIVEKIT_SECRET } from "./harness.ts";
import { NETNS_MISSING, SKIP_NETWORKS } from "./netns.ts";

export * from "../ops/media.ts";

export const TEST_TURN_SECRET = "test-turn-secret-0123456789-abcdefghijklmnopq";

const IN_CI = Deno.env.get("CI") === "true";

/** Whether call tests are skipped: only outside CI. */
export const SKIP_CALLS = MEDIA_MISSING.length > 0 && !IN_CI;

/** The stack with the tests' secrets unless the test gives its own. */
export function startMediaStack(
  options: Omit<Parameters<typeof startStack>[0], "secrets"> & {
    secrets?: Parameters<typeof startStack>[0]["secrets"];
  },
): Promise<MediaStack> {
  return startStack({
    ...options,
    secrets: options.secrets ??
      { apiKey: TEST_LIVEKIT_KEY, apiSecret: TEST_LIVEKIT_SECRET, turnSecret: TEST_TURN_SECRET },
  });
}

if (import.meta.main && MEDIA_MISSING.length > 0) {
  console.log(
    `${IN_CI ? "call tests will fail" : "call tests skipped"}: not installed: ` +
      `${MEDIA_MISSING.join(", ")}; run \`bash scripts/install_media.sh\` once`,
  );
}
if (import.meta.main && NETNS_MISSING) {
  console.log(`network tests ${SKIP_NETWORKS ? "skipped" : "will fail"}: ${NETNS_MISSING}`);
}
