// The connection guard: the public listener is ours, and every connection is relayed to the
// HTTP server (Deno.serve, on an ephemeral loopback port) through a reader that understands
// just enough of HTTP/1.1 and WebSocket framing to hold each client to its bounds. Deno's
// server has no header or body timeouts and reads a WebSocket frame of up to 64 MiB before
// the app can see its size; here a request's head must arrive within `headerTimeoutMs`, its
// body within `bodyTimeoutMs`, a connection silent both ways for `idleTimeoutMs` is closed,
// and a WebSocket frame (or message) declaring more than `maxFrameBytes` closes the connection
// at its header, before any of its payload is read. Bytes from the server are passed on as is.

export interface GuardOptions {
  /** From a request's first byte to the end of its head. */
  headerTimeoutMs: number;
  /** From the end of a request's head to the end of its body. */
  bodyTimeoutMs: number;
  /** A connection with no bytes either way for this long is closed. */
  idleTimeoutMs: number;
  /** A request head larger than this is answered 431 and the connection closed. */
  maxHeaderBytes: number;
  /** Client WebSocket frames (and messages) larger than this close the connection. */
  maxFrameBytes: number;
  /** Connections one client address may hold at once (0: no limit, behind a proxy). */
  maxConnectionsPerAddress: number;
}

export const DEFAULT_GUARD: GuardOptions = {
  headerTimeoutMs: 10_000,
  bodyTimeoutMs: 30_000,
  idleTimeoutMs: 120_000,
  maxHeaderBytes: 32 * 1024,
  maxFrameBytes: 64 * 1024,
  maxConnectionsPerAddress: 256,
};

export interface GuardedServer {
  /** Where clients connect. */
  addr: Deno.NetAddr;
  /** Stops accepting, lets the server finish its requests, then cuts what is left. */
  shutdown(): Promise<void>;
}

type Handler = (
  request: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr>,
) => Response | Promise<Response>;

const CRLFCRLF = [13, 10, 13, 10];
// How long shutting down waits for the server's requests before cutting their connections.
const SHUTDOWN_GRACE_MS = 10_000;
const decoder = new TextDecoder();
// The request headers the guard reads, in a head already lowercased.
const TRANSFER_ENCODING = /\r\ntransfer-encoding:/;
const UPGRADE_WEBSOCKET = /\r\nupgrade:[^\r\n]*websocket/;
const CONTENT_LENGTH = /\r\ncontent-length:[ \t]*([^\r\n]*)/;
// A line ending in a bare LF (or a bare CR): Deno's parser takes it for a line end, where the
// patterns above would not see the header after it. Refused rather than read two ways.
const BARE_LINE_END = /[^\r]\n|\r[^\n]/;
// The server's answer that switches a connection to WebSocket frames.
const SWITCHING = "HTTP/1.1 101 ";

/** Serves `handler` on `listen` through the guard. */
export function serveGuarded(
  listen: { hostname?: string; port: number },
  handler: Handler,
  options: Partial<GuardOptions> = {},
): GuardedServer {
  const opts = { ...DEFAULT_GUARD, ...options };
  // Whose connection each relay is, by the relay's own port as the server sees it.
  const clientOf = new Map<number, Deno.NetAddr>();
  const inner = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req, info) => {
    const client = clientOf.get((info.remoteAddr as Deno.NetAddr).port);
    return handler(req, {
      remoteAddr: client ?? info.remoteAddr as Deno.NetAddr,
      completed: info.completed,
    });
  });
  const listener = Deno.listen({ hostname: listen.hostname ?? "0.0.0.0", port: listen.port });
  const open = new Set<Relay>();
  const perAddress = new Map<string, number>();
  // One clock for every connection's deadlines.
  const clock = setInterval(() => {
    for (const relay of open) relay.checkTime();
  }, 1000);

  (async () => {
    for await (const conn of listener) {
      const remote = conn.remoteAddr as Deno.NetAddr;
      const count = perAddress.get(remote.hostname) ?? 0;
      if (opts.maxConnectionsPerAddress > 0 && count >= opts.maxConnectionsPerAddress) {
        conn.close();
        continue;
      }
      perAddress.set(remote.hostname, count + 1);
      const relay = new Relay(conn, opts);
      open.add(relay);
      relay.run(inner.addr, clientOf).finally(() => {
        open.delete(relay);
        const left = (perAddress.get(remote.hostname) ?? 1) - 1;
        if (left > 0) perAddress.set(remote.hostname, left);
        else perAddress.delete(remote.hostname);
      });
    }
  })().catch(() => {}); // the listener was closed

  return {
    addr: listener.addr as Deno.NetAddr,
    async shutdown() {
      try {
        listener.close();
      } catch { /* already closed */ }
      // The deadlines keep running meanwhile, and the server's own wait is bounded: a
      // connection it would wait for (a request that never ends) is cut after 10 s, and a
      // handler that still has not answered is left behind a second later.
      const drained = inner.shutdown();
      const within = async (ms: number) => {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([drained, new Promise((r) => timer = setTimeout(r, ms))]);
        clearTimeout(timer);
      };
      await within(SHUTDOWN_GRACE_MS);
      // What the server sent last (a WebSocket's close frame, say) is let through: relays end
      // by themselves once the server has closed its side; those still open after 2 s are cut.
      for (let waited = 0; open.size > 0 && waited < 2000; waited += 20) {
        await new Promise((r) => setTimeout(r, 20));
      }
      for (const relay of open) relay.close();
      await within(1000);
      clearInterval(clock);
    },
  };
}

type Phase =
  | { kind: "head"; started: number | null }
  | { kind: "body"; left: number; deadline: number }
  /** An upgrade was asked for: WebSocket frames only once the server answers 101. */
  | { kind: "upgrading"; held: Uint8Array[]; heldBytes: number }
  | { kind: "websocket" };

/** One client connection and its relay to the server. */
class Relay {
  #upstream: Deno.TcpConn | null = null;
  #closed = false;
  #lastActivity = Date.now();
  #phase: Phase = { kind: "head", started: null };
  #head: Uint8Array[] = [];
  #headBytes = 0;
  /** How many bytes of the blank line ending a head (CR LF CR LF) the last bytes matched. */
  #headEndMatched = 0;
  // WebSocket framing state: bytes of the current frame's header collected, payload left.
  #frameHeader = new Uint8Array(14);
  #frameHeaderLength = 0;
  #payloadLeft = 0;
  #messageBytes = 0;

  constructor(private client: Deno.Conn, private opts: GuardOptions) {}

  async run(server: Deno.NetAddr, clientOf: Map<number, Deno.NetAddr>): Promise<void> {
    let port = 0;
    try {
      this.#upstream = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
      // Every write here is a whole piece of a message: no waiting to coalesce (Nagle).
      this.#upstream.setNoDelay(true);
      (this.client as Deno.TcpConn).setNoDelay?.(true);
      port = (this.#upstream.localAddr as Deno.NetAddr).port;
      clientOf.set(port, this.client.remoteAddr as Deno.NetAddr);
      // A client that has sent its last byte (a half-close) still gets its answer, and the
      // server still sees it as itself: the relay passes the half-close on and waits.
      const fromServer = this.#fromServer();
      await Promise.race([
        this.#fromClient().then(async () => {
          await this.#upstream?.closeWrite().catch(() => {});
          await fromServer;
        }),
        fromServer,
      ]);
    } catch {
      // either side went away
    } finally {
      if (port) clientOf.delete(port);
      this.close();
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeBoth();
  }

  #closeBoth(): void {
    for (const c of [this.client, this.#upstream]) {
      try {
        c?.close();
      } catch { /* already closed */ }
    }
  }

  /** Closes the connection once one of its deadlines has passed (called every second). */
  checkTime(): void {
    if (this.#closed) return;
    const now = Date.now();
    const phase = this.#phase;
    if (now - this.#lastActivity > this.opts.idleTimeoutMs) return this.close();
    if (phase.kind === "head" && phase.started !== null) {
      if (now - phase.started > this.opts.headerTimeoutMs) {
        return this.#refuse(408, "Request Timeout");
      }
    }
    if (phase.kind === "body" && now > phase.deadline) this.close();
  }

  async #fromServer(): Promise<void> {
    const buf = new Uint8Array(64 * 1024);
    let answer = "";
    for (;;) {
      const n = await this.#upstream!.read(buf);
      if (n === null) return;
      this.#lastActivity = Date.now();
      const phase = this.#phase;
      if (phase.kind === "upgrading") {
        // The start of the server's answer to the upgrade decides what the client sends next.
        answer += decoder.decode(buf.subarray(0, Math.min(n, SWITCHING.length)));
        if (answer.length >= SWITCHING.length || !SWITCHING.startsWith(answer)) {
          this.#phase = answer.startsWith(SWITCHING)
            ? { kind: "websocket" }
            : { kind: "head", started: null };
          answer = "";
          await writeAll(this.client, buf.subarray(0, n));
          // What the client sent meanwhile is read in the phase it turned out to be in.
          if (!await this.#toServer(concat(phase.held, phase.heldBytes))) return;
          continue;
        }
      }
      await writeAll(this.client, buf.subarray(0, n));
    }
  }

  async #fromClient(): Promise<void> {
    const buf = new Uint8Array(64 * 1024);
    for (;;) {
      const n = await this.client.read(buf);
      if (n === null) return;
      this.#lastActivity = Date.now();
      if (!await this.#toServer(buf.subarray(0, n))) return;
    }
  }

  /** Passes on what of these client bytes may go to the server; false once it is closed. */
  async #toServer(bytes: Uint8Array): Promise<boolean> {
    const forward = this.#inspect(bytes);
    if (forward === null) return false;
    const total = forward.reduce((s, c) => s + c.length, 0);
    if (total > 0) await writeAll(this.#upstream!, concat(forward, total));
    return true;
  }

  /** What of these client bytes goes on to the server (null: the connection is closed). */
  #inspect(bytes: Uint8Array): Uint8Array[] | null {
    const out: Uint8Array[] = [];
    let at = 0;
    while (at < bytes.length) {
      const phase = this.#phase;
      if (phase.kind === "body") {
        const take = Math.min(phase.left, bytes.length - at);
        out.push(bytes.subarray(at, at + take));
        at += take;
        phase.left -= take;
        if (phase.left === 0) this.#phase = { kind: "head", started: null };
      } else if (phase.kind === "upgrading") {
        // Nothing is sent before the server's answer to an upgrade; a little is kept for then.
        const rest = bytes.subarray(at);
        phase.held.push(rest.slice());
        phase.heldBytes += rest.length;
        at = bytes.length;
        if (phase.heldBytes > this.opts.maxHeaderBytes) {
          this.close();
          return null;
        }
      } else if (phase.kind === "websocket") {
        if (!this.#frames(bytes.subarray(at))) {
          this.close();
          return null;
        }
        out.push(bytes.subarray(at));
        at = bytes.length;
      } else {
        if (phase.started === null) phase.started = Date.now();
        const chunk = bytes.subarray(at);
        const end = this.#headEnd(chunk);
        const take = end === -1 ? chunk.length : end;
        this.#head.push(chunk.slice(0, take)); // the read buffer is reused
        this.#headBytes += take;
        at += take;
        if (this.#headBytes > this.opts.maxHeaderBytes) {
          this.#refuse(431, "Request Header Fields Too Large");
          return null;
        }
        if (end === -1) continue;
        const head = concat(this.#head, this.#headBytes);
        this.#head = [];
        this.#headBytes = 0;
        const next = this.#afterHead(head);
        if (next === null) return null;
        out.push(head);
        this.#phase = next;
      }
    }
    return out;
  }

  /**
   * Where the head ends in `chunk` (just past its blank line), -1 if not yet. The blank line
   * may straddle reads: how much of it was matched carries over from one chunk to the next.
   */
  #headEnd(chunk: Uint8Array): number {
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      if (b === CRLFCRLF[this.#headEndMatched]) this.#headEndMatched++;
      else this.#headEndMatched = b === CRLFCRLF[0] ? 1 : 0;
      if (this.#headEndMatched === 4) {
        this.#headEndMatched = 0;
        return i + 1;
      }
    }
    return -1;
  }

  /** The phase after a complete head: its body, the next head, or WebSocket frames. */
  #afterHead(head: Uint8Array): Phase | null {
    const text = decoder.decode(head).toLowerCase();
    if (BARE_LINE_END.test(text.slice(0, -4))) {
      this.#refuse(400, "Bad Request");
      return null;
    }
    if (TRANSFER_ENCODING.test(text)) {
      // Request bodies here are small JSON with a length; a body of unknown length could not
      // be timed, so it is refused.
      this.#refuse(411, "Length Required");
      return null;
    }
    if (UPGRADE_WEBSOCKET.test(text)) return { kind: "upgrading", held: [], heldBytes: 0 };
    const length = Number(CONTENT_LENGTH.exec(text)?.[1].trim() ?? "0");
    if (!Number.isSafeInteger(length) || length < 0) {
      this.#refuse(400, "Bad Request");
      return null;
    }
    if (length === 0) return { kind: "head", started: null };
    return { kind: "body", left: length, deadline: Date.now() + this.opts.bodyTimeoutMs };
  }

  /**
   * Follows the client's WebSocket frames through `bytes`: each header is read as it comes
   * (2 to 14 bytes), its payload skipped. False when a frame or the message it continues
   * declares more than the limit.
   */
  #frames(bytes: Uint8Array): boolean {
    let at = 0;
    while (at < bytes.length) {
      if (this.#payloadLeft > 0) {
        const skip = Math.min(this.#payloadLeft, bytes.length - at);
        this.#payloadLeft -= skip;
        at += skip;
        continue;
      }
      this.#frameHeader[this.#frameHeaderLength++] = bytes[at++];
      const h = this.#frameHeader;
      if (this.#frameHeaderLength < 2) continue;
      const masked = (h[1] & 0x80) !== 0;
      const short = h[1] & 0x7f;
      const needed = 2 + (short === 126 ? 2 : short === 127 ? 8 : 0) + (masked ? 4 : 0);
      if (this.#frameHeaderLength < needed) continue;
      let length: number;
      if (short === 126) length = (h[2] << 8) | h[3];
      else if (short === 127) {
        const view = new DataView(h.buffer, 2, 8);
        if (view.getUint32(0) !== 0) return false;
        length = view.getUint32(4);
      } else length = short;
      const opcode = h[0] & 0x0f;
      const fin = (h[0] & 0x80) !== 0;
      if (opcode < 8) {
        // Data frames: a message may come in pieces; the pieces add up.
        this.#messageBytes = opcode === 0 ? this.#messageBytes + length : length;
        if (this.#messageBytes > this.opts.maxFrameBytes) return false;
        if (fin) this.#messageBytes = 0;
      } else if (length > 125) return false; // a control frame is at most 125 bytes
      this.#payloadLeft = length;
      this.#frameHeaderLength = 0;
    }
    return true;
  }

  /** Answers the client with a bare error status and closes. */
  #refuse(status: number, reason: string): void {
    const body = JSON.stringify({ error: { code: "connection_refused", message: reason } });
    const response = `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`;
    if (this.#closed) return;
    this.#closed = true;
    writeAll(this.client, new TextEncoder().encode(response)).catch(() => {})
      .finally(() => this.#closeBoth());
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
