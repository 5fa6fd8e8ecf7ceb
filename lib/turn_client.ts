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

/** Sends one request and reads its answer (a STUN message: 20-byte header + body). */
type Exchange = (msg: Buffer) => Promise<Buffer>;

function streamExchange(conn: Deno.Conn): Exchange {
  let buf = Buffer.alloc(0);
  const chunk = new Uint8Array(4096);
  return async (msg) => {
    await conn.write(msg);
    while (buf.length < 20 || buf.length < 20 + buf.readUInt16BE(2)) {
      const n = await conn.read(chunk);
      if (n === null) throw new Error("the TURN server closed the connection");
      buf = Buffer.concat([buf, Buffer.from(chunk.subarray(0, n))]);
    }
    const size = 20 + buf.readUInt16BE(2);
    const reply = buf.subarray(0, size);
    buf = buf.subarray(size);
    return reply;
  };
}

function udpExchange(
  socket: dgram.Socket,
  hostname: string,
  port: number,
  closed: () => boolean,
): Exchange {
  return (msg) =>
    new Promise((resolve, reject) => {
      // UDP may lose a datagram: send again every 500 ms, as a browser's ICE agent does.
      let tries = 0;
      const send = () => {
        if (closed()) {
          cleanup();
          reject(new Error("closed"));
          return;
        }
        if (++tries > 6) {
          cleanup();
          reject(new Error(`no answer over UDP from ${hostname}:${port}`));
          return;
        }
        socket.send(msg, port, hostname);
      };
      const timer = setInterval(send, 500);
      const onMessage = (data: Buffer) => {
        if (data.length >= 20 && data.subarray(8, 20).equals(msg.subarray(8, 20))) {
          cleanup();
          resolve(data);
        }
      };
      const onError = (err: Error) => {
        cleanup();
        reject(err);
      };
      const cleanup = () => {
        clearInterval(timer);
        socket.off("message", onMessage);
        socket.off("error", onError);
      };
      socket.on("message", onMessage);
      socket.on("error", onError);
      send();
    });
}

export type AllocateResult =
  | {
    result: "allocated";
    relayedAddress: string;
    relayedPort: number;
    /** Whether the relay may send to `peer` (when asked): what LiveKit's address needs. */
    permission?: "granted" | { code: number; reason: string };
  }
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
}

/** Asks the TURN server for a UDP relay with REST credentials derived from `secret`. */
export async function turnAllocate(options: AllocateOptions): Promise<AllocateResult> {
  const hostname = options.hostname ?? "127.0.0.1";
  const transport = options.transport ?? "tcp";
  const timeout = options.timeoutMs ?? 5000;
  let close = () => {};
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const exchange = await (async (): Promise<Exchange> => {
      if (transport === "udp") {
        const socket = dgram.createSocket(hostname.includes(":") ? "udp6" : "udp4");
        // An unreachable port may be reported after the exchange gave up: nothing to do then.
        socket.on("error", () => {});
        let closed = false;
        close = () => {
          closed = true;
          socket.close();
        };
        await new Promise<void>((r) => socket.bind(0, r));
        return udpExchange(socket, hostname, options.port, () => closed);
      }
      const tcp = await Deno.connect({ hostname, port: options.port });
      close = () => tcp.close();
      if (transport === "tcp") return streamExchange(tcp);
      const tls = await Deno.startTls(tcp, {
        hostname: options.serverName ?? hostname,
        caCerts: options.caCerts,
        alpnProtocols: options.alpn,
      });
      close = () => tls.close();
      await tls.handshake();
      return streamExchange(tls);
    })();
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${timeout / 1000} s`)),
        timeout,
      );
    });
    return await Promise.race([
      allocate(exchange, options.secret, options.peer, options.relay),
      expired,
    ]);
  } finally {
    clearTimeout(timer);
    try {
      close();
    } catch {
      // Already closed.
    }
  }
}

async function allocate(
  exchange: Exchange,
  secret: string,
  peer?: string,
  relay: "udp" | "tcp" = "udp",
): Promise<AllocateResult> {
  const protocol = relay === "tcp" ? 6 : 17;
  const transport = attr(A.REQUESTED_TRANSPORT, Buffer.from([protocol, 0, 0, 0]));
  const challenge = parseAttrs(await exchange(message(ALLOCATE, [transport])));
  const realm = challenge.get(A.REALM), nonce = challenge.get(A.NONCE);
  if (!realm || !nonce) return { result: "error", code: 0, reason: "no challenge" };
  const { username, password } = restCredentials(secret);
  const key = createHash("md5").update(`${username}:${realm}:${password}`).digest();
  const reply = await exchange(
    message(ALLOCATE, [
      transport,
      attr(A.LIFETIME, Buffer.from([0, 0, 0, 60])),
      attr(A.USERNAME, Buffer.from(username)),
      attr(A.REALM, realm),
      attr(A.NONCE, nonce),
    ], key),
  );
  const type = reply.readUInt16BE(0);
  const attrs = parseAttrs(reply);
  if (type === ALLOCATE_OK) {
    const x = attrs.get(A.XOR_RELAYED_ADDRESS)!;
    const port = x.readUInt16BE(2) ^ (MAGIC >>> 16);
    const ip = (x.readUInt32BE(4) ^ MAGIC) >>> 0;
    let permission: "granted" | { code: number; reason: string } | undefined;
    if (peer) {
      const answer = await exchange(
        message(PERMISSION, [
          attr(A.XOR_PEER_ADDRESS, xorPeer(peer)),
          attr(A.USERNAME, Buffer.from(username)),
          attr(A.REALM, realm),
          attr(A.NONCE, nonce),
        ], key),
      );
      permission = answer.readUInt16BE(0) === PERMISSION_OK
        ? "granted"
        : errorOf(parseAttrs(answer));
    }
    return {
      result: "allocated",
      relayedAddress: [24, 16, 8, 0].map((s) => (ip >>> s) & 255).join("."),
      relayedPort: port,
      ...(permission ? { permission } : {}),
    };
  }
  if (type === ALLOCATE_ERR) {
    return { result: "error", ...errorOf(attrs) };
  }
  return { result: "error", code: 0, reason: `unexpected message type ${type}` };
}
