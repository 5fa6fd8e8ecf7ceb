// Property-based bad input on every room, token, invite, account and contact route, and on the
// pages' forms and meeting links: whatever arrives, never a 5xx.
import assert from "node:assert/strict";
import fc from "fast-check";
import { call } from "./harness.ts";
import { createRoom, withRooms } from "./rooms_fixture.ts";

const ROUTES: [string, (id: string) => string][] = [
  ["POST", () => "/api/livekit/rooms"],
  ["GET", (id) => `/api/livekit/rooms/${id}`],
  ["POST", (id) => `/api/livekit/rooms/${id}/join`],
  ["POST", (id) => `/api/livekit/rooms/${id}/leave`],
  ["DELETE", (id) => `/api/livekit/rooms/${id}`],
  ["POST", () => "/api/livekit/token"],
  ["POST", (id) => `/api/livekit/rooms/${id}/guest`],
  ["POST", (id) => `/api/livekit/rooms/${id}/guest/token`],
  ["POST", (id) => `/api/livekit/rooms/${id}/invite`],
  ["DELETE", (id) => `/api/livekit/rooms/${id}/participants/${id}`],
  ["POST", (id) => `/api/livekit/rooms/${id}/participants/${id}/mute`],
  ["POST", () => "/api/livekit/webhook"],
  ["POST", (id) => `/api/invites/${id}/accept`],
  ["POST", (id) => `/api/invites/${id}/decline`],
  ["POST", (id) => `/api/invites/${id}/cancel`],
  ["POST", () => "/api/auth/register"],
  ["POST", () => "/api/auth/login"],
  ["POST", () => "/api/contacts"],
  ["DELETE", (id) => `/api/contacts/${id}`],
  ["POST", (id) => `/api/contacts/requests/${id}/accept`],
  ["POST", (id) => `/api/contacts/requests/${id}/decline`],
  ["DELETE", (id) => `/api/contacts/requests/${id}`],
  ["POST", () => "/api/contacts/blocks"],
  ["DELETE", (id) => `/api/contacts/blocks/${id}`],
  ["PATCH", (id) => `/api/livekit/rooms/${id}`],
  ["PUT", (id) => `/api/livekit/rooms/${id}/cohosts/${id}`],
  ["DELETE", (id) => `/api/livekit/rooms/${id}/cohosts/${id}`],
  ["POST", (id) => `/api/livekit/rooms/${id}/knock`],
  ["GET", (id) => `/api/livekit/rooms/${id}/knock`],
  ["DELETE", (id) => `/api/livekit/rooms/${id}/knock`],
  ["POST", (id) => `/api/livekit/rooms/${id}/knock/enter`],
  ["GET", (id) => `/api/livekit/rooms/${id}/lobby`],
  ["POST", (id) => `/api/livekit/rooms/${id}/knocks/${id}/admit`],
  ["POST", (id) => `/api/livekit/rooms/${id}/knocks/${id}/deny`],
  ["POST", (id) => `/api/livekit/rooms/${id}/knocks/admit-all`],
  ["POST", (id) => `/api/livekit/rooms/${id}/hand`],
  ["DELETE", (id) => `/api/livekit/rooms/${id}/hands`],
  ["DELETE", (id) => `/api/livekit/rooms/${id}/participants/${id}/hand`],
  ["POST", (id) => `/api/livekit/rooms/${id}/mute-all`],
  ["DELETE", () => "/api/livekit/rooms/history"],
  ["POST", (id) => `/api/invites/${id}/dismiss`],
  ["POST", () => "/login"],
  ["POST", () => "/register"],
  ["GET", (id) => `/meeting/invite?room=${id}`],
  ["GET", (id) => `/meeting/room?room=${id}`],
];

// Bodies shaped like the real ones, with every field replaced by arbitrary JSON now and then.
const field = fc.oneof(
  fc.jsonValue(),
  fc.string({ maxLength: 200 }),
  fc.uuid(),
  fc.constantFrom(
    "audio",
    "video",
    "open",
    "knock",
    "invited",
    "",
    " ",
    "\u0000",
    "a".repeat(5000),
  ),
);
const body = fc.oneof(
  fc.jsonValue(),
  fc.record(
    {
      room_name: field,
      call_type: field,
      participants: fc.oneof(field, fc.array(field)),
      allow_guests: field,
      display_name: field,
      track_sid: field,
      entry: field,
      locked: field,
      raised: field,
      user_id: field,
      email: field,
    },
    { requiredKeys: [] },
  ),
);
const rawBody = fc.oneof(
  body.map((b) => ({ text: JSON.stringify(b) ?? "null", type: "application/json" })),
  fc.string().map((text) => ({ text, type: "application/json" })),
  fc.string().map((text) => ({ text, type: "text/plain" })),
  // What the sign-in and registration forms post, well formed or not.
  fc.dictionary(fc.constantFrom("email", "password", "display_name", "x"), fc.string())
    .map((fields) => ({
      text: new URLSearchParams(fields).toString(),
      type: "application/x-www-form-urlencoded",
    })),
  fc.string().map((text) => ({ text, type: "application/x-www-form-urlencoded" })),
  fc.string().map((text) => ({ text, type: "multipart/form-data" })),
  fc.string().map((text) => ({ text: `--b\r\n${text}`, type: "multipart/form-data; boundary=b" })),
);
const roomId = fc.oneof(
  fc.string({ minLength: 1, maxLength: 80 }).map(encodeURIComponent),
  fc.constantFrom("aaaa-bbbb-cccc", "%00", "..%2F..", "'; drop table rooms; --"),
);

Deno.test("fuzz - arbitrary bodies and ids on every write route never get a 5xx", () =>
  withRooms(async ({ app, host, friends }) => {
    const real = await createRoom(app, host, { participants: [friends[0].id] });
    const knocking = await createRoom(app, host, { entry: "knock" });
    const [invite] = await app.sql<{ id: string }[]>`select id::text from invites`;
    const knocked = await call(app, "POST", `/api/livekit/rooms/${knocking.id}/knock`, {
      json: { display_name: "Fuzzy" },
    });
    const ticket = knocked.headers.getSetCookie()[0].split(";")[0];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ROUTES),
        fc.oneof(
          roomId,
          fc.constant(real.id),
          fc.constant(knocking.id),
          fc.constant(invite.id),
          fc.constant(knocked.body.id),
        ),
        rawBody,
        fc.constantFrom(host, friends[0], null, "ticket" as const),
        async ([method, path], id, raw, user) => {
          const res = await call(app, method, path(id), {
            token: user === "ticket" ? undefined : user?.token,
            cookie: user === "ticket" ? ticket : undefined,
            body: method === "GET" ? undefined : raw.text,
            headers: method === "GET" ? {} : { "Content-Type": raw.type },
          });
          assert.ok(
            res.status < 500,
            `${method} ${path(id)} ${raw.text.slice(0, 100)} → ${res.status}`,
          );
          if (res.status >= 400 && typeof res.body !== "string") {
            assert.equal(typeof res.body.error?.code, "string");
          } else if (res.status >= 400) {
            // A form sent back with its problem.
            assert.match(res.body, /role="alert"/);
          }
        },
      ),
      { numRuns: 500 },
    );
    const errors = app.logs.filter((l) => l.includes('"level":"error"'));
    assert.deepEqual(errors, []);
  }));
