// The page's one connection to GET /ws, shared by every island on it. Reconnects with backoff
// (and at once when the browser comes back online or the tab is shown again), checks the line
// with pings, and keeps the session renewed while the page is open.
import { signal } from "@preact/signals";
import { CLOSE_SIGNED_OUT, parseServerMessage, type ServerMessage } from "../protocol/ws.ts";

export type LinkState =
  | { state: "connecting" }
  | { state: "online" }
  /** `retryAt`: when the next attempt starts (ms since the epoch). */
  | { state: "offline"; retryAt: number }
  | { state: "signed_out" };

export const link = signal<LinkState>({ state: "connecting" });

type Listener = (message: ServerMessage) => void;
const listeners = new Set<Listener>();

const PING_EVERY_MS = 25_000;
const PONG_WITHIN_MS = 10_000;
const MAX_BACKOFF_MS = 30_000;
// Past half a session's 30 minutes the server renews it on any authenticated request.
const RENEW_EVERY_MS = 10 * 60_000;

let socket: WebSocket | null = null;
let failures = 0;
let retryTimer: ReturnType<typeof setTimeout> | undefined;
let pingTimer: ReturnType<typeof setInterval> | undefined;
let lastHeard = 0;
let started = false;

/** Receives every message from the server; returns the unsubscribe function. */
export function subscribe(listener: Listener): () => void {
  listeners.add(listener);
  start();
  return () => listeners.delete(listener);
}

/** Tries to connect now instead of waiting for the next attempt. */
export function reconnectNow(): void {
  if (link.value.state !== "offline") return;
  clearTimeout(retryTimer);
  open();
}

function start() {
  if (started) return;
  started = true;
  open();
  addEventListener("online", reconnectNow);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") reconnectNow();
  });
  setInterval(() => {
    if (link.value.state !== "signed_out") fetch("/api/auth/me").catch(() => {});
  }, RENEW_EVERY_MS);
}

function open() {
  if (link.value.state !== "offline") link.value = { state: "connecting" };
  const ws = new WebSocket(
    `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`,
  );
  socket = ws;
  ws.onmessage = (event) => {
    lastHeard = Date.now();
    const message = parseServerMessage(event.data);
    if (!message) {
      console.warn("dropped a malformed message from the server");
      return;
    }
    if (message.type === "sync") {
      failures = 0;
      link.value = { state: "online" };
    }
    for (const listener of listeners) listener(message);
  };
  ws.onopen = () => {
    lastHeard = Date.now();
    clearInterval(pingTimer);
    pingTimer = setInterval(() => {
      if (Date.now() - lastHeard > PING_EVERY_MS + PONG_WITHIN_MS) ws.close();
      else if (ws.readyState === WebSocket.OPEN) ws.send('{"type":"ping"}');
    }, PING_EVERY_MS);
  };
  ws.onclose = (event) => {
    if (socket !== ws) return;
    socket = null;
    clearInterval(pingTimer);
    if (event.code === CLOSE_SIGNED_OUT) {
      link.value = { state: "signed_out" };
      return;
    }
    retry();
  };
}

async function retry() {
  failures++;
  // A refused upgrade looks like any network failure: ask whether the session is still good.
  if (failures > 1) {
    const res = await fetch("/api/auth/me").catch(() => null);
    if (res?.status === 401) {
      link.value = { state: "signed_out" };
      return;
    }
  }
  const base = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(failures - 1, 5));
  const delay = Math.round(base * (0.5 + Math.random() / 2));
  link.value = { state: "offline", retryAt: Date.now() + delay };
  clearTimeout(retryTimer);
  retryTimer = setTimeout(open, delay);
}
