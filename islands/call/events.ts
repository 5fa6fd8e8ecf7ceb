// What a call page hears from LiveKit: people coming and going, tracks, speakers, hands, the
// connection's ups and downs, each turned into the session's state.
import {
  DisconnectReason,
  type Participant,
  type RemoteTrack,
  type Room,
  RoomEvent,
  Track,
} from "livekit-client";
import { type Key, t } from "../../i18n/t.ts";
import type { RoomJson } from "../../protocol/api.ts";
import type { ServerMessage } from "../../protocol/ws.ts";
import type { Phase } from "./CallState.tsx";
import { label } from "./Tile.tsx";

export interface Watcher {
  /** Something about the participants changed (they are mutable objects). */
  bump(): void;
  /** For screen readers. */
  announce(text: string): void;
  /** The remote participant heard last. */
  speaker(identity: string): void;
  phase(to: (current: Phase) => Phase): void;
  /** Where remote audio plays from. */
  audio: HTMLElement;
}

/** Follows `room` until its listeners are removed. */
export function watch(room: Room, to: Watcher) {
  const bump = to.bump;
  room
    .on(RoomEvent.ParticipantConnected, (p: Participant) => {
      to.announce(t("call.joined", { name: label(p) }));
      bump();
    })
    .on(RoomEvent.ParticipantDisconnected, (p: Participant) => {
      to.announce(t("call.left", { name: label(p) }));
      bump();
    })
    .on(RoomEvent.TrackPublished, bump)
    .on(RoomEvent.TrackUnpublished, bump)
    .on(RoomEvent.TrackSubscribed, (track: RemoteTrack) => {
      if (track.kind === Track.Kind.Audio) to.audio.append(track.attach());
      bump();
    })
    .on(RoomEvent.TrackUnsubscribed, (track: RemoteTrack) => {
      track.detach().forEach((el) => el.remove());
      bump();
    })
    .on(RoomEvent.TrackMuted, bump)
    .on(RoomEvent.TrackUnmuted, bump)
    .on(RoomEvent.LocalTrackPublished, bump)
    .on(RoomEvent.LocalTrackUnpublished, bump)
    .on(RoomEvent.ActiveSpeakersChanged, (speakers: Participant[]) => {
      // The speaker layout keeps the last one heard through silences.
      const loudest = speakers.find((p) => !p.isLocal);
      if (loudest) to.speaker(loudest.identity);
      bump();
    })
    .on(RoomEvent.ConnectionQualityChanged, bump)
    .on(RoomEvent.AudioPlaybackStatusChanged, bump)
    .on(RoomEvent.ParticipantAttributesChanged, (changed: Record<string, string>, p) => {
      if ("hand" in changed) {
        const name = label(p);
        to.announce(
          changed.hand
            ? t(p.isLocal ? "call.handUpSelf" : "call.handUpNamed", { name })
            : t(p.isLocal ? "call.handDownSelf" : "call.handDownNamed", { name }),
        );
      }
      bump();
    })
    .on(RoomEvent.ParticipantMetadataChanged, bump)
    .on(RoomEvent.Reconnecting, () => to.phase(() => "reconnecting"))
    .on(RoomEvent.Reconnected, () => to.phase(() => "connected"))
    .on(RoomEvent.Disconnected, (reason?: DisconnectReason) => {
      if (reason === DisconnectReason.ROOM_DELETED) to.phase(() => "ended");
      else if (reason === DisconnectReason.PARTICIPANT_REMOVED) to.phase(() => "removed");
      else if (reason === DisconnectReason.CLIENT_INITIATED) return;
      else to.phase((p) => (p === "connecting" ? p : "disconnected"));
    });
}

/** Where remote audio plays: hidden, for the page's life (made before the call is drawn). */
export function audioSink(): HTMLElement {
  const sink = document.createElement("div");
  sink.hidden = true;
  sink.className = "audio-sink";
  document.body.append(sink);
  return sink;
}

const ANSWERS: Record<"accepted" | "declined" | "missed", Key> = {
  accepted: "call.answer.accepted",
  declined: "call.answer.declined",
  missed: "call.answer.missed",
};

/** What the call page says when someone rung for the meeting answers (or does not). */
export function answerNews(
  m: Extract<ServerMessage, { type: "invite_answered" }>,
  room: RoomJson | null,
): string {
  const name = room?.participants.find((p) => p.id === m.user_id)?.display_name ??
    t("call.someone");
  return t(ANSWERS[m.status], { name });
}
