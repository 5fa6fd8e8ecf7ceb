/**
 * A TCP forwarder on 127.0.0.1 that tests can stop and restart on the same port, to take a
 * real service away from the app and bring it back.
 */
export class TcpProxy {
  #listener: Deno.Listener | null = null;
  #conns = new Set<Deno.Conn>();
  port = 0;

  constructor(private target: { hostname: string; port: number }) {}

  start(): void {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: this.port });
    this.port = (this.#listener.addr as Deno.NetAddr).port;
    this.#accept(this.#listener);
  }

  async #accept(listener: Deno.Listener) {
    try {
      for await (const client of listener) {
        this.#pipe(client).catch(() => {});
      }
    } catch {
      // listener closed
    }
  }

  async #pipe(client: Deno.Conn) {
    this.#conns.add(client);
    let upstream: Deno.Conn | undefined;
    try {
      upstream = await Deno.connect(this.target);
      this.#conns.add(upstream);
      await Promise.race([
        client.readable.pipeTo(upstream.writable),
        upstream.readable.pipeTo(client.writable),
      ]);
    } finally {
      for (const c of [client, upstream]) {
        if (!c) continue;
        this.#conns.delete(c);
        try {
          c.close();
        } catch { /* already closed */ }
      }
    }
  }

  /** Closes the listener and cuts every connection through it. */
  stop(): void {
    this.#listener?.close();
    this.#listener = null;
    for (const c of this.#conns) {
      try {
        c.close();
      } catch { /* already closed */ }
    }
    this.#conns.clear();
  }
}
