import { useSignal } from "@preact/signals";
import { useEffect, useRef, useState } from "preact/hooks";
import type { CallType, ContactJson, EntryPolicy, RoomJson, UserJson } from "../protocol/api.ts";
import { api, ApiError, signInAgain } from "./api.ts";
import { ConnectionTest } from "./ConnectionTest.tsx";
import {
  DEFAULT_PREFS,
  loadPrefs,
  mediaErrorMessage,
  type MediaPrefs,
  savePrefs,
} from "./prefs.ts";
import {
  type DeviceLists,
  DeviceSelect,
  listDevices,
  NO_DEVICES,
  StatusLine,
  useStatus,
} from "./ui.tsx";

export interface PreJoinProps {
  user: UserJson;
  contacts: ContactJson[];
}

const canPickSpeaker = typeof HTMLMediaElement !== "undefined" &&
  "setSinkId" in HTMLMediaElement.prototype;

/** New meeting: name, type, invitees, and a check of camera and microphone before the call. */
export function PreJoin({ user, contacts }: PreJoinProps) {
  const [title, setTitle] = useState(`${user.display_name}'s meeting`);
  const [prefs, setPrefs] = useState<MediaPrefs>(DEFAULT_PREFS);
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [allowGuests, setAllowGuests] = useState(true);
  const [entry, setEntry] = useState<EntryPolicy>("knock");
  const [devices, setDevices] = useState<DeviceLists>(NO_DEVICES);
  const [mediaError, setMediaError] = useState("");
  const [starting, setStarting] = useState(false);
  const level = useSignal(0);
  const video = useRef<HTMLVideoElement>(null);
  const stream = useRef<MediaStream | null>(null);
  const requestKey = useRef<string | null>(null);
  const status = useStatus();

  useEffect(() => setPrefs(loadPrefs()), []);

  const update = (change: Partial<MediaPrefs>) =>
    setPrefs((p) => {
      const next = { ...p, ...change };
      savePrefs(next);
      return next;
    });

  // The preview: restarted when the call type or a chosen device changes.
  useEffect(() => {
    let stopped = false;
    let audioContext: AudioContext | null = null;
    let frame = 0;
    (async () => {
      try {
        const media = await navigator.mediaDevices.getUserMedia({
          audio: prefs.mic_id ? { deviceId: { ideal: prefs.mic_id } } : true,
          video: prefs.call_type === "video"
            ? (prefs.camera_id ? { deviceId: { ideal: prefs.camera_id } } : true)
            : false,
        });
        if (stopped) return media.getTracks().forEach((t) => t.stop());
        stream.current = media;
        setMediaError("");
        if (video.current) video.current.srcObject = media;
        applyMute(media, prefs);
        setDevices(await listDevices());
        // Microphone level: RMS of the waveform, about 30 times a second.
        audioContext = new AudioContext();
        const analyser = audioContext.createAnalyser();
        analyser.fftSize = 512;
        audioContext.createMediaStreamSource(media).connect(analyser);
        const samples = new Uint8Array(analyser.fftSize);
        const tick = () => {
          analyser.getByteTimeDomainData(samples);
          let sum = 0;
          for (const s of samples) sum += ((s - 128) / 128) ** 2;
          const track = media.getAudioTracks()[0];
          level.value = track?.enabled ? Math.min(1, Math.sqrt(sum / samples.length) * 4) : 0;
          frame = requestAnimationFrame(tick);
        };
        tick();
      } catch (err) {
        if (!stopped) setMediaError(mediaErrorMessage(err));
      }
    })();
    return () => {
      stopped = true;
      cancelAnimationFrame(frame);
      audioContext?.close();
      stream.current?.getTracks().forEach((t) => t.stop());
      stream.current = null;
    };
  }, [prefs.call_type, prefs.camera_id, prefs.mic_id]);

  useEffect(() => {
    if (stream.current) applyMute(stream.current, prefs);
  }, [prefs.mic_on, prefs.cam_on]);

  useEffect(() => {
    const el = video.current as
      | (HTMLVideoElement & { setSinkId?(id: string): Promise<void> })
      | null;
    if (canPickSpeaker && prefs.speaker_id) el?.setSinkId?.(prefs.speaker_id).catch(() => {});
  }, [prefs.speaker_id]);

  function toggle(id: string) {
    setChosen((set) => {
      const next = new Set(set);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  }

  async function start(event: Event) {
    event.preventDefault();
    if (!title.trim()) return status.error("Give the meeting a name.");
    setStarting(true);
    status.info("Starting the call…");
    try {
      // One key per meeting being started: pressing Start again after an error or a lost
      // answer gives back the meeting already created instead of ringing everyone twice.
      requestKey.current ??= crypto.randomUUID();
      const room = await api<RoomJson>("POST", "/api/livekit/rooms", {
        room_name: title.trim(),
        call_type: prefs.call_type,
        participants: [...chosen],
        allow_guests: allowGuests,
        entry,
      }, { "Idempotency-Key": requestKey.current });
      savePrefs(prefs);
      stream.current?.getTracks().forEach((t) => t.stop());
      location.assign(`/meeting/room?room=${encodeURIComponent(room.id)}`);
    } catch (err) {
      setStarting(false);
      if (err instanceof ApiError && err.status === 401) signInAgain();
      else status.error(err instanceof Error ? err.message : String(err));
    }
  }

  const isVideo = prefs.call_type === "video";
  return (
    <form class="prejoin" onSubmit={start}>
      <section class="card stack" aria-labelledby="setup-title">
        <h1 id="setup-title">New meeting</h1>
        <label>
          Meeting name
          <input
            name="room_name"
            required
            maxLength={100}
            value={title}
            onInput={(e) => setTitle((e.target as HTMLInputElement).value)}
          />
        </label>
        <fieldset>
          <legend>Call type</legend>
          {(["video", "audio"] as CallType[]).map((type) => (
            <label class="choice" key={type}>
              <input
                type="radio"
                name="call_type"
                value={type}
                checked={prefs.call_type === type}
                onChange={() => update({ call_type: type })}
              />
              {type === "video" ? "Video" : "Audio only"}
            </label>
          ))}
        </fieldset>
        <fieldset>
          <legend>Invite from your contacts</legend>
          {contacts.length === 0
            ? (
              <p class="muted small">
                No contacts yet: add some on the{" "}
                <a href="/dashboard">dashboard</a>, or share the invite link once the call starts.
              </p>
            )
            : contacts.map((c) => (
              <label class="choice" key={c.id}>
                <input
                  type="checkbox"
                  name="participants"
                  value={c.id}
                  checked={chosen.has(c.id)}
                  onChange={() => toggle(c.id)}
                />
                {c.display_name} <span class="muted small">{c.email}</span>
              </label>
            ))}
        </fieldset>
        <fieldset>
          <legend>Who can join with the link</legend>
          {([
            ["knock", "They ask, and a host lets them in"],
            ["open", "Anyone with the link, straight in"],
            ["invited", "Only the people I invite"],
          ] as [EntryPolicy, string][]).map(([value, text]) => (
            <label class="choice" key={value}>
              <input
                type="radio"
                name="entry"
                value={value}
                checked={entry === value}
                onChange={() => setEntry(value)}
              />
              {text}
            </label>
          ))}
        </fieldset>
        <label class="choice">
          <input
            type="checkbox"
            name="allow_guests"
            checked={allowGuests}
            onChange={() => setAllowGuests(!allowGuests)}
          />
          Let people without an account join with the link
        </label>
      </section>

      <section class="card stack" aria-labelledby="check-title">
        <h2 id="check-title">Camera and microphone</h2>
        {isVideo && (
          <video
            ref={video}
            class={`preview ${prefs.cam_on ? "" : "off"}`}
            autoplay
            muted
            playsInline
            aria-label="Camera preview"
          />
        )}
        {mediaError && <p class="error" role="alert">{mediaError}</p>}
        <label>
          Microphone level
          <meter class="level" min={0} max={1} low={0.1} high={0.8} value={level} />
        </label>
        <div class="row">
          <button
            type="button"
            aria-pressed={!prefs.mic_on}
            onClick={() => update({ mic_on: !prefs.mic_on })}
          >
            {prefs.mic_on ? "Mute microphone" : "Unmute microphone"}
          </button>
          {isVideo && (
            <button
              type="button"
              aria-pressed={!prefs.cam_on}
              onClick={() => update({ cam_on: !prefs.cam_on })}
            >
              {prefs.cam_on ? "Turn camera off" : "Turn camera on"}
            </button>
          )}
        </div>
        {isVideo && (
          <DeviceSelect
            label="Camera"
            devices={devices.videoinput}
            value={prefs.camera_id}
            onChange={(id) => update({ camera_id: id })}
          />
        )}
        <DeviceSelect
          label="Microphone"
          devices={devices.audioinput}
          value={prefs.mic_id}
          onChange={(id) => update({ mic_id: id })}
        />
        {canPickSpeaker && (
          <DeviceSelect
            label="Speaker"
            devices={devices.audiooutput}
            value={prefs.speaker_id}
            onChange={(id) => update({ speaker_id: id })}
          />
        )}
        <h3 class="small">Network</h3>
        <ConnectionTest compact />
      </section>

      <div class="actions">
        <StatusLine status={status} />
        <button type="submit" class="primary big" disabled={starting}>
          {starting ? "Starting…" : "Start call"}
        </button>
      </div>
    </form>
  );
}

function applyMute(media: MediaStream, prefs: MediaPrefs) {
  media.getAudioTracks().forEach((t) => (t.enabled = prefs.mic_on));
  media.getVideoTracks().forEach((t) => (t.enabled = prefs.cam_on));
}
