// Media choices remembered between the pre-join page and the call, in this browser only.
import type { CallType } from "../protocol/api.ts";

export interface MediaPrefs {
  call_type: CallType;
  mic_on: boolean;
  cam_on: boolean;
  camera_id?: string;
  mic_id?: string;
  speaker_id?: string;
}

const KEY = "urbania.media";
export const DEFAULT_PREFS: MediaPrefs = { call_type: "video", mic_on: true, cam_on: true };

export function loadPrefs(): MediaPrefs {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) ?? "{}");
    const prefs = { ...DEFAULT_PREFS };
    if (saved.call_type === "audio" || saved.call_type === "video") {
      prefs.call_type = saved.call_type;
    }
    if (typeof saved.mic_on === "boolean") prefs.mic_on = saved.mic_on;
    if (typeof saved.cam_on === "boolean") prefs.cam_on = saved.cam_on;
    for (const k of ["camera_id", "mic_id", "speaker_id"] as const) {
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
  const what = device === "mic"
    ? "microphone"
    : device === "camera"
    ? "camera"
    : "camera or microphone";
  const The = what[0].toUpperCase() + what.slice(1);
  if (name === "NotAllowedError" || name === "SecurityError") {
    return `${The} access was denied. Allow it in your browser's site settings to be ${
      device === "mic" ? "heard" : device === "camera" ? "seen" : "seen and heard"
    }; you can still join.`;
  }
  if (name === "NotFoundError" || name === "OverconstrainedError") {
    return `No ${what} was found. Connect one, or join without it.`;
  }
  if (name === "NotReadableError") {
    return `The ${what} is in use by another program.`;
  }
  return `The ${what} could not be started.`;
}
