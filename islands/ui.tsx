// Small pieces the islands share: a status line read out to screen readers, copy-to-clipboard.
import { useRef, useState } from "preact/hooks";

export interface Status {
  message: string;
  kind: "info" | "error";
  info(message: string): void;
  error(message: string): void;
}

export function useStatus(): Status {
  const [state, setState] = useState<{ message: string; kind: "info" | "error" }>({
    message: "",
    kind: "info",
  });
  return {
    ...state,
    info: (message) => setState({ message, kind: "info" }),
    error: (message) => setState({ message, kind: "error" }),
  };
}

/** Where an island says what happened; polite for news, assertive for errors. */
export function StatusLine({ status }: { status: Status }) {
  return (
    <p
      class={`status ${status.kind}`}
      role={status.kind === "error" ? "alert" : "status"}
      aria-live={status.kind === "error" ? "assertive" : "polite"}
      hidden={!status.message}
    >
      {status.message}
    </p>
  );
}

/** Copies a meeting's invite link; falls back to selecting it where the clipboard is denied. */
export function CopyLink({ url, label, status }: { url: string; label: string; status: Status }) {
  const fallback = useRef<HTMLInputElement>(null);
  const [showFallback, setShowFallback] = useState(false);
  async function copy() {
    try {
      await navigator.clipboard.writeText(url);
      status.info("Invite link copied.");
    } catch {
      setShowFallback(true);
      setTimeout(() => fallback.current?.select(), 0);
      status.info("Copy the selected link.");
    }
  }
  return (
    <>
      <button type="button" onClick={copy}>
        Copy invite link<span class="sr-only">{` for ${label}`}</span>
      </button>
      {showFallback && (
        <input ref={fallback} readOnly value={url} aria-label={`Invite link for ${label}`} />
      )}
    </>
  );
}

/** A device picker; disabled until the browser has listed its devices. */
export function DeviceSelect(
  { label, devices, value, onChange }: {
    label: string;
    devices: MediaDeviceInfo[];
    value?: string;
    onChange(id: string): void;
  },
) {
  return (
    <label>
      {label}
      <select
        disabled={devices.length === 0}
        value={value ?? devices[0]?.deviceId ?? ""}
        onChange={(e) => onChange((e.target as HTMLSelectElement).value)}
      >
        {devices.length === 0 && <option value="">Default</option>}
        {devices.map((d, i) => (
          <option key={d.deviceId} value={d.deviceId}>{d.label || `${label} ${i + 1}`}</option>
        ))}
      </select>
    </label>
  );
}

export type DeviceLists = Record<MediaDeviceKind, MediaDeviceInfo[]>;
export const NO_DEVICES: DeviceLists = { videoinput: [], audioinput: [], audiooutput: [] };

/** The browser's cameras, microphones and speakers (labelled once access is granted). */
export async function listDevices(): Promise<DeviceLists> {
  const all = await navigator.mediaDevices.enumerateDevices().catch(() => []);
  return {
    videoinput: all.filter((d) => d.kind === "videoinput"),
    audioinput: all.filter((d) => d.kind === "audioinput"),
    audiooutput: all.filter((d) => d.kind === "audiooutput"),
  };
}
