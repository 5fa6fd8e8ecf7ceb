// What the call's browsers send each other over LiveKit's data channel: one topic per kind of
// payload, JSON, parsed on receipt (anything else is dropped). The sender is always the
// participant LiveKit names, never a name in the payload.
import { CHAT_MAX_CHARS, REACTIONS } from "./api.ts";

export type Reaction = (typeof REACTIONS)[number];

export interface DataPayloads {
  /** A chat message to everyone (reliable). */
  chat: { text: string };
  /** A reaction shown on the sender's tile for a moment (lossy). */
  reaction: { emoji: Reaction };
}

export type Topic = keyof DataPayloads;

const object = (v: unknown): Record<string, unknown> | null =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? v as Record<string, unknown> : null;

const PARSERS: { [T in Topic]: (v: Record<string, unknown>) => DataPayloads[T] | null } = {
  chat: ({ text }) =>
    typeof text === "string" && text.trim() ? { text: text.slice(0, CHAT_MAX_CHARS) } : null,
  reaction: ({ emoji }) =>
    (REACTIONS as readonly unknown[]).includes(emoji) ? { emoji: emoji as Reaction } : null,
};

/** Reads a payload of `topic`; null for anything that is not one (bad JSON, wrong shape). */
export function parsePayload<T extends Topic>(topic: T, bytes: Uint8Array): DataPayloads[T] | null {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
  const fields = object(value);
  return fields ? PARSERS[topic](fields) as DataPayloads[T] | null : null;
}

export function encodePayload<T extends Topic>(
  _topic: T,
  payload: DataPayloads[T],
): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(JSON.stringify(payload));
}
