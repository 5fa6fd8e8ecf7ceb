// The baseline for bench:token: a server that mints the same LiveKit token as the app's token
// endpoint, with no session check and no database.
import { loadConfig } from "../lib/platform/config.ts";
import { LiveKit } from "../lib/meetings/livekit.ts";

const config = loadConfig(Deno.env.toObject());
const livekit = new LiveKit(config);
Deno.serve({ hostname: "127.0.0.1", port: config.port, onListen: () => {} }, async (req) => {
  if (req.method !== "POST") return new Response("ok");
  const { room_name } = await req.json();
  const token = await livekit.mintToken({
    room: room_name,
    identity: "00000000-0000-4000-8000-000000000000",
    name: "Bench User",
    role: "host",
    callType: "video",
  });
  return Response.json({ token, url: livekit.url, room_name });
});
