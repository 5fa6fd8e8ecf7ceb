// "More options": devices, how the call is laid out, what this browser receives (data saver),
// self-view, going straight in next time, full screen, picture-in-picture, the shortcuts, the
// invite link — and, on a phone, sharing the screen and ending the meeting for all.
import type { Room } from "livekit-client";
import { useEffect, useState } from "preact/hooks";
import type { DataSaver, Layout, MediaPrefs } from "../prefs.ts";
import {
  Checkbox,
  Choices,
  CopyLink,
  type DeviceLists,
  DevicePickers,
  listDevices,
  NO_DEVICES,
  type Status,
} from "../ui.tsx";

const LAYOUTS: [Layout, string][] = [["grid", "Grid"], ["speaker", "Speaker"]];
const SAVERS: [DataSaver, string][] = [
  ["auto", "Automatic"],
  ["low", "Low quality video"],
  ["audio", "Audio only"],
];

export interface SettingsProps {
  room: Room;
  video: boolean;
  prefs: MediaPrefs;
  update(change: Partial<MediaPrefs>): void;
  onDevice(kind: MediaDeviceKind, id: string): void;
  inviteUrl: string;
  title: string;
  status: Status;
  canShare: boolean;
  sharing: boolean;
  onShare(): void;
  host: boolean;
  onEndForAll(): void;
  pip: boolean;
  onPip?: () => void;
  onHelp(): void;
}

export function Settings(props: SettingsProps) {
  const { room, prefs, update } = props;
  const [devices, setDevices] = useState<DeviceLists>(NO_DEVICES);
  const [full, setFull] = useState(!!document.fullscreenElement);
  useEffect(() => {
    listDevices().then(setDevices);
    const onFull = () => setFull(!!document.fullscreenElement);
    document.addEventListener("fullscreenchange", onFull);
    return () => document.removeEventListener("fullscreenchange", onFull);
  }, []);

  function fullScreen() {
    if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
    else {
      document.documentElement.requestFullscreen?.().catch(() =>
        props.status.error("This browser does not allow full screen here.")
      );
    }
  }

  return (
    <aside class="panel settings" aria-label="More options">
      <h2 class="small">More options</h2>
      <div class="row">
        {props.canShare && (
          <button type="button" class="narrow-only" onClick={props.onShare}>
            {props.sharing ? "Stop sharing" : "Share screen"}
          </button>
        )}
        {"requestFullscreen" in document.documentElement && (
          <button type="button" aria-pressed={full} onClick={fullScreen}>
            {full ? "Exit full screen" : "Full screen"}
          </button>
        )}
        {props.onPip && (
          <button type="button" aria-pressed={props.pip} onClick={props.onPip}>
            {props.pip ? "Close picture-in-picture" : "Picture-in-picture"}
          </button>
        )}
        <button type="button" onClick={props.onHelp}>Keyboard shortcuts</button>
        <CopyLink url={props.inviteUrl} label={props.title} status={props.status} />
      </div>
      <Choices
        legend="Layout"
        class="segmented"
        name="layout"
        options={LAYOUTS}
        value={prefs.layout}
        onChange={(layout) => update({ layout })}
      />
      <Choices
        legend="Data saver: what you receive"
        name="saver"
        options={SAVERS}
        value={prefs.saver}
        onChange={(saver) => update({ saver })}
      />
      <Checkbox checked={prefs.self_view} onChange={(self_view) => update({ self_view })}>
        Show my own video
      </Checkbox>
      <Checkbox checked={prefs.remember} onChange={(remember) => update({ remember })}>
        Skip the device check next time
      </Checkbox>
      <DevicePickers
        devices={devices}
        video={props.video}
        speaker={devices.audiooutput.length > 0}
        value={(kind) => room.getActiveDevice(kind)}
        onChange={props.onDevice}
      />
      {props.host && (
        <button type="button" class="danger narrow-only" onClick={props.onEndForAll}>
          End for all
        </button>
      )}
    </aside>
  );
}
