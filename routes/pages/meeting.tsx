// A meeting's pages: the call itself (members, guests, and people waiting in its lobby), and
// the invitation that its shareable link opens.
import { Hono } from "hono";
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import type { User } from "../../lib/accounts/users.ts";
import { knockCookieName, knockForTicket, parseTicket } from "../../lib/meetings/lobby.ts";
import { getRoom, roomView, wasRemoved } from "../../lib/meetings/rooms.ts";
import { guestCookieName, guestForPass, parseGuestPass } from "../../lib/meetings/guests.ts";
import { t } from "../../i18n/t.ts";
import { Island } from "../../components/Layout.tsx";
import { RoomSummary } from "../../components/RoomSummary.tsx";
import { Invite } from "../../islands/Invite.tsx";
import type { RoomJson, RoomSummaryJson, UserJson } from "../../protocol/api.ts";
import type { AppEnv, Deps } from "../context.ts";
import { roomIdOr404 } from "../schemas.ts";
import { type PageKit, wire } from "./render.tsx";

export function meetingPages(deps: Deps, kit: PageKit) {
  const { config, sql } = deps;
  const { html, currentUser } = kit;
  const app = new Hono<AppEnv>();

  /** Someone waiting in the lobby (their ticket) waits on the room's page, and comes in there. */
  async function knocking(c: Context, id: string, user: User | null): Promise<boolean> {
    const ticket = parseTicket(getCookie(c, knockCookieName(id)));
    if (!ticket) return false;
    const k = await knockForTicket(sql, id, ticket).catch(() => null);
    return k !== null && (k.user_id ?? null) === (user?.id ?? null);
  }

  app.get("/meeting/room", async (c) => {
    const user = await currentUser(c);
    const id = roomIdOr404(c.req.query("room"));
    const inviteUrl = `${config.publicUrl}/meeting/invite?room=${id}`;
    const found = await getRoom(sql, id);
    let room: RoomJson | null = null;
    let knock = false;
    let guestName: string | undefined;
    if (user) {
      const view = roomView(found, user.id, config.publicUrl);
      // Someone with the link but not yet in the room accepts the invitation first (or asks to
      // join there); someone the host removed is told so there.
      if ("participants" in view) room = wire<RoomJson>(view);
      else if (!(knock = await knocking(c, id, user))) {
        return c.redirect(`/meeting/invite?room=${id}`, 303);
      }
    } else {
      const pass = parseGuestPass(getCookie(c, guestCookieName(id)));
      // Not signed in and not a guest of this meeting yet: the invitation lets them in.
      if (!pass && !(knock = await knocking(c, id, null))) {
        return c.redirect(`/meeting/invite?room=${id}`, 303);
      }
      // Their name, for the initials of the device check (the call itself says the rest).
      if (pass) guestName = (await guestForPass(sql, id, pass).catch(() => null))?.display_name;
    }
    const summary = { room_name: found.room_name, call_type: found.call_type };
    const props = {
      roomId: id,
      room,
      summary,
      user: user ? wire<UserJson>(user) : null,
      inviteUrl,
      knock,
      guestName,
    };
    return html(
      c,
      200,
      { text: found.room_name },
      () => (
        <Island name="Call" props={props}>
          {/* Rendered in the browser only: the call needs livekit-client and the devices. */}
        </Island>
      ),
      { user, entry: "room", wide: true },
    );
  });

  app.get("/meeting/invite", async (c) => {
    const user = await currentUser(c);
    const room = wire<RoomJson | RoomSummaryJson>(
      roomView(
        await getRoom(sql, roomIdOr404(c.req.query("room"))),
        user?.id ?? "",
        config.publicUrl,
      ),
    );
    const member = "participants" in room;
    const props = {
      roomId: room.id,
      signedIn: !!user,
      allowGuests: room.allow_guests,
      entry: room.entry,
      locked: room.locked,
      member,
    };
    const ended = room.status === "ended";
    const removed = !ended && !!user && await wasRemoved(sql, room.id, user.id);
    return html(
      c,
      200,
      { text: room.room_name },
      () => (
        <section class="card narrow invite">
          <RoomSummary room={room} />
          {ended
            ? <p class="notice">{t("summary.ended")}</p>
            : removed
            ? <p class="notice" role="alert">{t("error.removed")}</p>
            : (
              <Island name="Invite" props={props}>
                <Invite {...props} />
              </Island>
            )}
        </section>
      ),
      { user, entry: ended || removed ? undefined : "invite" },
    );
  });

  return app;
}
