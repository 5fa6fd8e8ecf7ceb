import { useState } from "preact/hooks";
import type { TokenJson } from "../protocol/api.ts";
import { api, ApiError } from "./api.ts";
import { StatusLine, useStatus } from "./ui.tsx";

export interface InviteProps {
  roomId: string;
  signedIn: boolean;
  allowGuests: boolean;
}

/** The invitation's actions: join when signed in, or join as a guest by name. */
export function Invite({ roomId, signedIn, allowGuests }: InviteProps) {
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const status = useStatus();
  const roomPage = `/meeting/room?room=${encodeURIComponent(roomId)}`;
  const here = `/meeting/invite?room=${encodeURIComponent(roomId)}`;

  async function attempt(work: () => Promise<void>) {
    setBusy(true);
    status.info("Joining…");
    try {
      await work();
      location.assign(roomPage);
    } catch (err) {
      setBusy(false);
      if (err instanceof ApiError && err.status === 401) {
        location.assign(`/login?next=${encodeURIComponent(here)}`);
      } else status.error(err instanceof Error ? err.message : String(err));
    }
  }

  const join = () => attempt(() => api("POST", `/api/livekit/rooms/${roomId}/join`));
  const joinAsGuest = (event: Event) => {
    event.preventDefault();
    // The answer sets this browser's guest pass (an HttpOnly cookie); the room page trades it
    // for a token on every connect.
    return attempt(async () => {
      await api<TokenJson>("POST", `/api/livekit/rooms/${roomId}/guest`, {
        display_name: name.trim(),
      });
    });
  };

  return (
    <div class="stack">
      <StatusLine status={status} />
      {signedIn
        ? (
          <button type="button" class="primary big" disabled={busy} onClick={join}>
            Join meeting
          </button>
        )
        : (
          <>
            <a class="button primary" href={`/login?next=${encodeURIComponent(here)}`}>
              Sign in to join
            </a>
            {allowGuests && (
              <form class="stack guest" onSubmit={joinAsGuest}>
                <label>
                  Your name
                  <input
                    name="display_name"
                    required
                    maxLength={64}
                    autocomplete="name"
                    value={name}
                    onInput={(e) => setName((e.target as HTMLInputElement).value)}
                  />
                </label>
                <button type="submit" disabled={busy}>Join as guest</button>
              </form>
            )}
          </>
        )}
    </div>
  );
}
