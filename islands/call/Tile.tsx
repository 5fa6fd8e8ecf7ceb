// One person's tile in the call grid, and the helpers that name people. Who is a guest comes
// from the token's metadata, which only the app can set (LiveKit does not let a participant
// change its own metadata): a guest named "Ada" never passes for member Ada.
import { type Participant, Track, type TrackPublication } from "livekit-client";
import { useEffect, useRef, useState } from "preact/hooks";
import { CALL_ROLES, type CallRole, type ParticipantMetadata } from "../../protocol/api.ts";
import { initials } from "../ui.tsx";
import { Icon } from "./icons.tsx";
import { type Key, t } from "../../i18n/t.ts";

const QUALITY: Record<string, Key> = {
  excellent: "tile.q.excellent",
  good: "tile.q.good",
  poor: "tile.q.poor",
  lost: "tile.q.lost",
};

/** The role the app put in this participant's token. */
export function roleOf(p: Participant): CallRole | null {
  try {
    const role = (JSON.parse(p.metadata || "{}") as Partial<ParticipantMetadata>).role;
    return role && CALL_ROLES.includes(role) ? role : null;
  } catch {
    return null;
  }
}

/** A person's name as the page shows it: guests marked, "(you)" for oneself. */
export function label(p: Participant): string {
  const name = p.name || p.identity;
  if (p.isLocal) return t("people.you", { name });
  return roleOf(p) === "guest" ? t("common.guest", { name }) : name;
}

export interface HostControls {
  mute(p: Participant): Promise<void>;
  remove(p: Participant): Promise<void>;
}

export function Tile(
  { participant: p, host, hand = 0, reaction, pinned, onPin }: {
    participant: Participant;
    host?: HostControls;
    /** Changes whenever the call's state does: the participant object itself does not. */
    version: number;
    /** Their place in the raised-hand queue (0: hand not raised). */
    hand?: number;
    /** A reaction they just sent. */
    reaction?: string;
    /** Shown large whatever the layout; `onPin` (un)pins, absent when there is no one else. */
    pinned?: boolean;
    onPin?(identity: string | null): void;
  },
) {
  const camera = p.getTrackPublication(Track.Source.Camera);
  const hasVideo = !!camera?.track && !camera.isMuted;
  const quality = t(QUALITY[p.connectionQuality] ?? "tile.q.unknown");
  const [confirming, setConfirming] = useState(false);
  const controls = host && !p.isLocal;
  const someone = label(p);
  const role = roleOf(p);
  const guest = role === "guest";
  const name = p.name || p.identity;
  return (
    <li
      class={`tile ${p.isSpeaking ? "speaking" : ""}`}
      data-speaking={p.isSpeaking || undefined}
      data-pinned={pinned || undefined}
      data-identity={p.identity}
      data-role={roleOf(p) ?? undefined}
      data-hand={hand || undefined}
      aria-label={[
        someone,
        p.isMicrophoneEnabled ? "" : t("tile.muted"),
        p.isSpeaking ? t("tile.speaking") : "",
        hand ? t("tile.hand", { n: hand }) : "",
      ].filter(Boolean).join(", ")}
    >
      {reaction && (
        <span class="reaction" role="img" aria-label={t("tile.reacts", { emoji: reaction })}>
          {reaction}
        </span>
      )}
      {hand > 0 && <span class="hand" aria-hidden="true">{`✋ ${hand}`}</span>}
      {hasVideo
        ? <TrackVideo pub={camera!} mirror={p.isLocal} />
        : <div class="avatar" aria-hidden="true">{initials(name)}</div>}
      <div class="tile-bar">
        <span class="name">{p.isLocal ? t("people.you", { name }) : name}</span>
        {guest && <span class="badge guest">{t("tile.guest")}</span>}
        {role === "host" && <span class="badge">{t("tile.host")}</span>}
        {role === "cohost" && <span class="badge">{t("tile.cohost")}</span>}
        {!p.isMicrophoneEnabled && <span class="badge">{t("tile.muted")}</span>}
        <span
          class={`quality q-${p.connectionQuality}`}
          role="img"
          title={t("tile.connection", { quality })}
          aria-label={t("tile.connection", { quality })}
        />
      </div>
      {(controls || onPin) && (
        <div class="tile-actions row">
          {onPin && (
            <button
              type="button"
              aria-pressed={!!pinned}
              title={pinned ? t("tile.unpin") : t("tile.pinTitle")}
              onClick={() => onPin(pinned ? null : p.identity)}
            >
              <Icon name="pin" />
              <span class="sr-only">
                {pinned
                  ? t("tile.unpinNamed", { name: someone })
                  : t("tile.pinNamed", { name: someone })}
              </span>
            </button>
          )}
          {controls && p.isMicrophoneEnabled && (
            <button type="button" onClick={() => host.mute(p)}>
              {t("tile.muteNamed", { name: someone })}
            </button>
          )}
          {controls && (confirming
            ? (
              <>
                <button type="button" class="danger" onClick={() => host.remove(p)}>
                  {t("tile.removeYes", { name: someone })}
                </button>
                <button type="button" onClick={() => setConfirming(false)}>{t("tile.keep")}</button>
              </>
            )
            : (
              <button type="button" onClick={() => setConfirming(true)}>
                {t("tile.removeNamed", { name: someone })}
              </button>
            ))}
        </div>
      )}
    </li>
  );
}

export function TrackVideo({ pub, mirror }: { pub: TrackPublication; mirror?: boolean }) {
  const ref = useRef<HTMLVideoElement>(null);
  const track = pub.track;
  useEffect(() => {
    const el = ref.current;
    if (!track || !el) return;
    track.attach(el);
    return () => {
      track.detach(el);
    };
  }, [track]);
  return <video ref={ref} autoplay playsInline muted class={mirror ? "mirror" : undefined} />;
}
