// Small pieces the islands share: a status line read out to screen readers, copy-to-clipboard.
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { t } from "../i18n/t.ts";

export interface Status {
  message: string;
  kind: "info" | "error";
  info(message: string): void;
  error(message: string): void;
  clear(): void;
}

/** How long news stays up; errors stay longer, and can be dismissed. */
const SHOWN_MS = { info: 6_000, error: 15_000 };
/** Tells each message from the one before, even when their words are the same. */
let shown = 0;

export function useStatus(): Status {
  const [state, setState] = useState<{ message: string; kind: "info" | "error"; at: number }>({
    message: "",
    kind: "info",
    at: 0,
  });
  // Transient: each message clears itself (a newer one restarts the clock).
  useEffect(() => {
    if (!state.message) return;
    const timer = setTimeout(
      () => setState((s) => (s.at === state.at ? { ...s, message: "" } : s)),
      SHOWN_MS[state.kind],
    );
    return () => clearTimeout(timer);
  }, [state.at]);
  return {
    message: state.message,
    kind: state.kind,
    info: (message) => setState({ message, kind: "info", at: ++shown }),
    error: (message) => setState({ message, kind: "error", at: ++shown }),
    clear: () => setState((s) => ({ ...s, message: "" })),
  };
}

/**
 * Where an island says what happened; polite for news, assertive for errors. It floats over
 * the page (a toast), so a message never moves what the pointer is on.
 */
export function StatusLine({ status }: { status: Status }) {
  return (
    <div class="toast-slot">
      <p
        class={`status toast ${status.kind}`}
        role={status.kind === "error" ? "alert" : "status"}
        aria-live={status.kind === "error" ? "assertive" : "polite"}
        hidden={!status.message}
      >
        <span>{status.message}</span>
        {status.message && (
          <button
            type="button"
            class="link"
            onClick={status.clear}
            aria-label={t("common.dismiss")}
          >
            ×
          </button>
        )}
      </p>
    </div>
  );
}

/** One choice among a few, as radio buttons in a fieldset. */
export function Choices<T extends string>(
  { legend, name, options, value, onChange, hideLegend, class: cls }: {
    legend: string;
    name: string;
    options: readonly (readonly [T, string])[];
    value: T;
    onChange(value: T): void;
    /** The legend for assistive technology only (the choices speak for themselves). */
    hideLegend?: boolean;
    class?: string;
  },
) {
  return (
    <fieldset class={cls}>
      <legend class={hideLegend ? "sr-only" : undefined}>{legend}</legend>
      {options.map(([option, text]) => (
        <label class="choice" key={option}>
          <input
            type="radio"
            name={name}
            value={option}
            checked={value === option}
            onChange={() => onChange(option)}
          />
          {text}
        </label>
      ))}
    </fieldset>
  );
}

/** A checkbox with its label. */
export function Checkbox(
  { checked, onChange, name, class: cls, children }: {
    checked: boolean;
    onChange(checked: boolean): void;
    name?: string;
    class?: string;
    children: ComponentChildren;
  },
) {
  return (
    <label class={`choice ${cls ?? ""}`}>
      <input
        type="checkbox"
        name={name}
        checked={checked}
        onChange={() => onChange(!checked)}
      />
      {children}
    </label>
  );
}

/** Ending a meeting for everyone, asked once more (the dashboard and the call page). */
export function ConfirmEndForAll(
  { title, onConfirm, onCancel }: { title: string; onConfirm(): void; onCancel(): void },
) {
  return (
    <Confirm
      title={t("ui.endAsk", { name: title })}
      confirm={t("common.endForAll")}
      onConfirm={onConfirm}
      onCancel={onCancel}
    >
      <p>{t("ui.endWhat")}</p>
    </Confirm>
  );
}

/** Up to two initials of a name, for an avatar. */
export function initials(name: string): string {
  return name.split(/\s+/).filter(Boolean).slice(0, 2).map((w) => w[0]!.toUpperCase()).join("");
}

/** A `<dialog>` shown modal as soon as it is drawn (focus moves into it; Escape closes it). */
export function useModal() {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    dialog.current?.showModal();
  }, []);
  return dialog;
}

/** Asks once more before something that cannot be undone (a modal dialog). */
export function Confirm(
  { title, children, confirm, onConfirm, onCancel }: {
    title: string;
    children?: ComponentChildren;
    /** The confirming button's text: what it does. */
    confirm: string;
    onConfirm(): void;
    onCancel(): void;
  },
) {
  const dialog = useModal();
  return (
    <dialog
      ref={dialog}
      class="card confirm"
      aria-labelledby="confirm-title"
      onClose={() => dialog.current?.returnValue !== "yes" && onCancel()}
    >
      <h2 id="confirm-title">{title}</h2>
      {children}
      <form method="dialog" class="row">
        <button type="submit" value="yes" class="danger" onClick={onConfirm}>{confirm}</button>
        <button type="submit" value="no" autofocus>{t("common.cancel")}</button>
      </form>
    </dialog>
  );
}

/** Copies a meeting's invite link; falls back to selecting it where the clipboard is denied. */
export function CopyLink({ url, label, status }: { url: string; label: string; status: Status }) {
  const fallback = useRef<HTMLInputElement>(null);
  const [showFallback, setShowFallback] = useState(false);
  async function copy() {
    try {
      await navigator.clipboard.writeText(url);
      status.info(t("ui.copied"));
    } catch {
      setShowFallback(true);
      setTimeout(() => fallback.current?.select(), 0);
      status.info(t("ui.copySelected"));
    }
  }
  return (
    <>
      <button type="button" onClick={copy}>
        {t("ui.copyLink")}
        <span class="sr-only">{` ${t("ui.forName", { name: label })}`}</span>
      </button>
      {showFallback && (
        <input ref={fallback} readOnly value={url} aria-label={t("ui.linkFor", { name: label })} />
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
        {devices.length === 0 && <option value="">{t("common.default")}</option>}
        {devices.map((d, i) => (
          <option key={d.deviceId} value={d.deviceId}>{d.label || `${label} ${i + 1}`}</option>
        ))}
      </select>
    </label>
  );
}

export type DeviceLists = Record<MediaDeviceKind, MediaDeviceInfo[]>;

/** The camera (in a video call), microphone and speaker (where offered) pickers. */
export function DevicePickers(
  { devices, video, speaker, value, onChange }: {
    devices: DeviceLists;
    video: boolean;
    /** The speaker can be picked here. */
    speaker: boolean;
    value(kind: MediaDeviceKind): string | undefined;
    onChange(kind: MediaDeviceKind, id: string): void;
  },
) {
  const picker = (kind: MediaDeviceKind, label: string) => (
    <DeviceSelect
      label={label}
      devices={devices[kind]}
      value={value(kind)}
      onChange={(id) => onChange(kind, id)}
    />
  );
  return (
    <>
      {video && picker("videoinput", t("device.camera"))}
      {picker("audioinput", t("device.microphone"))}
      {speaker && picker("audiooutput", t("device.speaker"))}
    </>
  );
}
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
