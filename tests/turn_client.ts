// A minimal TURN client (RFC 5766 Allocate over TCP, long-term credentials) to check coturn
// with the credentials LiveKit hands browsers: username `<expiry>:<id>`, password
// base64(HMAC-SHA1(shared secret, username)), the TURN REST API scheme both implement.
import { Buffer } from "node:buffer";
import { createHash, createHmac } from "node:crypto";

const MAGIC = 0x2112a442;
const ALLOCATE = 0x0003, ALLOCATE_OK = 0x0103, ALLOCATE_ERR = 0x0113;
const A = {
  USERNAME: 0x0006,
  MESSAGE_INTEGRITY: 0x0008,
  ERROR_CODE: 0x0009,
  REALM: 0x0014,
  NONCE: 0x0015,
  XOR_RELAYED_ADDRESS: 0x0016,
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

async function exchange(conn: Deno.TcpConn, msg: Buffer): Promise<Buffer> {
  await conn.write(msg);
  let buf = Buffer.alloc(0);
  const chunk = new Uint8Array(4096);
  while (buf.length < 20 || buf.length < 20 + buf.readUInt16BE(2)) {
    const n = await conn.read(chunk);
    if (n === null) throw new Error("TURN server closed the connection");
    buf = Buffer.concat([buf, Buffer.from(chunk.subarray(0, n))]);
  }
  return buf.subarray(0, 20 + buf.readUInt16BE(2));
}

export type AllocateResult =
  | { result: "allocated"; relayedAddress: string; relayedPort: number }
  | { result: "error"; code: number; reason: string };

/** Asks coturn for a UDP relay over TCP with REST credentials derived from `secret`. */
export async function turnAllocate(
  options: { hostname?: string; port: number; secret: string },
): Promise<AllocateResult> {
  const conn = await Deno.connect({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port,
  });
  try {
    const transport = attr(A.REQUESTED_TRANSPORT, Buffer.from([17, 0, 0, 0]));
    const challenge = parseAttrs(await exchange(conn, message(ALLOCATE, [transport])));
    const realm = challenge.get(A.REALM), nonce = challenge.get(A.NONCE);
    if (!realm || !nonce) return { result: "error", code: 0, reason: "no challenge" };
    const { username, password } = restCredentials(options.secret);
    const key = createHash("md5").update(`${username}:${realm}:${password}`).digest();
    const reply = await exchange(
      conn,
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
      return {
        result: "allocated",
        relayedAddress: [24, 16, 8, 0].map((s) => (ip >>> s) & 255).join("."),
        relayedPort: port,
      };
    }
    if (type === ALLOCATE_ERR) {
      const e = attrs.get(A.ERROR_CODE)!;
      return {
        result: "error",
        code: (e[2] & 7) * 100 + e[3],
        reason: e.subarray(4).toString(),
      };
    }
    return { result: "error", code: 0, reason: `unexpected message type ${type}` };
  } finally {
    conn.close();
  }
}
