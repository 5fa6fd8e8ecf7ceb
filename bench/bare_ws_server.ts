// The baseline for bench:ws's memory figure: Deno's own WebSocket server with nothing of the
// app (no framework, no session, no database), sending each socket the same first message.
const sockets = new Set<WebSocket>();
Deno.serve(
  { hostname: "127.0.0.1", port: Number(Deno.env.get("PORT")), onListen: () => {} },
  (req) => {
    if (req.headers.get("upgrade") !== "websocket") return new Response("ok");
    const { socket, response } = Deno.upgradeWebSocket(req, { idleTimeout: 30 });
    socket.onopen = () => {
      sockets.add(socket);
      socket.send('{"type":"sync","invites":[]}');
    };
    socket.onclose = () => sockets.delete(socket);
    return response;
  },
);
