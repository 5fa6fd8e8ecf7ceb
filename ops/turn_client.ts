// A minimal TURN client (RFC 5766 Allocate over UDP, TCP or TLS, long-term credentials) to
// check coturn with the credentials LiveKit hands browsers: username `<expiry>:<id>`, password
// base64(HMAC-SHA1(shared secret, username)), the TURN REST API scheme both implement. Used by
// the deployment doctor and the tests.
import { Buffer } from "node:buffer";
import { createHash, createHmac } from "node:crypto";
import dgram from "node:dgram";

const MAGIC = 0x2112a442;
const ALLOCATE = 0x0003, ALLOCATE_OK = 0x0103, ALLOCATE_ERR = 0x0113;
const PERMISSION = 0x0008, PERMISSION_OK = 0x0108;
const A = {
  USERNAME: 0x0006,
  MESSAGE_INTEGRITY: 0x0008,
  ERROR_CODE: 0x0009,
  REALM: 0x0014,
  NONCE: 0x0015,
  XOR_RELAYED_ADDRESS: 0x0016,
  XOR_PEER_ADDRESS: 0x0012,
  XOR_MAPPED_ADDRESS: 0x0020,
  DATA: 0x0013,
  REQUESTED_TRANSPORT: 0x0019,
  LIFETIME: 0x000d,
};

/** LiveKit's derivation of TURN credentials from the shared secret. */
export function restCredentials(secret: string, id = "probe", ttlSeconds = 600) {
  const username = `${Math.floor(Date.now() / 1000) + ttlSeconds}:${id}`;
  const password = createHmac("sha1", secret).update(username).digest("base64");
  return { username, password };
}

function attr(type: number, value: Buffer): Buffer {
  const pad = (4 - (value.length % 4)) % 4;
  const head = Buffer.alloc(4);
  head.writeUInt16BE(type, 0);
  head.writeUInt16BE(value.length, 2);
  return Buffer.concat([head, value, Buffer.alloc(pad)]);
}

function message(type: number, attrs: Buffer[], key?: Buffer): Buffer {
  const id = Buffer.from(crypto.getRandomValues(new Uint8Array(12)));
  const body = Buffer.concat(attrs);
  const header = (len: number) => {
    const h = Buffer.alloc(20);
    h.writeUInt16BE(type, 0);
    h.writeUInt16BE(len, 2);
    h.writeUInt32BE(MAGIC, 4);
    id.copy(h, 8);
    return h;
  };
  if (!key) return Buffer.concat([header(body.length), body]);
  // MESSAGE-INTEGRITY covers the header with the length including its own 24 bytes.
  const signed = Buffer.concat([header(body.length + 24), body]);
  const mac = createHmac("sha1", key).update(signed).digest();
  return Buffer.concat([signed, attr(A.MESSAGE_INTEGRITY, mac)]);
}

function parseAttrs(msg: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let i = 20;
  while (i + 4 <= msg.length) {
    const type = msg.readUInt16BE(i), len = msg.readUInt16BE(i + 2);
    out.set(type, msg.subarray(i + 4, i + 4 + len));
    i += 4 + len + ((4 - (len % 4)) % 4);
  }
  return out;
}

/** Messages from the server as they arrive; a reader takes the first one it wants. */
class Mailbox {
  #messages: Buffer[] = [];
  #waiters: (() => void)[] = [];
  #failure: Error | null = null;

  deliver(msg: Buffer) {
    this.#messages.push(msg);
    this.#wake();
  }

  fail(err: Error) {
    this.#failure ??= err;
    this.#wake();
  }

  #wake() {
    for (const w of this.#waiters.splice(0)) w();
  }

  /** The first message `want` accepts (others stay), or a rejection. */
  async take(want: (m: Buffer) => boolean, until: AbortSignal): Promise<Buffer> {
    for (;;) {
      const at = this.#messages.findIndex(want);
      if (at >= 0) return this.#messages.splice(at, 1)[0];
      if (this.#failure) throw this.#failure;
      if (until.aborted) throw until.reason;
      await new Promise<void>((wake) => {
        this.#waiters.push(wake);
        until.addEventListener("abort", () => wake(), { once: true });
      });
    }
  }
}

/** A connection to the TURN server: requests and their answers, and indications. */
interface Channel {
  /** Sends a request; resolves with the answer bearing its transaction id. */
  request(msg: Buffer): Promise<Buffer>;
  /** The next indication of `type` (Data indications, say). */
  indication(type: number, until: AbortSignal): Promise<Buffer>;
  close(): void;
}

const sameTransaction = (msg: Buffer) => (m: Buffer) =>
  m.length >= 20 && m.subarray(8, 20).equals(msg.subarray(8, 20));

function streamChannel(conn: Deno.Conn): Channel {
  const box = new Mailbox();
  const never = new AbortController().signal;
  (async () => {
    let buf = Buffer.alloc(0);
    const chunk = new Uint8Array(4096);
    try {
      for (;;) {
        const n = await conn.read(chunk);
        if (n === null) throw new Error("the TURN server closed the connection");
        buf = Buffer.concat([buf, Buffer.from(chunk.subarray(0, n))]);
        while (buf.length >= 20 && buf.length >= 20 + buf.readUInt16BE(2)) {
          const size = 20 + buf.readUInt16BE(2);
          box.deliver(buf.subarray(0, size));
          buf = buf.subarray(size);
        }
      }
    } catch (err) {
      box.fail(err instanceof Error ? err : new Error(String(err)));
    }
  })();
  return {
    async request(msg) {
      await conn.write(msg);
      return await box.take(sameTransaction(msg), never);
    },
    indication: (type, until) => box.take((m) => m.readUInt16BE(0) === type, until),
    close: () => conn.close(),
  };
}

function udpChannel(socket: dgram.Socket, hostname: string, port: number): Channel {
  const box = new Mailbox();
  let closed = false;
  socket.on("message", (data: Buffer) => {
    if (data.length >= 20) box.deliver(data);
  });
  return {
    async request(msg) {
      // UDP may lose a datagram: send again every 500 ms, as a browser's ICE agent does, six
      // times at most.
      const gaveUp = new AbortController();
      let tries = 0;
      const send = () => {
        if (closed) return gaveUp.abort(new Error("closed"));
        if (++tries > 6) {
          return gaveUp.abort(new Error(`no answer over UDP from ${hostname}:${port}`));
        }
        socket.send(msg, port, hostname);
      };
      const timer = setInterval(send, 500);
      send();
      try {
        return await box.take(sameTransaction(msg), gaveUp.signal);
      } finally {
        clearInterval(timer);
      }
    },
    indication: (type, until) => box.take((m) => m.readUInt16BE(0) === type, until),
    close: () => {
      closed = true;
      box.fail(new Error("closed"));
      socket.close();
    },
  };
}

export interface AllocatedRelay {
  result: "allocated";
  relayedAddress: string;
  relayedPort: number;
  /** Whether the relay may send to `peer` (when asked): what LiveKit's address needs. */
  permission?: "granted" | { code: number; reason: string };
  /**
   * With `probeRelay`: whether a datagram sent to the relayed port from this machine came back
   * through the relay ("not-checked" when the relay may not send here: a private address).
   */
  relayPorts?: { result: "open" | "closed" | "not-checked"; seenFrom: string };
}

export type AllocateResult =
  | AllocatedRelay
  | { result: "error"; code: number; reason: string };

/** XOR-PEER-ADDRESS of an IPv4 address (port 0: a permission is for an address). */
function xorPeer(ip: string): Buffer {
  const v = Buffer.alloc(8);
  v.writeUInt8(1, 1);
  v.writeUInt16BE(0 ^ (MAGIC >>> 16), 2);
  const n = ip.split(".").reduce((a, b) => (a << 8) + Number(b), 0) >>> 0;
  v.writeUInt32BE((n ^ MAGIC) >>> 0, 4);
  return v;
}

function errorOf(attrs: Map<number, Buffer>) {
  const e = attrs.get(A.ERROR_CODE);
  if (!e) return { code: 0, reason: "no error code" };
  return { code: (e[2] & 7) * 100 + e[3], reason: e.subarray(4).toString() };
}

export interface AllocateOptions {
  /** Where to connect (an IP address or a name). */
  hostname?: string;
  port: number;
  secret: string;
  /** How to reach the server; TCP by default. */
  transport?: "udp" | "tcp" | "tls";
  /** TLS: the name to ask for and check the certificate against (default: hostname). */
  serverName?: string;
  /** TLS: certificates to trust besides the system's (a private CA). */
  caCerts?: string[];
  /** TLS: application protocols to offer (none by default, as browsers do for TURN). */
  alpn?: string[];
  /** Gives up after this long (default 5 s). */
  timeoutMs?: number;
  /** Also ask for a permission to send to this IPv4 address (CreatePermission). */
  peer?: string;
  /** What the relay should speak to peers: UDP (what browsers ask for) or TCP (RFC 6062). */
  relay?: "udp" | "tcp";
  /** Also check that the relay's UDP ports can be reached from here (a datagram round trip). */
  probeRelay?: boolean;
}

/** Asks the TURN server for a UDP relay with REST credentials derived from `secret`. */
export async function turnAllocate(options: AllocateOptions): Promise<AllocateResult> {
  const hostname = options.hostname ?? "127.0.0.1";
  const transport = options.transport ?? "tcp";
  const timeout = options.timeoutMs ?? 5000;
  let channel: Channel | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    channel = await (async (): Promise<Channel> => {
      if (transport === "udp") {
        const socket = dgram.createSocket(hostname.includes(":") ? "udp6" : "udp4");
        // An unreachable port may be reported after the exchange gave up: nothing to do then.
        socket.on("error", () => {});
        await new Promise<void>((r) => socket.bind(0, r));
        return udpChannel(socket, hostname, options.port);
      }
      const tcp = await Deno.connect({ hostname, port: options.port });
      if (transport === "tcp") return streamChannel(tcp);
      const tls = await Deno.startTls(tcp, {
        hostname: options.serverName ?? hostname,
        caCerts: options.caCerts,
        alpnProtocols: options.alpn,
      });
      try {
        await tls.handshake();
      } catch (err) {
        tls.close();
        throw err;
      }
      return streamChannel(tls);
    })();
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${timeout / 1000} s`)),
        timeout,
      );
    });
    return await Promise.race([allocate(channel, options), expired]);
  } finally {
    clearTimeout(timer);
    try {
      channel?.close();
    } catch {
      // Already closed.
    }
  }
}

const DATA_INDICATION = 0x0017;

function xorAddress(x: Buffer): { ip: string; port: number } {
  const port = x.readUInt16BE(2) ^ (MAGIC >>> 16);
  const ip = (x.readUInt32BE(4) ^ MAGIC) >>> 0;
  return { ip: [24, 16, 8, 0].map((s) => (ip >>> s) & 255).join("."), port };
}

async function allocate(channel: Channel, options: AllocateOptions): Promise<AllocateResult> {
  const protocol = options.relay === "tcp" ? 6 : 17;
  const transport = attr(A.REQUESTED_TRANSPORT, Buffer.from([protocol, 0, 0, 0]));
  const challenge = parseAttrs(await channel.request(message(ALLOCATE, [transport])));
  const realm = challenge.get(A.REALM), nonce = challenge.get(A.NONCE);
  if (!realm || !nonce) return { result: "error", code: 0, reason: "no challenge" };
  const { username, password } = restCredentials(options.secret);
  const key = createHash("md5").update(`${username}:${realm}:${password}`).digest();
  const signed = (type: number, attrs: Buffer[]) =>
    message(type, [
      ...attrs,
      attr(A.USERNAME, Buffer.from(username)),
      attr(A.REALM, realm),
      attr(A.NONCE, nonce),
    ], key);
  const reply = await channel.request(
    signed(ALLOCATE, [transport, attr(A.LIFETIME, Buffer.from([0, 0, 0, 60]))]),
  );
  const type = reply.readUInt16BE(0);
  const attrs = parseAttrs(reply);
  if (type === ALLOCATE_ERR) return { result: "error", ...errorOf(attrs) };
  if (type !== ALLOCATE_OK) {
    return { result: "error", code: 0, reason: `unexpected message type ${type}` };
  }
  const relayed = xorAddress(attrs.get(A.XOR_RELAYED_ADDRESS)!);
  const permit = async (ip: string) => {
    const answer = await channel.request(
      signed(PERMISSION, [attr(A.XOR_PEER_ADDRESS, xorPeer(ip))]),
    );
    return answer.readUInt16BE(0) === PERMISSION_OK
      ? "granted" as const
      : errorOf(parseAttrs(answer));
  };
  const permission = options.peer ? await permit(options.peer) : undefined;
  let relayPorts: AllocatedRelay["relayPorts"];
  if (options.probeRelay) {
    // Where this client is seen from: a datagram from there to the relayed port must come
    // back as a Data indication, or the relay's ports are closed on the way.
    const mapped = attrs.get(A.XOR_MAPPED_ADDRESS);
    const from = mapped ? xorAddress(mapped).ip : null;
    const allowed = from ? await permit(from) : null;
    if (!from || allowed !== "granted") {
      relayPorts = { result: "not-checked", seenFrom: from ?? "?" };
    } else {
      relayPorts = await probeRelay(channel, relayed, from, options.timeoutMs ?? 5000);
    }
  }
  return {
    result: "allocated",
    relayedAddress: relayed.ip,
    relayedPort: relayed.port,
    ...(permission ? { permission } : {}),
    ...(relayPorts ? { relayPorts } : {}),
  };
}

/** Sends a datagram to the relayed address from another socket; it must arrive through the relay. */
async function probeRelay(
  channel: Channel,
  relayed: { ip: string; port: number },
  from: string,
  timeoutMs: number,
): Promise<NonNullable<AllocatedRelay["relayPorts"]>> {
  const probe = Buffer.from(`urbania-relay-probe-${crypto.randomUUID()}`);
  const socket = dgram.createSocket("udp4");
  socket.on("error", () => {});
  const done = new AbortController();
  const timer = setTimeout(() => done.abort(new Error("timeout")), Math.min(timeoutMs, 3000));
  try {
    await new Promise<void>((r) => socket.bind(0, r));
    const send = () => socket.send(probe, relayed.port, relayed.ip);
    send();
    const again = setInterval(send, 500);
    try {
      for (;;) {
        const data = parseAttrs(await channel.indication(DATA_INDICATION, done.signal))
          .get(A.DATA);
        if (data?.equals(probe)) return { result: "open", seenFrom: from };
      }
    } finally {
      clearInterval(again);
    }
  } catch {
    return { result: "closed", seenFrom: from };
  } finally {
    clearTimeout(timer);
    socket.close();
  }
}
