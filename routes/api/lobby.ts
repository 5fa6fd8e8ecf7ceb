import { Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { z } from "zod";
import { AppError } from "../../lib/platform/errors.ts";
import { enforceLimits } from "../../lib/platform/rate_limit.ts";
import { formatGuestPass, GUEST_PASS_SECONDS, guestCookieName } from "../../lib/meetings/guests.ts";
import {
  admitAll,
  ADMITTED_TICKET_SECONDS,
  answerKnock,
  cancelKnock,
  enterWithTicket,
  formatTicket,
  knock,
  knockCookieName,
  knockForTicket,
  knockState,
  lobbies,
  parseTicket,
  requireModerator,
} from "../../lib/meetings/lobby.ts";
import { joinRoom } from "../../lib/meetings/rooms.ts";
import type { AppEnv, Deps } from "../context.ts";
import { clientAddress, jsonBody, optionalUser, passCookie, requireUser } from "../middleware.ts";
import { roomIdOr404, text, uuidOr404 } from "../schemas.ts";
import { tokenMinter } from "./tokens.ts";

const knockSchema = z.object({ display_name: text(1, 64).optional() });

/**
 * /api/livekit/rooms/:id/knock…: the lobby. Someone not on the list asks to come in, signed in
 * or as a guest by name; the browser keeps a ticket (HttpOnly cookie) that its lobby socket and
 * its way in rely on. Hosts and co-hosts answer.
 */
export function lobbyRoutes(deps: Deps) {
  const { config, sql, sessions } = deps;
  const app = new Hono<AppEnv>();
  const auth = requireUser(config, sessions);
  const maybeUser = optionalUser(config, sessions);
  const mint = tokenMinter(deps);
  const ticketOf = (c: Parameters<typeof getCookie>[0], id: string) =>
    parseTicket(getCookie(c, knockCookieName(id)));

  app.post("/rooms/:id/knock", maybeUser, jsonBody(knockSchema), async (c) => {
    const id = roomIdOr404(c.req.param("id"));
    await enforceLimits(sql, [{
      key: `knock:addr:${clientAddress(c, config)}`,
      ...deps.limits.knocksPerAddress,
    }], "limit.knocks");
    const user = c.get("user") as AppEnv["Variables"]["user"] | undefined;
    const name = c.req.valid("json").display_name;
    if (!user && !name) {
      throw new AppError(400, "invalid_request", "error.invalid_request.knockName", {
        fields: [{ field: "display_name", text: "issue.knockName" }],
      });
    }
    const { knock: made, ticket } = await knock(
      sql,
      id,
      user ? { userId: user.id, displayName: user.display_name } : { guestName: name! },
      ticketOf(c, id),
      config.knockSeconds,
    );
    setCookie(
      c,
      knockCookieName(id),
      formatTicket(ticket),
      passCookie(config, config.knockSeconds + ADMITTED_TICKET_SECONDS),
    );
    return c.json(await knockState(sql, made.id), 201);
  });

  app.get("/rooms/:id/knock", async (c) => {
    const id = roomIdOr404(c.req.param("id"));
    const k = await knockForTicket(sql, id, ticketOf(c, id));
    return c.json(await knockState(sql, k.id));
  });

  app.delete("/rooms/:id/knock", async (c) => {
    const id = roomIdOr404(c.req.param("id"));
    await cancelKnock(sql, id, ticketOf(c, id));
    deleteCookie(c, knockCookieName(id), { path: "/", secure: config.secureCookies });
    return c.body(null, 204);
  });

  // Admitted: the waiting browser trades its ticket for a token, without leaving the page.
  app.post("/rooms/:id/knock/enter", maybeUser, async (c) => {
    const id = roomIdOr404(c.req.param("id"));
    const ticket = ticketOf(c, id);
    const user = c.get("user") as AppEnv["Variables"]["user"] | undefined;
    const entry = await enterWithTicket(sql, id, ticket, user?.id ?? null);
    deleteCookie(c, knockCookieName(id), { path: "/", secure: config.secureCookies });
    if (entry.kind === "guest") {
      setCookie(
        c,
        guestCookieName(id),
        formatGuestPass({ identity: entry.identity, secret: ticket!.secret }),
        passCookie(config, GUEST_PASS_SECONDS),
      );
      return c.json(await mint.guest(id, entry));
    }
    await joinRoom(sql, id, user!.id);
    return c.json(await mint.member(c, id));
  });

  app.get("/rooms/:id/lobby", auth, async (c) => {
    const id = roomIdOr404(c.req.param("id"));
    await requireModerator(sql, id, c.get("user").id, "act.lobby", { ended: true });
    const [lobby] = await lobbies(sql, [id]);
    return c.json(lobby?.waiting ?? []);
  });

  app.post("/rooms/:id/knocks/admit-all", auth, async (c) => {
    const id = roomIdOr404(c.req.param("id"));
    return c.json({ admitted: await admitAll(sql, id, c.get("user").id) });
  });

  for (const decision of ["admit", "deny"] as const) {
    app.post(`/rooms/:id/knocks/:knock/${decision}`, auth, async (c) => {
      const id = roomIdOr404(c.req.param("id"));
      const knockId = uuidOr404(c.req.param("knock"), "error.nf.knock");
      const status = await answerKnock(sql, id, knockId, c.get("user").id, decision);
      return c.json({ id: knockId, status });
    });
  }

  return app;
}
