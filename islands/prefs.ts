// Media choices remembered between the pre-join page and the call, in this browser only.
import type { CallType } from "../protocol/api.ts";
import { t } from "../i18n/t.ts";

/** How the call is laid out: everyone alike, or the active speaker large. */
export type Layout = "grid" | "speaker";
/** What this browser receives: as the network allows, the low layer, or no video at all. */
export type DataSaver = "auto" | "low" | "audio";

export interface MediaPrefs {
  call_type: CallType;
  mic_on: boolean;
  cam_on: boolean;
  camera_id?: string;
  mic_id?: string;
  speaker_id?: string;
  /** Go straight into calls with these choices, without the device check. */
  remember: boolean;
  layout: Layout;
  saver: DataSaver;
  /** One's own tile in the call. */
  self_view: boolean;
}

/** Where each kind of device's choice is kept. */
export const DEVICE_PREF = {
  videoinput: "camera_id",
  audioinput: "mic_id",
  audiooutput: "speaker_id",
} as const;

const KEY = "urbania.media";
export const DEFAULT_PREFS: MediaPrefs = {
  call_type: "video",
  mic_on: true,
  cam_on: true,
  remember: false,
  layout: "grid",
  saver: "auto",
  self_view: true,
};

export function loadPrefs(): MediaPrefs {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) ?? "{}");
    const prefs = { ...DEFAULT_PREFS };
    if (saved.call_type === "audio" || saved.call_type === "video") {
      prefs.call_type = saved.call_type;
    }
    if (typeof saved.mic_on === "boolean") prefs.mic_on = saved.mic_on;
    if (typeof saved.cam_on === "boolean") prefs.cam_on = saved.cam_on;
    if (typeof saved.remember === "boolean") prefs.remember = saved.remember;
    if (typeof saved.self_view === "boolean") prefs.self_view = saved.self_view;
    if (saved.layout === "grid" || saved.layout === "speaker") prefs.layout = saved.layout;
    if (["auto", "low", "audio"].includes(saved.saver)) prefs.saver = saved.saver;
    for (const k of Object.values(DEVICE_PREF)) {
      if (typeof saved[k] === "string" && saved[k].length < 512) prefs[k] = saved[k];
    }
    return prefs;
  } catch {
    return { ...DEFAULT_PREFS };
  }
}

export function savePrefs(prefs: MediaPrefs): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(prefs));
  } catch {
    // Private mode or a full storage: the choices are simply not remembered.
  }
}

/** Remembers one change to the saved choices. */
export function updatePrefs(change: Partial<MediaPrefs>): MediaPrefs {
  const next = { ...loadPrefs(), ...change };
  savePrefs(next);
  return next;
}

/**
 * A message for a getUserMedia failure that tells the user what to do, naming the device when
 * only one was asked for.
 */
export function mediaErrorMessage(err: unknown, device?: "mic" | "camera"): string {
  const name = (err as { name?: string })?.name;
  const mic = device === "mic", cam = device === "camera";
  if (name === "NotAllowedError" || name === "SecurityError") {
    return t(mic ? "media.denied.mic" : cam ? "media.denied.camera" : "media.denied.both");
  }
  if (name === "NotFoundError" || name === "OverconstrainedError") {
    return t(mic ? "media.missing.mic" : cam ? "media.missing.camera" : "media.missing.both");
  }
  if (name === "NotReadableError") {
    return t(mic ? "media.busy.mic" : cam ? "media.busy.camera" : "media.busy.both");
  }
  return t(mic ? "media.failed.mic" : cam ? "media.failed.camera" : "media.failed.both");
}

const CHECKED = "urbania.checked.";

/** This tab has checked its devices for this meeting (pre-join, or the room page's check). */
export function checkedFor(room: string): boolean {
  try {
    return sessionStorage.getItem(CHECKED + room) === "1";
  } catch {
    return false;
  }
}

export function markChecked(room: string): void {
  try {
    sessionStorage.setItem(CHECKED + room, "1");
  } catch {
    // Not remembered: the check shows again on the next visit.
  }
}
