// Getting into a call: a token from the app, the connection with a deadline, one's microphone
// and camera published, and what this browser chooses to receive (data saver).
import {
  ConnectionError,
  LocalAudioTrack,
  LocalVideoTrack,
  Room,
  Track,
  VideoQuality,
} from "livekit-client";
import type { JoinJson, TokenJson } from "../../protocol/api.ts";
import { api, ApiError, signInAgain, withDeadline } from "../api.ts";
import { type DataSaver, DEVICE_PREF, mediaErrorMessage, type MediaPrefs } from "../prefs.ts";
import { t } from "../../i18n/t.ts";
import type { Phase } from "./CallState.tsx";
import { cameraConstraints } from "./DeviceCheck.tsx";

// Connecting to a media server that does not answer must end in a message, not a spinner; but
// only after livekit-client's own attempts (signalling, then up to 20 s for the media
// connection, which a relayed path over TCP or TLS may need) have had their time.
export const CONNECT_OPTIONS = {
  maxRetries: 1,
  websocketTimeout: 8_000,
  peerConnectionTimeout: 20_000,
};
export const CONNECT_TIMEOUT_MS = 40_000;

/** The Room of a new attempt, with the devices chosen by now. */
export function newRoom(p: MediaPrefs): Room {
  return new Room({
    adaptiveStream: true,
    dynacast: true,
    audioCaptureDefaults: p.mic_id ? { deviceId: p.mic_id } : undefined,
    videoCaptureDefaults: p.camera_id ? { deviceId: p.camera_id } : undefined,
    audioOutput: p.speaker_id ? { deviceId: p.speaker_id } : undefined,
  });
}

export type Refusal = { phase: Phase; message: string };
export type TokenOutcome = TokenJson | Refusal | null;

/**
 * What a failed request to come in means for the page: null when the page is leaving (sign in
 * again, or a guest without a pass back to the invitation), otherwise the state to show.
 */
function refusal(err: unknown, roomId: string, member: boolean): Refusal | null {
  if (err instanceof ApiError) {
    if (err.status === 401) {
      if (member) signInAgain();
      else location.replace(`/meeting/invite?room=${encodeURIComponent(roomId)}`);
      return null;
    }
    if (err.status === 410) return { phase: "ended", message: err.message };
    if (err.code === "removed") return { phase: "removed", message: err.message };
  }
  return { phase: "unavailable", message: (err as Error).message };
}

/**
 * Coming in: a member says they are joining (an intent, which answers a call ringing for the
 * meeting; presence comes from LiveKit) and gets the token with the answer; a guest trades the
 * pass their browser holds.
 */
export async function fetchToken(roomId: string, member: boolean): Promise<TokenOutcome> {
  try {
    return member
      ? await api<JoinJson>("POST", `/api/livekit/rooms/${roomId}/join`)
      : await api<TokenJson>("POST", `/api/livekit/rooms/${roomId}/guest/token`);
  } catch (err) {
    return refusal(err, roomId, member);
  }
}

/**
 * A member's join recorded, for a page that connects with a token it fetched earlier: null
 * when recorded, otherwise why the page may not stay (the token it holds is then not used).
 */
export async function recordJoin(roomId: string): Promise<Refusal | null | "leaving"> {
  try {
    await api<JoinJson>("POST", `/api/livekit/rooms/${roomId}/join`);
    return null;
  } catch (err) {
    return refusal(err, roomId, true) ?? "leaving";
  }
}

/**
 * Microphone and camera each on their own (one failing leaves the other on), from the devices
 * the room was made with; the chosen speaker plays the call. `preview`, the device check's
 * stream taken at Join, gives the tracks already running: published as they are, and still
 * the library's to stop when muted and reopen when unmuted. What it holds that is not used
 * (the microphone of someone who comes in muted) is stopped.
 */
export async function publishMedia(
  room: Room,
  prefs: MediaPrefs,
  video: boolean,
  report: (message: string) => void,
  preview: MediaStream | null = null,
) {
  const lp = room.localParticipant;
  const problems: string[] = [];
  const live = (t: MediaStreamTrack) => t.readyState === "live";
  const mic = preview?.getAudioTracks().find(live);
  const cam = preview?.getVideoTracks().find(live);
  // Each source: the check's running track published as it is, or the device opened now.
  const publish = async (
    wanted: boolean,
    track: MediaStreamTrack | undefined,
    running: (track: MediaStreamTrack) => Promise<unknown>,
    open: () => Promise<unknown>,
    device: "mic" | "camera",
  ) => {
    if (!wanted) return track?.stop();
    await (track ? running(track) : open()).catch((err) => {
      track?.stop();
      problems.push(mediaErrorMessage(err, device));
    });
  };
  await publish(
    prefs.mic_on,
    mic,
    (track) => {
      track.enabled = true;
      const local = new LocalAudioTrack(track, { deviceId: track.getSettings().deviceId }, false);
      return lp.publishTrack(local, { source: Track.Source.Microphone });
    },
    () => lp.setMicrophoneEnabled(true),
    "mic",
  );
  await publish(
    video && prefs.cam_on,
    cam,
    (track) => {
      const local = new LocalVideoTrack(
        track,
        cameraConstraints(track.getSettings().deviceId),
        false,
      );
      return lp.publishTrack(local, { source: Track.Source.Camera });
    },
    () => lp.setCameraEnabled(true),
    "camera",
  );
  if (prefs.speaker_id) {
    // A speaker that is gone: the system's default plays instead.
    await room.switchActiveDevice("audiooutput", prefs.speaker_id).catch(() => {});
  }
  if (problems.length > 0) report(problems.join(" "));
}

/**
 * Applies the data saver to every remote video (cameras and shares): "audio" unsubscribes from
 * them, "low" asks LiveKit for the lowest simulcast layer, "auto" lets adaptive stream pick
 * by the size each video is shown at. Idempotent: run after every change in the call.
 */
export function applyDataSaver(room: Room, saver: DataSaver) {
  for (const p of room.remoteParticipants.values()) {
    for (const pub of p.videoTrackPublications.values()) {
      const want = saver !== "audio";
      if (pub.isDesired !== want) pub.setSubscribed(want);
      if (want && pub.isSubscribed) {
        // A share stays readable: the data saver lowers cameras only.
        const low = saver === "low" && pub.source === Track.Source.Camera;
        pub.setVideoQuality(low ? VideoQuality.LOW : VideoQuality.HIGH);
      }
    }
  }
}

export function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  return withDeadline(work, ms, t("call.timedOut"));
}

/**
 * Connects with livekit-client's own retries and our deadline; null when connected, otherwise
 * what the page should say (the room is left disconnected).
 */
export async function connectRoom(
  room: Room,
  token: TokenJson,
): Promise<{ phase: Phase; message: string } | null> {
  try {
    await withTimeout(room.connect(token.url, token.token, CONNECT_OPTIONS), CONNECT_TIMEOUT_MS);
    return null;
  } catch (err) {
    await room.disconnect();
    if (err instanceof ConnectionError && err.reason === 0 /* NotAllowed */) {
      return { phase: "unavailable", message: t("call.refused") };
    }
    return { phase: "unreachable", message: "" };
  }
}

export type Source = "mic" | "camera" | "screen";

/**
 * Turns a source on or off (`on` given is push-to-talk, which is not remembered): what to
 * remember of the choice, or the message to show when it failed.
 */
export async function setSource(
  room: Room,
  source: Source,
  on?: boolean,
): Promise<{ remember?: Partial<MediaPrefs>; error?: string }> {
  const lp = room.localParticipant;
  try {
    if (source === "mic") await lp.setMicrophoneEnabled(on ?? !lp.isMicrophoneEnabled);
    if (source === "camera") await lp.setCameraEnabled(on ?? !lp.isCameraEnabled);
    // The shared tab's or screen's sound too, where the browser offers it.
    if (source === "screen") {
      await lp.setScreenShareEnabled(!lp.isScreenShareEnabled, { audio: true });
    }
    if (source === "mic" && on === undefined) {
      return { remember: { mic_on: lp.isMicrophoneEnabled } };
    }
    if (source === "camera") return { remember: { cam_on: lp.isCameraEnabled } };
    return {};
  } catch (err) {
    // Cancelling the screen picker is not an error worth a message.
    if ((err as { name?: string }).name === "NotAllowedError" && source === "screen") return {};
    return { error: mediaErrorMessage(err, source === "screen" ? undefined : source) };
  }
}

/** Switches a device in the call: what to remember of the choice, or why it failed. */
export async function changeDevice(
  room: Room,
  kind: MediaDeviceKind,
  id: string,
): Promise<{ remember?: Partial<MediaPrefs>; error?: string }> {
  try {
    await room.switchActiveDevice(kind, id);
    return { remember: { [DEVICE_PREF[kind]]: id } };
  } catch (err) {
    if (kind === "audiooutput") return { error: t("call.noSpeaker") };
    return { error: mediaErrorMessage(err, kind === "videoinput" ? "camera" : "mic") };
  }
}
