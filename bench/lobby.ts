// deno task bench:lobby [--rounds=200]
//
// Is letting someone in as quick as a ring? One app instance (real PostgreSQL), measured in the
// same run, round after round:
//   ring   — from just before creating a meeting that invites Bob to the invite on Bob's socket;
//   knock  — from just before a guest asks to join to "X wants to join" on the host's socket;
//   answer — from just before the host's Admit to "admitted" on the guest's lobby socket.
// Reports p50 and p99 of each, and knock and answer as ratios of ring (machines are noisy: the
// ratio is the figure to compare). Budget: both ratios at most 1.5 at p50.
import { addContacts, call, registerUser, startApp } from "../tests/harness.ts";
import { TestSocket } from "../tests/ws_client.ts";
import { flag } from "./load.ts";

const ROUNDS = flag("rounds", 200);
const plenty = { max: 1_000_000, windowSeconds: 600 };
const app = await startApp({
  guard: false,
  limits: {
    roomsPerCaller: plenty,
    ringsPerCaller: plenty,
    ringsPerPair: plenty,
    ringsPerPerson: plenty,
    knocksPerAddress: plenty,
  },
});
const quantile = (xs: number[], q: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};

try {
  const ada = await registerUser(app, { display_name: "Ada" });
  const bob = await registerUser(app, { display_name: "Bob" });
  await addContacts(app, ada, [bob]);
  const adaTab = await TestSocket.open(app, { token: ada.token });
  const bobTab = await TestSocket.open(app, { token: bob.token });
  await adaTab.next("sync");
  await bobTab.next("sync");
  const times = { ring: [] as number[], knock: [] as number[], answer: [] as number[] };

  for (let i = 0; i < ROUNDS; i++) {
    let t = performance.now();
    const rung = await call(app, "POST", "/api/livekit/rooms", {
      token: ada.token,
      json: { room_name: `Ring ${i}`, call_type: "audio", participants: [bob.id] },
    });
    await bobTab.next("invite", (m) => m.invite.room_id === rung.body.id);
    times.ring.push(performance.now() - t);

    const room = await call(app, "POST", "/api/livekit/rooms", {
      token: ada.token,
      json: { room_name: `Lobby ${i}`, call_type: "audio", entry: "knock" },
    });
    t = performance.now();
    const knocked = await call(app, "POST", `/api/livekit/rooms/${room.body.id}/knock`, {
      json: { display_name: `Guest ${i}` },
    });
    await adaTab.next("lobby", (m) => m.lobby.waiting.some((k) => k.id === knocked.body.id));
    times.knock.push(performance.now() - t);

    const cookie = knocked.headers.getSetCookie()[0].split(";")[0];
    const waiting = await TestSocket.open(app, { cookie }, `/ws/lobby?room=${room.body.id}`);
    await waiting.next("knock");
    t = performance.now();
    await call(app, "POST", `/api/livekit/rooms/${room.body.id}/knocks/${knocked.body.id}/admit`, {
      token: ada.token,
    });
    await waiting.next("knock", (m) => "knock" in m && m.knock.status === "admitted");
    times.answer.push(performance.now() - t);
    await waiting.close();
    adaTab.received.length = 0;
    bobTab.received.length = 0;
  }
  await adaTab.close();
  await bobTab.close();

  const row = (name: keyof typeof times) =>
    `${name.padEnd(7)} p50 ${quantile(times[name], 0.5).toFixed(1)} ms  p99 ${
      quantile(times[name], 0.99).toFixed(1)
    } ms`;
  console.log(`${ROUNDS} rounds on one instance`);
  for (const name of ["ring", "knock", "answer"] as const) console.log(row(name));
  const ratio = (name: "knock" | "answer") =>
    quantile(times[name], 0.5) / quantile(times.ring, 0.5);
  console.log(
    `knock / ring at p50: ${ratio("knock").toFixed(2)}; answer / ring at p50: ${
      ratio("answer").toFixed(2)
    } (budget 1.5)`,
  );
  if (ratio("knock") > 1.5 || ratio("answer") > 1.5) {
    console.log("over budget");
    Deno.exitCode = 1;
  }
} finally {
  await app.stop();
}
