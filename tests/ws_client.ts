// WebSocket clients for tests: a well-behaved one that records what it is sent, and a raw TCP
// one that performs the upgrade by hand (to read refusals, or to misbehave: never answer a
// ping, never read).
import type { LobbyMessage, ServerMessage as AppMessage } from "../protocol/ws.ts";

/** Anything a socket of the app sends: the user's channel, or a lobby's. */
type ServerMessage = AppMessage | LobbyMessage;

export interface SocketAuth {
  token?: string;
  cookie?: string;
  /** The Origin header; none when null (default: none for Bearer, the app's own for cookies). */
  origin?: string | null;
}

function wsUrl(base: string, path = "/ws"): string {
  return base.replace(/^http/, "ws") + path;
}

function authHeaders(app: { config: { publicUrl: string } }, auth: SocketAuth) {
  const headers: Record<string, string> = {};
  if (auth.token) headers.Authorization = `Bearer ${auth.token}`;
  if (auth.cookie) headers.Cookie = auth.cookie;
  const origin = auth.origin === undefined
    ? (auth.cookie ? app.config.publicUrl : null)
    : auth.origin;
  if (origin) headers.Origin = origin;
  return headers;
}

/** A connected socket and everything it received. */
export class TestSocket {
  readonly received: ServerMessage[] = [];
  #wake: (() => void) | null = null;
  readonly closed: Promise<CloseEvent>;

  private constructor(readonly ws: WebSocket) {
    ws.onmessage = (e) => {
      this.received.push(JSON.parse(e.data));
      this.#wake?.();
    };
    this.closed = new Promise((resolve) => {
      ws.addEventListener("close", (e) => {
        resolve(e);
        this.#wake?.();
      });
    });
  }

  /** Opens GET /ws, or another socket path of the app (`/ws/lobby?room=…`). */
  static open(
    app: { base: string; config: { publicUrl: string } },
    auth: SocketAuth,
    path = "/ws",
  ): Promise<TestSocket> {
    // Deno's WebSocket takes request headers (browsers set Cookie and Origin themselves).
    const ws = new (WebSocket as unknown as new (
      url: string,
      init: { headers: Record<string, string> },
    ) => WebSocket)(wsUrl(app.base, path), { headers: authHeaders(app, auth) });
    const socket = new TestSocket(ws);
    return new Promise((resolve, reject) => {
      ws.onopen = () => resolve(socket);
      ws.onerror = () => reject(new Error("the socket did not open"));
    });
  }

  /**
   * The next message (after those already taken) that matches, waiting up to `ms`; messages
   * passed over on the way stay available to later calls with other predicates.
   */
  async next<T extends ServerMessage["type"]>(
    type: T,
    match: (m: Extract<ServerMessage, { type: T }>) => boolean = () => true,
    ms = 5000,
  ): Promise<Extract<ServerMessage, { type: T }>> {
    const deadline = Date.now() + ms;
    while (true) {
      for (let i = 0; i < this.received.length; i++) {
        const m = this.received[i] as Extract<ServerMessage, { type: T }>;
        if (m.type === type && match(m)) {
          // Taken: later searches do not see it again.
          this.received.splice(i, 1);
          return m;
        }
      }
      if (this.ws.readyState >= WebSocket.CLOSING) {
        throw new Error(`socket closed while waiting for ${type}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `no ${type} within ${ms} ms; received: ${
            JSON.stringify(this.received.map((m) => m.type))
          }`,
        );
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  /**
   * Drops every message received so far: a `next` after this takes only what arrived after
   * (a step's check is not passed by a message left over from an earlier step).
   */
  forget() {
    this.received.length = 0;
  }

  /** No message of this type arrives within `ms`. */
  async none<T extends ServerMessage["type"]>(
    type: T,
    match: (m: Extract<ServerMessage, { type: T }>) => boolean = () => true,
    ms = 500,
  ): Promise<boolean> {
    try {
      await this.next(type, match, ms);
      return false;
    } catch {
      return true;
    }
  }

  send(data: string | Uint8Array) {
    this.ws.send(data);
  }

  async close() {
    if (this.ws.readyState < WebSocket.CLOSING) this.ws.close();
    await this.closed;
  }
}

/**
 * An upgrade request written by hand on a TCP connection. Returns the status and, when the
 * upgrade was refused, the body; on 101 the connection stays open for `conn`.
 */
export async function rawUpgrade(
  app: { base: string; config: { publicUrl: string } },
  auth: SocketAuth,
  extra: Record<string, string> = {},
  path = "/ws",
): Promise<{ status: number; body: string; conn: Deno.Conn }> {
  const url = new URL(app.base);
  const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
  const headers: Record<string, string> = {
    Host: url.host,
    Upgrade: "websocket",
    Connection: "Upgrade",
    "Sec-WebSocket-Key": btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16)))),
    "Sec-WebSocket-Version": "13",
    ...authHeaders(app, auth),
    ...extra,
  };
  const request = `GET ${path} HTTP/1.1\r\n${
    Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("")
  }\r\n`;
  await conn.write(new TextEncoder().encode(request));
  // Read the response head (and, for a refusal, the body that follows).
  let text = "";
  const buf = new Uint8Array(16 * 1024);
  while (!text.includes("\r\n\r\n")) {
    const n = await conn.read(buf);
    if (n === null) break;
    text += new TextDecoder().decode(buf.subarray(0, n));
  }
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
  let body = text.slice(text.indexOf("\r\n\r\n") + 4);
  if (status !== 101) {
    const length = Number(/content-length: (\d+)/i.exec(text)?.[1] ?? 0);
    while (new TextEncoder().encode(body).length < length) {
      const n = await conn.read(buf);
      if (n === null) break;
      body += new TextDecoder().decode(buf.subarray(0, n));
    }
    conn.close();
  }
  return { status, body, conn };
}
