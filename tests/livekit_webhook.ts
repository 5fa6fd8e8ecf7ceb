/**
 * Webhook deliveries signed the way LiveKit signs them: the body is the event as protobuf JSON,
 * and the `Authorization` header is an access token of the API key whose `sha256` claim is the
 * base64 SHA-256 of that body (LiveKit's server sends the bare token, without "Bearer").
 */
import { AccessToken, WebhookEvent } from "livekit-server-sdk";
import { call, TEST_LIVEKIT_KEY, TEST_LIVEKIT_SECRET } from "./harness.ts";

export interface WebhookFields {
  event: string;
  room: string;
  /** Defaults to a fresh id, as LiveKit gives each event. */
  id?: string;
  participant?: { sid: string; identity: string; name?: string };
  /** Seconds since the epoch; defaults to now. */
  createdAt?: number;
}

let seq = 0;

/** A delivery: the body and the headers LiveKit sends with it. */
export async function signedWebhook(
  fields: WebhookFields,
  keys: { key: string; secret: string } = { key: TEST_LIVEKIT_KEY, secret: TEST_LIVEKIT_SECRET },
): Promise<{ id: string; body: string; headers: Record<string, string> }> {
  const id = fields.id ?? `EV_${Date.now().toString(36)}${(seq++).toString(36)}`;
  const body = WebhookEvent.fromJson({
    event: fields.event,
    id,
    createdAt: String(fields.createdAt ?? Math.floor(Date.now() / 1000)),
    room: { sid: `RM_${fields.room.replaceAll("-", "")}`, name: fields.room },
    ...(fields.participant
      ? {
        participant: {
          sid: fields.participant.sid,
          identity: fields.participant.identity,
          name: fields.participant.name ?? "",
        },
      }
      : {}),
  }).toJsonString();
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body)),
  );
  const at = new AccessToken(keys.key, keys.secret, { ttl: 5 * 60 });
  at.sha256 = btoa(String.fromCharCode(...digest));
  return {
    id,
    body,
    headers: { "Content-Type": "application/webhook+json", Authorization: await at.toJwt() },
  };
}

/** Posts a signed delivery to the app's webhook route. */
export async function deliver(app: { base: string }, fields: WebhookFields) {
  const d = await signedWebhook(fields);
  const res = await call(app, "POST", "/api/livekit/webhook", { body: d.body, headers: d.headers });
  return { ...res, delivery: d };
}

/**
 * LiveKit reports that `identity` connected to `room` (presence comes only from LiveKit);
 * returns the connection's sid, for its departure.
 */
export async function connects(app: { base: string }, room: string, identity: string) {
  const sid = `PA_${crypto.randomUUID().slice(0, 12)}`;
  const res = await deliver(app, {
    event: "participant_joined",
    room,
    participant: { sid, identity },
  });
  if (res.status !== 200) throw new Error(`participant_joined: ${res.status}`);
  return sid;
}

/** A guest joins through the meeting's link: their pass cookie and LiveKit identity. */
export async function guestJoins(app: { base: string }, room: string, name = "Visitor") {
  const res = await call(app, "POST", `/api/livekit/rooms/${room}/guest`, {
    json: { display_name: name },
  });
  if (res.status !== 200) throw new Error(`guest join: ${res.status} ${JSON.stringify(res.body)}`);
  const pass = res.headers.getSetCookie().find((c) => c.startsWith(`urbania_guest_${room}=`));
  if (!pass) throw new Error("no guest pass was set");
  const claims = JSON.parse(
    atob(res.body.token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")),
  );
  return { identity: claims.sub as string, cookie: pass.split(";")[0], token: res.body.token };
}
