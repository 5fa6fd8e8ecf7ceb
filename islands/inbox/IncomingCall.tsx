// One ringing call as a modal dialog, and the ring it makes.
import { useEffect, useRef } from "preact/hooks";
import { soundAllowed } from "../sound.ts";
import { clockOf, t } from "../../i18n/t.ts";
import { GRACE_MS, type Ringing } from "./state.ts";

/**
 * One ringing call, as a modal dialog: it takes the focus (on Accept) and keeps it, Tab
 * cycling through its buttons; Escape declines; when it goes, the focus returns where it was.
 */
export function IncomingCall(
  { call, busy, problem, sound, onAnswer }: {
    call: Ringing;
    busy: boolean;
    problem: string;
    sound: boolean;
    onAnswer(how: "accept" | "decline"): void;
  },
) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const el = dialog.current!;
    const before = document.activeElement as HTMLElement | null;
    el.showModal();
    el.querySelector<HTMLElement>("[data-answer=accept]")?.focus();
    return () => {
      el.close();
      if (before?.isConnected) before.focus();
    };
  }, []);

  function keys(e: KeyboardEvent) {
    if (e.key === "Escape") {
      e.preventDefault();
      if (!busy) onAnswer("decline");
      return;
    }
    if (e.key !== "Tab") return;
    const items = [...dialog.current!.querySelectorAll<HTMLElement>("button:not([disabled])")];
    if (items.length === 0) return e.preventDefault();
    const at = items.indexOf(document.activeElement as HTMLElement);
    const next = e.shiftKey ? (at <= 0 ? items.length - 1 : at - 1) : (at + 1) % items.length;
    e.preventDefault();
    items[next].focus();
  }

  const left = Math.max(0, (call.until - GRACE_MS - Date.now()) / 1000);
  return (
    <dialog
      ref={dialog}
      class="incoming card"
      role="alertdialog"
      aria-labelledby={`call-${call.id}`}
      aria-describedby={`call-${call.id}-what`}
      data-invite={call.id}
      data-sound={sound ? "on" : "off"}
      onKeyDown={keys}
      onCancel={(e) => e.preventDefault()}
    >
      <h2 id={`call-${call.id}`}>{t("inbox.calling", { name: call.from.display_name })}</h2>
      <p id={`call-${call.id}-what`}>
        <strong>{call.room_name}</strong>
        {` · ${call.call_type === "video" ? t("common.videoCall") : t("common.audioCall")}`}
      </p>
      <p class="muted small" data-left={Math.ceil(left)}>
        {t("inbox.left", { time: clockOf(left) })}
        {!sound && ` ${t("inbox.silent")}`}
      </p>
      {problem && <p class="status error" role="alert">{problem}</p>}
      <div class="row">
        <button
          type="button"
          class="primary"
          data-answer="accept"
          disabled={busy}
          onClick={() => onAnswer("accept")}
        >
          {t("common.accept")}
        </button>
        <button
          type="button"
          class="danger"
          data-answer="decline"
          disabled={busy}
          onClick={() => onAnswer("decline")}
        >
          {t("common.decline")}
        </button>
      </div>
    </dialog>
  );
}

/** A soft two-tone ring while a call waits, once the browser lets the page make sound. */
export function useRinging(on: boolean) {
  useEffect(() => {
    if (!on) return;
    const title = document.title;
    document.title = `${t("inbox.title")} · ${title}`;
    const ring = () => {
      try {
        const ctx = soundAllowed();
        if (!ctx) return;
        for (const [offset, freq] of [[0, 440], [0.45, 480]] as const) {
          const osc = ctx.createOscillator();
          const gain = ctx.createGain();
          osc.frequency.value = freq;
          gain.gain.setValueAtTime(0.08, ctx.currentTime + offset);
          gain.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + offset + 0.4);
          osc.connect(gain).connect(ctx.destination);
          osc.start(ctx.currentTime + offset);
          osc.stop(ctx.currentTime + offset + 0.4);
        }
      } catch {
        // No sound here: the prompt is still on screen.
      }
    };
    ring();
    const timer = setInterval(ring, 3000);
    return () => {
      clearInterval(timer);
      document.title = title;
    };
  }, [on]);
}
