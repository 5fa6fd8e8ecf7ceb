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
import { type Key, t } from "../../i18n/t.ts";

const LAYOUTS: [Layout, Key][] = [["grid", "more.grid"], ["speaker", "more.speaker"]];
const SAVERS: [DataSaver, Key][] = [
  ["auto", "more.auto"],
  ["low", "more.low"],
  ["audio", "prejoin.audioOnly"],
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
        props.status.error(t("more.noFull"))
      );
    }
  }

  return (
    <aside class="panel settings" aria-labelledby="more-title">
      <h2 class="small" id="more-title">{t("call.more")}</h2>
      <div class="row">
        {props.canShare && (
          <button type="button" class="narrow-only" onClick={props.onShare}>
            {props.sharing ? t("call.shareStop") : t("call.share")}
          </button>
        )}
        {"requestFullscreen" in document.documentElement && (
          <button type="button" aria-pressed={full} onClick={fullScreen}>
            {full ? t("more.fullExit") : t("more.full")}
          </button>
        )}
        {props.onPip && (
          <button type="button" aria-pressed={props.pip} onClick={props.onPip}>
            {props.pip ? t("more.pipClose") : t("more.pip")}
          </button>
        )}
        <button type="button" onClick={props.onHelp}>{t("keys.title")}</button>
        <CopyLink url={props.inviteUrl} label={props.title} status={props.status} />
      </div>
      <Choices
        legend={t("more.layout")}
        class="segmented"
        name="layout"
        options={LAYOUTS.map(([v, k]) => [v, t(k)] as const)}
        value={prefs.layout}
        onChange={(layout) => update({ layout })}
      />
      <Choices
        legend={t("more.saver")}
        name="saver"
        options={SAVERS.map(([v, k]) => [v, t(k)] as const)}
        value={prefs.saver}
        onChange={(saver) => update({ saver })}
      />
      <Checkbox checked={prefs.self_view} onChange={(self_view) => update({ self_view })}>
        {t("more.selfView")}
      </Checkbox>
      <Checkbox checked={prefs.remember} onChange={(remember) => update({ remember })}>
        {t("more.skipCheck")}
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
          {t("common.endForAll")}
        </button>
      )}
    </aside>
  );
}
