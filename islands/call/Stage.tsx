// What the call shows: a grid of everyone (paged past 16), or one person large with the others
// in a strip — the active speaker ("speaker" layout) or whoever is pinned — and screen shares
// large with their presenter's name.
import { type Participant, Track } from "livekit-client";
import { useState } from "preact/hooks";
import type { Layout } from "../prefs.ts";
import { type RaisedHand, type Reaction } from "./Moderation.tsx";
import { type HostControls, label, Tile, TrackVideo } from "./Tile.tsx";
import { t } from "../../i18n/t.ts";

/** Tiles per page of the grid. */
const PAGE_SIZE = 16;

export interface StageProps {
  participants: Participant[];
  layout: Layout;
  /** The person pinned large, if any (overrides the layout). */
  pinned: string | null;
  onPin(identity: string | null): void;
  /** The last remote person LiveKit heard speaking. */
  speaker: string | null;
  selfView: boolean;
  host?: HostControls;
  hands: RaisedHand[];
  reactions: Map<string, Reaction>;
  version: number;
}

export function Stage(props: StageProps) {
  const { participants, layout, pinned, speaker, selfView } = props;
  const [page, setPage] = useState(0);
  const local = participants.find((p) => p.isLocal);
  // Self-view hidden: one's own tile leaves the grid, unless one is alone.
  const people = selfView || participants.length === 1
    ? participants
    : participants.filter((p) => !p.isLocal);
  // Everyone else's shares, large; one's own is not mirrored back at them.
  const shares = participants
    .filter((p) => !p.isLocal)
    .map((p) => ({ p, pub: p.getTrackPublication(Track.Source.ScreenShare) }))
    .filter(({ pub }) => pub?.track && !pub.isMuted);
  const focus = people.find((p) => p.identity === pinned) ??
    (layout === "speaker" && people.length > 1 ? inFocus(people, null, speaker) : undefined);

  const tile = (p: Participant) => (
    <Tile
      key={p.identity}
      participant={p}
      host={props.host}
      version={props.version}
      hand={props.hands.findIndex((h) => h.identity === p.identity) + 1}
      reaction={props.reactions.get(p.identity)?.emoji}
      pinned={p.identity === pinned}
      onPin={people.length > 1 ? props.onPin : undefined}
    />
  );

  if (shares.length > 0 || focus) {
    const strip = focus ? people.filter((p) => p !== focus) : people;
    return (
      <div class="stage focused" data-layout={focus ? (pinned ? "pinned" : "speaker") : "share"}>
        {local?.isScreenShareEnabled && <SharingBanner />}
        <div class="main-view">
          {shares.length > 0
            ? (
              <div class="shares" data-count={shares.length}>
                {shares.map(({ p, pub }) => (
                  <figure class="screen" key={pub!.trackSid} data-identity={p.identity}>
                    <TrackVideo pub={pub!} />
                    <figcaption>{t("stage.sharing", { name: label(p) })}</figcaption>
                  </figure>
                ))}
              </div>
            )
            : <ul class="grid" data-count={1} aria-label={t("stage.featured")}>{tile(focus!)}</ul>}
        </div>
        {strip.length > 0 && (
          <ul class="grid strip" data-count={strip.length} aria-label={t("stage.participants")}>
            {strip.map(tile)}
          </ul>
        )}
      </div>
    );
  }

  const pages = Math.max(1, Math.ceil(people.length / PAGE_SIZE));
  const current = Math.min(page, pages - 1);
  const shown = people.slice(current * PAGE_SIZE, (current + 1) * PAGE_SIZE);
  return (
    <div class="stage" data-layout="grid">
      {local?.isScreenShareEnabled && <SharingBanner />}
      <ul class="grid" data-count={shown.length} aria-label={t("stage.participants")}>
        {shown.map(tile)}
      </ul>
      {pages > 1 && (
        <nav class="row pager" aria-label={t("stage.pages")}>
          <button type="button" disabled={current === 0} onClick={() => setPage(current - 1)}>
            {t("stage.previous")}
          </button>
          <span>{t("stage.page", { n: current + 1, of: pages })}</span>
          <button
            type="button"
            disabled={current === pages - 1}
            onClick={() => setPage(current + 1)}
          >
            {t("stage.next")}
          </button>
        </nav>
      )}
    </div>
  );
}

/**
 * Who is shown large: the pinned person, else the last one heard (`speaker`), else anyone but
 * oneself (undefined when one is alone).
 */
export function inFocus(
  people: Participant[],
  pinned: string | null,
  speaker: string | null,
): Participant | undefined {
  return people.find((p) => p.identity === pinned) ??
    people.find((p) => p.identity === speaker) ?? people.find((p) => !p.isLocal);
}

function SharingBanner() {
  return <p class="banner sharing" role="status">{t("stage.youShare")}</p>;
}
