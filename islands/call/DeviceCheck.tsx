// The device check before media starts, shared by pre-join (the host) and the room page (an
// invitee who accepted a ring or opened the link, a guest): one's own preview, mirrored and
// uncropped, initials when the camera is off or refused, a quiet microphone meter, microphone
// and camera toggles on the preview, and the device pickers. Nothing is sent anywhere: the
// stream stops when the check is left, unless the call took it over at Join (a Handoff) to
// publish what is already running instead of opening the devices again.
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { DEVICE_PREF, mediaErrorMessage, type MediaPrefs } from "../prefs.ts";
import { type DeviceLists, DevicePickers, initials, listDevices, NO_DEVICES } from "../ui.tsx";
import { DeviceButton } from "./icons.tsx";
import { t } from "../../i18n/t.ts";

/**
 * The camera as the call publishes it (livekit-client's default capture, 720p at 30 fps), so
 * the preview's track can be the call's.
 */
export function cameraConstraints(deviceId?: string): MediaTrackConstraints {
  return {
    ...(deviceId ? { deviceId: { ideal: deviceId } } : {}),
    width: { ideal: 1280 },
    height: { ideal: 720 },
    frameRate: { ideal: 30 },
  };
}

/**
 * The device check's stream, offered to the call: taken at Join, it is the call's to publish
 * and stop; not taken, the check stops it when it closes or restarts.
 */
export class Handoff {
  private current: MediaStream | null = null;
  offer(stream: MediaStream) {
    this.current = stream;
  }
  /** The stream running now, if any; the check no longer stops it. */
  take(): MediaStream | null {
    const stream = this.current;
    this.current = null;
    return stream;
  }
  /** Whether the check that offered `stream` stops it now: it does unless the call took it. */
  release(stream: MediaStream): boolean {
    if (this.current !== stream) return false;
    this.current = null;
    return true;
  }
}

/**
 * The check's stream: the microphone picked, exactly (an `ideal` one may be passed over for
 * the system's default, and the check would then show and hand the call another microphone);
 * one that is gone gives way to the default.
 */
async function openPreview(micId: string | undefined, camera: boolean, cameraId?: string) {
  const open = (mic: MediaTrackConstraints | boolean) =>
    navigator.mediaDevices.getUserMedia({
      audio: mic,
      video: camera ? cameraConstraints(cameraId) : false,
    });
  if (!micId) return await open(true);
  try {
    return await open({ deviceId: { exact: micId } });
  } catch (err) {
    const gone = (err as Error).name === "OverconstrainedError" ||
      (err as Error).name === "NotFoundError";
    if (!gone) throw err;
    return await open(true);
  }
}

const canPickSpeaker = typeof HTMLMediaElement !== "undefined" &&
  "setSinkId" in HTMLMediaElement.prototype;

export function DeviceCheck(
  { video, name, prefs, update, handoff, children }: {
    /** A video call (the camera is offered). */
    video: boolean;
    /** Whose initials stand in for the camera. */
    name: string;
    prefs: MediaPrefs;
    update(change: Partial<MediaPrefs>): void;
    /** Where the call may take the running stream from at Join. */
    handoff?: Handoff;
    /** What sits beside the preview: the way in. */
    children: ComponentChildren;
  },
) {
  const [devices, setDevices] = useState<DeviceLists>(NO_DEVICES);
  const [problem, setProblem] = useState("");
  const [showing, setShowing] = useState(false);
  const preview = useRef<HTMLVideoElement>(null);
  const bar = useRef<HTMLSpanElement>(null);
  const stream = useRef<MediaStream | null>(null);
  const camera = video && prefs.cam_on;

  // The preview: restarted when the camera is switched on or off or a device changes. With the
  // camera off it is not opened at all (its light stays off).
  useEffect(() => {
    let stopped = false;
    let audio: AudioContext | null = null;
    let frame = 0;
    setShowing(false);
    (async () => {
      let media: MediaStream;
      try {
        media = await openPreview(prefs.mic_id, camera, prefs.camera_id);
      } catch (err) {
        if (!stopped) setProblem(mediaErrorMessage(err));
        setDevices(await listDevices());
        return;
      }
      if (stopped) return media.getTracks().forEach((t) => t.stop());
      stream.current = media;
      handoff?.offer(media);
      setProblem("");
      media.getAudioTracks().forEach((t) => (t.enabled = prefs.mic_on));
      if (preview.current) preview.current.srcObject = media;
      setShowing(media.getVideoTracks().length > 0);
      setDevices(await listDevices());
      // The level: RMS of the waveform, drawn straight onto the bar (no re-render per frame).
      audio = new AudioContext();
      const analyser = audio.createAnalyser();
      analyser.fftSize = 512;
      audio.createMediaStreamSource(media).connect(analyser);
      const samples = new Uint8Array(analyser.fftSize);
      const tick = () => {
        analyser.getByteTimeDomainData(samples);
        let sum = 0;
        for (const s of samples) sum += ((s - 128) / 128) ** 2;
        const on = media.getAudioTracks()[0]?.enabled;
        const level = on ? Math.min(1, Math.sqrt(sum / samples.length) * 4) : 0;
        if (bar.current) bar.current.style.width = `${Math.round(level * 100)}%`;
        frame = requestAnimationFrame(tick);
      };
      tick();
    })();
    return () => {
      stopped = true;
      cancelAnimationFrame(frame);
      audio?.close();
      const media = stream.current;
      if (media && (!handoff || handoff.release(media))) media.getTracks().forEach((t) => t.stop());
      stream.current = null;
    };
  }, [camera, prefs.camera_id, prefs.mic_id]);

  useEffect(() => {
    stream.current?.getAudioTracks().forEach((t) => (t.enabled = prefs.mic_on));
  }, [prefs.mic_on]);

  useEffect(() => {
    const el = preview.current as
      | (HTMLVideoElement & { setSinkId?(id: string): Promise<void> })
      | null;
    if (canPickSpeaker && prefs.speaker_id) el?.setSinkId?.(prefs.speaker_id).catch(() => {});
  }, [prefs.speaker_id]);

  return (
    <div class="check">
      <div class="check-view">
        <div class="preview-box" data-camera={showing ? "on" : "off"}>
          <video
            ref={preview}
            class="preview mirror"
            hidden={!showing}
            autoplay
            muted
            playsInline
            aria-label={t("check.preview")}
          />
          {!showing && <div class="avatar" aria-hidden="true">{initials(name)}</div>}
          <div class="preview-toggles">
            <DeviceButton
              device="mic"
              on={prefs.mic_on}
              text={[t("check.micOff"), t("check.micOn")]}
              onClick={() => update({ mic_on: !prefs.mic_on })}
            />
            {video && (
              <DeviceButton
                device="cam"
                on={prefs.cam_on}
                text={[t("check.camOff"), t("check.camOn")]}
                onClick={() => update({ cam_on: !prefs.cam_on })}
              />
            )}
          </div>
          <span class="meter" aria-hidden="true">
            <span ref={bar} />
          </span>
        </div>
        {problem && <p class="error" role="alert">{problem}</p>}
        {!prefs.mic_on && <p class="muted small">{t("check.muted")}</p>}
      </div>
      <div class="check-side stack">
        {children}
        <details class="devices">
          <summary>{video ? t("check.devices") : t("check.devicesAudio")}</summary>
          <div class="stack">
            <DevicePickers
              devices={devices}
              video={video}
              speaker={canPickSpeaker}
              value={(kind) => prefs[DEVICE_PREF[kind]]}
              onChange={(kind, id) => update({ [DEVICE_PREF[kind]]: id })}
            />
          </div>
        </details>
      </div>
    </div>
  );
}
