// The test network's DNS server (tests/netns.ts runs it on the router): answers A queries for
// the names it is given and nothing else (NXDOMAIN), over UDP on port 53. Browsers inside the
// client hosts resolve the entrance's names through it as through any resolver (Chromium looks
// up STUN and TURN servers with DNS, not the hosts file).
//   deno run --allow-net tests/dns_server.ts app.urbania.test=203.0.113.10 ...
import dgram from "node:dgram";
import { Buffer } from "node:buffer";

const records = new Map<string, number[]>();
for (const arg of Deno.args) {
  const [name, ip] = arg.split("=");
  records.set(name.toLowerCase(), ip.split(".").map(Number));
}

/** The answer to one query, or null for what is not a single standard query. */
export function answer(query: Uint8Array, table: Map<string, number[]>): Uint8Array | null {
  if (query.length < 12) return null;
  const view = new DataView(query.buffer, query.byteOffset, query.byteLength);
  const flags = view.getUint16(2);
  if (flags & 0x8000 || view.getUint16(4) !== 1) return null; // a response, or not one question
  // The question: labels, then type and class.
  const labels: string[] = [];
  let at = 12;
  while (at < query.length && query[at] !== 0) {
    const len = query[at];
    if (len > 63 || at + 1 + len > query.length) return null;
    labels.push(new TextDecoder().decode(query.subarray(at + 1, at + 1 + len)));
    at += 1 + len;
  }
  if (at + 5 > query.length) return null;
  const type = view.getUint16(at + 1);
  const end = at + 5;
  const address = table.get(labels.join(".").toLowerCase());
  const found = address && type === 1;
  const head = new Uint8Array(12);
  const h = new DataView(head.buffer);
  h.setUint16(0, view.getUint16(0)); // the query's id
  // A response, authoritative, recursion desired copied, recursion available; NXDOMAIN for
  // names it does not hold (a known name asked for another type: no answer, no error).
  h.setUint16(2, 0x8400 | (flags & 0x0100) | 0x0080 | (address ? 0 : 3));
  h.setUint16(4, 1);
  h.setUint16(6, found ? 1 : 0);
  const question = query.subarray(12, end);
  const record = found
    ? new Uint8Array([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, ...address])
    : new Uint8Array();
  return new Uint8Array([...head, ...question, ...record]);
}

if (import.meta.main) {
  const socket = dgram.createSocket("udp4");
  socket.on("message", (msg, rinfo) => {
    const reply = answer(new Uint8Array(msg), records);
    if (reply) socket.send(Buffer.from(reply), rinfo.port, rinfo.address);
  });
  socket.bind(53, "0.0.0.0", () => console.log("dns: listening on port 53"));
}
