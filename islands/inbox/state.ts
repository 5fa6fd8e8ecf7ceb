// What rings a signed-in user on every page, apart from its views: the calls ringing them and
// the lobbies of the meetings they run, kept current by the real-time channel.
import { signal } from "@preact/signals";
import type { InviteJson, LobbyJson } from "../../protocol/api.ts";
import { api, ApiError, messageOf, signInAgain } from "../api.ts";
import { closeCallNotice, showCallNotice } from "../notify.ts";
import { subscribe } from "../realtime.ts";

// A call is dropped here a little after its time is up, in case the "missed" news is lost.
export const GRACE_MS = 5_000;

export type Ringing = InviteJson & { until: number };

const due = (i: InviteJson): Ringing => ({
  ...i,
  until: Date.now() + i.expires_in * 1000 + GRACE_MS,
});

/** Calls ringing this user now, as the page's inbox follows them. */
export const ringing = signal<Ringing[]>([]);

/**
 * The meeting whose own page this is (its call or its invitation), set by that page: a call
 * into it is not a dialog over the page but a line on it, and joining answers it.
 */
export const meetingHere = signal<string | null>(null);

/** What rings this user from `meeting` (the page's own meeting), first rung first. */
export const ringingInto = (meeting: string) => ringing.value.filter((c) => c.room_id === meeting);

export class InboxState {
  readonly calls = ringing;
  /** People waiting to enter meetings this user hosts or co-hosts, by meeting. */
  readonly lobbies = signal<LobbyJson[]>([]);
  /** The call being answered. */
  readonly busy = signal<string | null>(null);
  /** Why answering a call failed. */
  readonly problem = signal<{ id: string; text: string } | null>(null);

  constructor(private readonly me?: string) {}

  follow(): () => void {
    return subscribe((m) => {
      if (m.type === "sync") {
        this.calls.value = m.invites.filter((i) => i.status === "pending").map(due);
        this.lobbies.value = m.lobbies ?? [];
      } else if (m.type === "lobby") {
        this.lobbies.value = [
          ...this.lobbies.value.filter((l) => l.room_id !== m.lobby.room_id),
          ...(m.lobby.waiting.length > 0 ? [m.lobby] : []),
        ];
      } else if (m.type === "room_updated") {
        // No longer a host or co-host there: their lobby is not this user's to answer.
        const mine = m.room.participants.find((p) => p.id === this.me);
        if (m.room.status === "ended" || (mine?.role !== "host" && mine?.role !== "cohost")) {
          this.lobbies.value = this.lobbies.value.filter((l) => l.room_id !== m.room_id);
        }
      } else if (m.type === "invite") {
        const list = this.calls.value;
        if (!list.some((i) => i.id === m.invite.id)) this.calls.value = [...list, due(m.invite)];
        if (document.visibilityState === "hidden") showCallNotice(m.invite);
      } else if (m.type === "invite_answered" || m.type === "invite_cancelled") {
        this.drop(m.invite_id);
        closeCallNotice(m.invite_id);
      }
    });
  }

  /** Drops the calls whose time is up. */
  expire() {
    const list = this.calls.value;
    const left = list.filter((i) => i.until > Date.now());
    if (left.length !== list.length) this.calls.value = left;
  }

  private drop(id: string) {
    this.calls.value = this.calls.value.filter((i) => i.id !== id);
  }

  /** Accepting opens the meeting's page; declining lets the call go. */
  async answer(call: InviteJson, how: "accept" | "decline") {
    closeCallNotice(call.id);
    this.busy.value = call.id;
    this.problem.value = null;
    try {
      await api("POST", `/api/invites/${call.id}/${how}`);
      if (how === "accept") {
        location.assign(`/meeting/room?room=${encodeURIComponent(call.room_id)}`);
        return;
      }
      this.drop(call.id);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return signInAgain();
      this.problem.value = { id: call.id, text: messageOf(err) };
      // The call is over (missed, withdrawn, ended): show why, then let it go.
      if (err instanceof ApiError && (err.status === 409 || err.status === 410)) {
        setTimeout(() => this.drop(call.id), 4000);
      }
    } finally {
      this.busy.value = null;
    }
  }

  /** Accept or Decline pressed on the system notification (this tab does it). */
  answerById(inviteId: string, how: "accept" | "decline") {
    const call = this.calls.peek().find((c) => c.id === inviteId);
    if (call) this.answer(call, how);
  }
}
