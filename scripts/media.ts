// deno task media
//
// LiveKit and coturn on this machine, for development without Docker: the stack's own
// livekit.yaml and turnserver.conf, rendered with the values a laptop uses (127.0.0.1) and the
// key pair and TURN secret from the environment (.env), on the stack's ports (LiveKit 7880,
// 7881/tcp and UDP 50000–50100; TURN 3478, relay 49160–49200). LiveKit's webhooks go to the
// app at PUBLIC_URL. Install both servers once with `bash scripts/install_media.sh`.
// Stops both on Ctrl-C.
import { startMediaStack } from "../ops/media.ts";

const need = ["LIVEKIT_API_KEY", "LIVEKIT_API_SECRET", "TURN_SECRET", "PUBLIC_URL"];
const missing = need.filter((n) => !Deno.env.get(n));
if (missing.length > 0) {
  console.error(`Set ${missing.join(", ")} (see .env.example), then run this again.`);
  Deno.exit(2);
}
const media = await startMediaStack({
  webhookUrl: `${Deno.env.get("PUBLIC_URL")}/api/livekit/webhook`,
  stackPorts: true,
  secrets: {
    apiKey: Deno.env.get("LIVEKIT_API_KEY")!,
    apiSecret: Deno.env.get("LIVEKIT_API_SECRET")!,
    turnSecret: Deno.env.get("TURN_SECRET")!,
  },
});
console.log(
  `LiveKit listens at ${media.livekitUrl} (set LIVEKIT_URL to it); coturn on ${media.turn.port}.`,
);
console.log("Ctrl-C stops both.");
const stop = async () => {
  await media.stop();
  Deno.exit(0);
};
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);
