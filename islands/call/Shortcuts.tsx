// Keyboard shortcuts in the call, their help dialog, and push-to-talk: holding Space while
// muted opens the microphone until Space is released. Keys typed into a field, and keys held
// with Ctrl, Alt or Meta (the browser's own shortcuts), are left alone.
import { Fragment } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { useModal } from "../ui.tsx";
import { type Key, t } from "../../i18n/t.ts";

export type Action = "mic" | "camera" | "chat" | "people" | "hand" | "leave" | "help";

/** Key (as KeyboardEvent.key) → action; shown in this order in the help dialog. */
export const SHORTCUTS: [key: string, shown: string, action: Action, text: Key][] = [
  ["m", "M", "mic", "keys.mic"],
  ["v", "V", "camera", "keys.camera"],
  ["c", "C", "chat", "keys.chat"],
  ["p", "P", "people", "keys.people"],
  ["h", "H", "hand", "keys.hand"],
  ["L", "Shift + L", "leave", "keys.leave"],
  ["?", "?", "help", "keys.help"],
];

/** Keys typed here belong to the field, not to the call. */
function typing(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el?.closest?.("input, textarea, select, [contenteditable]");
}

export function useShortcuts(
  { run, micOn, setMic }: {
    run(action: Action): void;
    micOn: boolean;
    /** Push-to-talk: opens (true) or closes the microphone. */
    setMic(on: boolean): void;
  },
) {
  // Push-to-talk in progress: held in a ref for the key handlers, shown from state.
  const held = useRef(false);
  const [talking, setTalking] = useState(false);
  const state = useRef({ run, micOn, setMic });
  state.current = { run, micOn, setMic };
  useEffect(() => {
    const down = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
      if (e.key === " ") {
        // Space on a button presses it; elsewhere it is push-to-talk while muted.
        if ((e.target as HTMLElement)?.closest?.("button, a, summary")) return;
        e.preventDefault();
        if (e.repeat || held.current || state.current.micOn) return;
        held.current = true;
        setTalking(true);
        state.current.setMic(true);
        return;
      }
      const shortcut = SHORTCUTS.find(([key]) => key === e.key);
      if (!shortcut || e.repeat) return;
      e.preventDefault();
      state.current.run(shortcut[2]);
    };
    const release = () => {
      if (!held.current) return;
      held.current = false;
      setTalking(false);
      state.current.setMic(false);
    };
    const up = (e: KeyboardEvent) => {
      if (e.key === " ") release();
    };
    addEventListener("keydown", down);
    addEventListener("keyup", up);
    addEventListener("blur", release);
    return () => {
      removeEventListener("keydown", down);
      removeEventListener("keyup", up);
      removeEventListener("blur", release);
    };
  }, []);
  return talking;
}

/** The list of shortcuts, in a modal dialog. */
export function ShortcutHelp({ onClose }: { onClose(): void }) {
  const dialog = useModal();
  return (
    <dialog ref={dialog} class="card help" aria-labelledby="help-title" onClose={onClose}>
      <h2 id="help-title">{t("keys.title")}</h2>
      <dl class="facts">
        {SHORTCUTS.map(([key, shown, , text]) => (
          <Fragment key={key}>
            <dt>
              <kbd>{shown}</kbd>
            </dt>
            <dd>{t(text)}</dd>
          </Fragment>
        ))}
        <dt>
          <kbd>{t("keys.space")}</kbd> {t("keys.hold")}
        </dt>
        <dd>{t("keys.talk")}</dd>
      </dl>
      <form method="dialog" class="row">
        <button type="submit" class="primary">{t("common.close")}</button>
      </form>
    </dialog>
  );
}
