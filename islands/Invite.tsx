import { useState } from "preact/hooks";
import type { EntryPolicy, KnockStateJson, TokenJson } from "../protocol/api.ts";
import { api, ApiError, messageOf } from "./api.ts";
import { RingingHere, useMeetingHere } from "./inbox/RingingHere.tsx";
import { StatusLine, useStatus } from "./ui.tsx";
import { t } from "../i18n/t.ts";

export interface InviteProps {
  roomId: string;
  signedIn: boolean;
  allowGuests: boolean;
  entry: EntryPolicy;
  locked: boolean;
  /** The signed-in viewer is on the meeting's list (invited, admitted, host). */
  member: boolean;
}

/**
 * The invitation's actions: join when on the list or the meeting is open; ask to join when a
 * host lets people in (knock), signed in or as a guest by name; nothing when only invited
 * people may join or the meeting is locked.
 */
export function Invite({ roomId, signedIn, allowGuests, entry, locked, member }: InviteProps) {
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const status = useStatus();
  const roomPage = `/meeting/room?room=${encodeURIComponent(roomId)}`;
  const here = `/meeting/invite?room=${encodeURIComponent(roomId)}`;
  const knocks = entry === "knock" && !member;
  useMeetingHere(roomId);

  async function attempt(work: () => Promise<void>, doing: string) {
    setBusy(true);
    status.info(doing);
    try {
      await work();
      location.assign(roomPage);
    } catch (err) {
      setBusy(false);
      if (err instanceof ApiError && err.status === 401) {
        location.assign(`/login?next=${encodeURIComponent(here)}`);
      } else status.error(messageOf(err));
    }
  }

  // Asking to join leaves a ticket in this browser (an HttpOnly cookie); the meeting's page
  // waits in the lobby with it and comes in once a host admits.
  const askToJoin = (displayName?: string) =>
    attempt(async () => {
      await api<KnockStateJson>(
        "POST",
        `/api/livekit/rooms/${roomId}/knock`,
        displayName === undefined ? {} : { display_name: displayName },
      );
    }, t("invite.asking"));

  const join = () =>
    knocks ? askToJoin() : attempt(async () => {
      await api("POST", `/api/livekit/rooms/${roomId}/join`);
    }, t("invite.joining"));

  const joinAsGuest = (event: Event) => {
    event.preventDefault();
    if (knocks) return askToJoin(name.trim());
    // The answer sets this browser's guest pass (an HttpOnly cookie); the room page trades it
    // for a token on every connect.
    return attempt(async () => {
      await api<TokenJson>("POST", `/api/livekit/rooms/${roomId}/guest`, {
        display_name: name.trim(),
      });
    }, t("invite.joining"));
  };

  if (!member && entry === "invited") {
    return (
      <p class="notice" role="status" data-entry="invited">
        {t("invite.invitedOnly")}
      </p>
    );
  }
  if (!member && locked) {
    return (
      <p class="notice" role="status" data-entry="locked">
        {t("invite.locked")}
      </p>
    );
  }
  return (
    <div class="stack">
      <StatusLine status={status} />
      {signedIn && <RingingHere roomId={roomId} />}
      {knocks && <p class="muted small">{t("invite.knockNote")}</p>}
      {signedIn
        ? (
          <button type="button" class="primary big" disabled={busy} onClick={join}>
            {knocks ? t("invite.ask") : t("invite.join")}
          </button>
        )
        : (
          <>
            <a class="button primary" href={`/login?next=${encodeURIComponent(here)}`}>
              {t("invite.signIn")}
            </a>
            {allowGuests && (
              <form class="stack guest" onSubmit={joinAsGuest}>
                <label>
                  {t("auth.name")}
                  <input
                    name="display_name"
                    required
                    maxLength={64}
                    autocomplete="name"
                    value={name}
                    onInput={(e) => setName((e.target as HTMLInputElement).value)}
                  />
                </label>
                <button type="submit" disabled={busy}>
                  {knocks ? t("invite.askGuest") : t("invite.joinGuest")}
                </button>
              </form>
            )}
          </>
        )}
    </div>
  );
}
