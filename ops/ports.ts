// Ports on this machine for servers started side by side (tests, `deno task media`).

/** A TCP port free on 127.0.0.1 at this moment. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** A UDP range of `size` ports, at random in 20000–29999, started at a multiple of `size`. */
export function udpRange(size = 100): [number, number] {
  const slot = Math.floor(Math.random() * (10_000 / size));
  return [20_000 + slot * size, 20_000 + slot * size + size - 1];
}
