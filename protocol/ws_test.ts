import assert from "node:assert/strict";
import { parseLobbyMessage, parseServerMessage } from "./ws.ts";

const person = { id: "u1", display_name: "Ada" };
const invite = {
  id: "i1",
  room_id: "r1",
  room_name: "Standup",
  call_type: "video",
  from: person,
  status: "pending",
  created_at: "2026-12-03T10:00:00.000Z",
  expires_in: 60,
};
const room = {
  id: "r1",
  room_name: "Standup",
  call_type: "audio",
  status: "active",
  created_by: person,
  participants: [{ ...person, role: "host", in_call: true }],
  in_call_count: 1,
};

Deno.test("ws - every message the server sends parses as itself", () => {
  const good = [
    { type: "sync", invites: [invite], lobbies: [] },
    { type: "sync", invites: [] },
    { type: "invite", invite },
    { type: "invite_cancelled", invite_id: "i1", room_id: "r1", reason: "withdrawn" },
    { type: "invite_answered", invite_id: "i1", room_id: "r1", user_id: "u2", status: "missed" },
    { type: "room_updated", room_id: "r1", room },
    { type: "lobby", lobby: { room_id: "r1", room_name: "Standup", waiting: [person] } },
    { type: "contacts_changed" },
    { type: "pong" },
    { type: "error", code: "frame_too_large", message: "Frames are limited to 1024 bytes." },
  ];
  for (const m of good) assert.deepEqual(parseServerMessage(JSON.stringify(m)), m, m.type);
});

Deno.test("ws - a malformed server message is dropped, never passed on", () => {
  const bad: unknown[] = [
    "not json",
    "null",
    "[]",
    '"sync"',
    JSON.stringify({ type: "hello" }),
    JSON.stringify({ type: "constructor" }),
    JSON.stringify({ invites: [] }),
    JSON.stringify({ type: "sync" }),
    JSON.stringify({ type: "sync", invites: [{ ...invite, from: null }] }),
    JSON.stringify({ type: "invite", invite: { ...invite, expires_in: "60" } }),
    JSON.stringify({ type: "room_updated", room_id: "r1" }),
    JSON.stringify({ type: "room_updated", room_id: "r1", room: { ...room, participants: {} } }),
    JSON.stringify({ type: "room_updated", room_id: "r1", room: { ...room, status: "gone" } }),
    JSON.stringify({ type: "invite_answered", invite_id: "i1", room_id: "r1", user_id: "u2" }),
    JSON.stringify({ type: "lobby", lobby: { room_id: "r1", room_name: "x", waiting: [1] } }),
    JSON.stringify({ type: "error", code: 1, message: "x" }),
    42,
    new Uint8Array([123, 125]),
  ];
  for (const m of bad) assert.equal(parseServerMessage(m), null, String(m));
});

Deno.test("ws - the lobby's messages: one's knock, and pongs", () => {
  const knock = {
    id: "k1",
    room_id: "r1",
    room_name: "Standup",
    call_type: "video",
    display_name: "Guest",
    status: "waiting",
    expires_in: 300,
    host_present: false,
  };
  assert.deepEqual(parseLobbyMessage(JSON.stringify({ type: "knock", knock })), {
    type: "knock",
    knock,
  });
  assert.deepEqual(parseLobbyMessage('{"type":"pong"}'), { type: "pong" });
  assert.equal(parseLobbyMessage(JSON.stringify({ type: "knock", knock: { id: "k1" } })), null);
  assert.equal(parseLobbyMessage(JSON.stringify({ type: "sync", invites: [] })), null);
  assert.equal(parseLobbyMessage("{"), null);
});
