// Running a meeting: who may enter (entry policy, lock), muting everyone, the raised-hand
// queue, and reactions. Every change goes through the app, which checks the caller's role; the
// page only offers what the server would allow.
import { type Participant, type Room, Track } from "livekit-client";
import { signal } from "@preact/signals";
import { useState } from "preact/hooks";
import { type EntryPolicy, REACTIONS, type RoomJson } from "../../protocol/api.ts";
import { api, messageOf } from "../api.ts";
import type { Status } from "../ui.tsx";
import type { Reaction as Emoji } from "../../protocol/data.ts";
import { onTopic, sendTopic } from "./data.ts";
import { label } from "./Tile.tsx";
import { type Key, t, tn } from "../../i18n/t.ts";

type Report = Pick<Status, "info" | "error">;

export interface Reaction {
  emoji: string;
  id: number;
}

export interface RaisedHand {
  identity: string;
  name: string;
  at: number;
}

/** How long a reaction stays on its sender's tile. */
const REACTION_MS = 4000;

/**
 * Reactions by sender, each shown for a few seconds (a newer one replaces it); `react` sends
 * one. The sender is LiveKit's participant, never the payload, and only the fixed set counts.
 */
export class Reactions {
  readonly shown = signal<Map<string, Reaction>>(new Map());
  private room: Room | null = null;

  /** Follows `room`'s reactions until the returned function is called. */
  attach(room: Room): () => void {
    this.room = room;
    return onTopic(room, "reaction", ({ emoji }, sender) => {
      if (sender) this.show(sender.identity, emoji);
    });
  }

  /** Sends a reaction; false when it could not be sent. */
  async react(emoji: Emoji): Promise<boolean> {
    const room = this.room;
    if (!room) return false;
    const sent = await sendTopic(room, "reaction", { emoji }, false);
    if (sent) this.show(room.localParticipant.identity, emoji);
    return sent;
  }

  private show(identity: string, emoji: string) {
    const id = Date.now() + Math.random();
    this.shown.value = new Map(this.shown.value).set(identity, { emoji, id });
    setTimeout(() => {
      const map = this.shown.value;
      if (map.get(identity)?.id !== id) return;
      const next = new Map(map);
      next.delete(identity);
      this.shown.value = next;
    }, REACTION_MS);
  }
}

/** Raised hands, first raised first: the time is the app server's, set in LiveKit's attributes. */
export function handQueue(participants: Participant[]): RaisedHand[] {
  return participants
    .map((p) => ({ identity: p.identity, name: label(p), at: Number(p.attributes?.hand) }))
    .filter((h) => Number.isFinite(h.at) && h.at > 0)
    .sort((a, b) => a.at - b.at || a.identity.localeCompare(b.identity));
}

/** Host controls go through the app (no browser's token has admin rights in LiveKit). */
export async function muteMic(roomId: string, p: Participant, report: Report) {
  const mic = p.getTrackPublication(Track.Source.Microphone);
  if (!mic?.trackSid) return;
  try {
    await api("POST", `${participantPath(roomId, p.identity)}/mute`, { track_sid: mic.trackSid });
    report.info(t("call.mutedOther", { name: label(p) }));
  } catch (err) {
    report.error(messageOf(err));
  }
}

export async function removeParticipant(roomId: string, p: Participant, report: Report) {
  try {
    await api("DELETE", participantPath(roomId, p.identity));
    report.info(t("call.removedOther", { name: label(p) }));
  } catch (err) {
    report.error(messageOf(err));
  }
}

const participantPath = (room: string, identity: string) =>
  `/api/livekit/rooms/${room}/participants/${encodeURIComponent(identity)}`;

/** Through the app: the time it reached the server orders the queue. */
export async function raiseHand(roomId: string, raised: boolean, report: Report) {
  try {
    await api("POST", `/api/livekit/rooms/${roomId}/hand`, { raised });
  } catch (err) {
    report.error(messageOf(err));
  }
}

const ENTRY_TEXT: Record<EntryPolicy, Key> = {
  open: "mod.entry.open",
  knock: "mod.entry.knock",
  invited: "mod.entry.invited",
};

async function attempt(status: Status, work: () => Promise<void>) {
  try {
    await work();
  } catch (err) {
    status.error(messageOf(err));
  }
}

/** Who may enter, the lock, and mute everyone (hosts and co-hosts). */
export function Moderation(
  { room, status, onRoom }: { room: RoomJson; status: Status; onRoom(room: RoomJson): void },
) {
  const [busy, setBusy] = useState(false);
  const change = (body: { entry?: EntryPolicy; locked?: boolean }) =>
    attempt(status, async () => {
      setBusy(true);
      try {
        onRoom(await api<RoomJson>("PATCH", `/api/livekit/rooms/${room.id}`, body));
      } finally {
        setBusy(false);
      }
    });
  const muteAll = () =>
    attempt(status, async () => {
      const { muted } = await api<{ muted: number }>(
        "POST",
        `/api/livekit/rooms/${room.id}/mute-all`,
      );
      status.info(tn(muted, "mod.muted.one", "mod.muted.other"));
    });
  return (
    <div class="moderation stack">
      <label>
        {t("mod.who")}
        <select
          name="entry"
          value={room.entry}
          disabled={busy}
          onChange={(e) => change({ entry: (e.target as HTMLSelectElement).value as EntryPolicy })}
        >
          {(Object.keys(ENTRY_TEXT) as EntryPolicy[]).map((e) => (
            <option key={e} value={e}>{t(ENTRY_TEXT[e])}</option>
          ))}
        </select>
      </label>
      <div class="row">
        <button
          type="button"
          aria-pressed={room.locked}
          disabled={busy}
          onClick={() => change({ locked: !room.locked })}
        >
          {room.locked ? t("mod.unlock") : t("mod.lock")}
        </button>
        <button type="button" onClick={muteAll}>{t("mod.muteAll")}</button>
      </div>
      {room.locked && <p class="muted small">{t("mod.locked")}</p>}
    </div>
  );
}

/** The raised hands, in order; a host or co-host can lower one or all. */
export function Hands(
  { roomId, queue, moderator, status }: {
    roomId: string;
    queue: RaisedHand[];
    moderator: boolean;
    status: Status;
  },
) {
  const lower = (identity?: string) =>
    attempt(status, async () => {
      await api(
        "DELETE",
        identity === undefined
          ? `/api/livekit/rooms/${roomId}/hands`
          : `/api/livekit/rooms/${roomId}/participants/${encodeURIComponent(identity)}/hand`,
      );
    });
  return (
    <aside class="card hands" aria-labelledby="hands-title">
      <div class="row spread">
        <h2 id="hands-title" class="small">{t("hands.title", { n: queue.length })}</h2>
        {moderator && (
          <button type="button" class="link" onClick={() => lower()}>{t("hands.lowerAll")}</button>
        )}
      </div>
      <ol class="hand-queue">
        {queue.map((h, i) => (
          <li key={h.identity} data-identity={h.identity}>
            <span>{`${i + 1}. ${h.name}`}</span>
            {moderator && (
              <button
                type="button"
                class="link"
                onClick={() => lower(h.identity)}
                aria-label={t("hands.lowerNamed", { name: h.name })}
              >
                {t("hands.lower")}
              </button>
            )}
          </li>
        ))}
      </ol>
    </aside>
  );
}

/** A row of reactions; each one is a short burst on the sender's tile for everyone. */
export function ReactionBar({ onReact }: { onReact(emoji: Emoji): void }) {
  return (
    <span class="reactions" role="group" aria-label={t("call.reactions")}>
      {REACTIONS.map((emoji) => (
        <button
          type="button"
          key={emoji}
          class="reaction-button"
          onClick={() => onReact(emoji)}
          aria-label={t("hands.react", { emoji })}
        >
          {emoji}
        </button>
      ))}
    </span>
  );
}
