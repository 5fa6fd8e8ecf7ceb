// GET /ws: the real-time channel of a signed-in user. Authenticated before the upgrade, by the
// session cookie (then only from our own pages: the Origin must be ours) or a Bearer header.
import { type Context, Hono } from "hono";
import { getCookie } from "hono/cookie";
import { knockCookieName, parseTicket, waitingKnockForTicket } from "../lib/meetings/lobby.ts";
import { roomIdOr404 } from "./schemas.ts";
import { upgradeWebSocket } from "hono/deno";
import { AppError, unauthorized } from "../lib/platform/errors.ts";
import type { AppEnv, Deps } from "./context.ts";
import { credentials, foreignOrigin } from "./middleware.ts";

/** 426 unless the request asks for a WebSocket. */
function requireUpgrade(c: Context) {
  if ((c.req.header("Upgrade") ?? "").toLowerCase() !== "websocket") {
    throw new AppError(426, "upgrade_required", "error.upgrade_required", {
      headers: { Upgrade: "websocket" },
    });
  }
}

const instanceFull = () =>
  new AppError(503, "busy", "error.busy.sockets", {
    headers: { "Retry-After": "10" },
  });

export function wsRoutes(deps: Deps) {
  const { config, sessions, realtime } = deps;
  const app = new Hono<AppEnv>();

  app.get("/ws", async (c) => {
    requireUpgrade(c);
    const cred = credentials(c);
    const claims = cred ? sessions.verify(cred.token) : null;
    if (!cred || !claims) throw unauthorized();
    // A cookie rides along with any page's request: only our own pages may use it here.
    if (cred.via === "cookie" && c.req.header("Origin") !== config.publicUrl) throw foreignOrigin();
    const user = await sessions.load(claims);
    if (!user) throw unauthorized();
    const place = realtime.admit(user.id);
    if (place === "instance") throw instanceFull();
    if (place === "user") {
      throw new AppError(
        429,
        "too_many_sockets",
        ["error.too_many_sockets.account", { n: realtime.options.maxSocketsPerUser }],
        { headers: { "Retry-After": "30" } },
      );
    }
    try {
      return await upgradeWebSocket(c, {
        onOpen: (_event, ws) => {
          place();
          realtime.open(ws.raw!, user.id, claims);
        },
        onMessage: (event, ws) => realtime.message(ws.raw!, event.data),
        onClose: (_event, ws) => {
          place();
          realtime.closed(ws.raw!);
        },
      }, { idleTimeout: realtime.options.idleTimeoutSeconds });
    } catch (err) {
      place();
      throw err;
    }
  });

  // The lobby's channel: a browser waiting to be let in hears the answer here. Authenticated
  // by its ticket (a cookie: our own pages only), a few tabs per ticket.
  app.get("/ws/lobby", async (c) => {
    requireUpgrade(c);
    const roomId = roomIdOr404(c.req.query("room"));
    const knock = await waitingKnockForTicket(
      deps.sql,
      roomId,
      parseTicket(getCookie(c, knockCookieName(roomId))),
    );
    if (c.req.header("Origin") !== config.publicUrl) throw foreignOrigin();
    const place = realtime.admitWaiting(knock.id);
    if (place === "instance") throw instanceFull();
    if (place === "knock") {
      throw new AppError(429, "too_many_sockets", "error.too_many_sockets");
    }
    try {
      return await upgradeWebSocket(c, {
        onOpen: (_event, ws) => {
          place();
          realtime.openWaiting(ws.raw!, knock.id, roomId);
        },
        onMessage: (event, ws) => realtime.messageWaiting(ws.raw!, event.data),
        onClose: (_event, ws) => {
          place();
          realtime.closedWaiting(ws.raw!);
        },
      }, { idleTimeout: realtime.options.idleTimeoutSeconds });
    } catch (err) {
      place();
      throw err;
    }
  });

  return app;
}
