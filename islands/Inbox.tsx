// On every page of a signed-in user: calls ringing them (Accept / Decline), and whether the
// real-time channel is up. Rings until answered, withdrawn or missed: a dialog that takes the
// keyboard, a ring once the page may make sound, and a system notification while the tab is
// in the background (where the person allowed them).
import { useEffect, useRef, useState } from "preact/hooks";
import type { InviteJson, LobbyJson } from "../protocol/api.ts";
import { api, ApiError, messageOf, signInAgain } from "./api.ts";
import { closeCallNotice, onNoticeAction, prepareNotices, showCallNotice } from "./notify.ts";
import { link, reconnectNow, subscribe } from "./realtime.ts";
import { soundAllowed, useSound } from "./sound.ts";
import { clockOf, t } from "../i18n/t.ts";

// A call is dropped here a little after its time is up, in case the "missed" news is lost.
const GRACE_MS = 5_000;

export function Inbox({ me }: { me?: string }) {
  const [calls, setCalls] = useState<(InviteJson & { until: number })[]>([]);
  // People waiting to enter meetings this user hosts or co-hosts, by meeting.
  const [lobbies, setLobbies] = useState<LobbyJson[]>([]);
  const [busy, setBusy] = useState<string | null>(null);
  const [problem, setProblem] = useState<{ id: string; text: string } | null>(null);
  const [, tick] = useState(0);

  useEffect(() => {
    const due = (i: InviteJson) => ({ ...i, until: Date.now() + i.expires_in * 1000 + GRACE_MS });
    return subscribe((m) => {
      if (m.type === "sync") {
        setCalls(m.invites.filter((i) => i.status === "pending").map(due));
        setLobbies(m.lobbies ?? []);
      } else if (m.type === "lobby") {
        setLobbies((list) => [
          ...list.filter((l) => l.room_id !== m.lobby.room_id),
          ...(m.lobby.waiting.length > 0 ? [m.lobby] : []),
        ]);
      } else if (m.type === "room_updated") {
        // No longer a host or co-host there: their lobby is not this user's to answer.
        const mine = m.room.participants.find((p) => p.id === me);
        if (m.room.status === "ended" || (mine?.role !== "host" && mine?.role !== "cohost")) {
          setLobbies((list) => list.filter((l) => l.room_id !== m.room_id));
        }
      } else if (m.type === "invite") {
        setCalls((list) =>
          list.some((i) => i.id === m.invite.id) ? list : [...list, due(m.invite)]
        );
        if (document.visibilityState === "hidden") showCallNotice(m.invite);
      } else if (m.type === "invite_answered" || m.type === "invite_cancelled") {
        setCalls((list) => list.filter((i) => i.id !== m.invite_id));
        closeCallNotice(m.invite_id);
      }
    });
  }, []);

  // Accept or Decline pressed on the system notification (this tab does it).
  const callsRef = useRef(calls);
  callsRef.current = calls;
  useEffect(() =>
    onNoticeAction((action, inviteId) => {
      const call = callsRef.current.find((c) => c.id === inviteId);
      if (call) answer(call, action);
    }), []);

  // Once a second: drop calls whose time is up, and redraw the offline countdown.
  useEffect(() => {
    const timer = setInterval(() => {
      setCalls((list) => {
        const left = list.filter((i) => i.until > Date.now());
        return left.length === list.length ? list : left;
      });
      tick((n) => n + 1);
    }, 1000);
    return () => clearInterval(timer);
  }, []);

  const sound = useSound();
  useEffect(prepareNotices, []);
  useRinging(calls.length > 0);

  async function answer(call: InviteJson, how: "accept" | "decline") {
    closeCallNotice(call.id);
    setBusy(call.id);
    setProblem(null);
    try {
      await api("POST", `/api/invites/${call.id}/${how}`);
      if (how === "accept") {
        location.assign(`/meeting/room?room=${encodeURIComponent(call.room_id)}`);
        return;
      }
      setCalls((list) => list.filter((i) => i.id !== call.id));
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return signInAgain();
      setProblem({ id: call.id, text: messageOf(err) });
      // The call is over (missed, withdrawn, ended): show why, then let it go.
      if (err instanceof ApiError && (err.status === 409 || err.status === 410)) {
        setTimeout(() => setCalls((list) => list.filter((i) => i.id !== call.id)), 4000);
      }
    } finally {
      setBusy(null);
    }
  }

  const state = link.value;
  return (
    <div class="inbox">
      {lobbies.map((lobby) => <LobbyAlert key={lobby.room_id} lobby={lobby} />)}
      {state.state === "offline" && (
        <p class="banner offline" role="status">
          {t("inbox.offline", {
            n: Math.max(0, Math.ceil((state.retryAt - Date.now()) / 1000)),
          })} <button type="button" class="link" onClick={reconnectNow}>{t("inbox.retry")}</button>
        </p>
      )}
      {state.state === "signed_out" && (
        <p class="banner offline" role="alert">
          {t("inbox.signedOut")}{" "}
          <button type="button" class="link" onClick={signInAgain}>{t("title.login")}</button>
        </p>
      )}
      {calls.map((call) => (
        <IncomingCall
          key={call.id}
          call={call}
          busy={busy === call.id}
          problem={problem?.id === call.id ? problem.text : ""}
          sound={sound}
          onAnswer={(how) => answer(call, how)}
        />
      ))}
    </div>
  );
}

/**
 * One ringing call, as a modal dialog: it takes the focus (on Accept) and keeps it, Tab
 * cycling through its buttons; Escape declines; when it goes, the focus returns where it was.
 */
function IncomingCall(
  { call, busy, problem, sound, onAnswer }: {
    call: InviteJson & { until: number };
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

/** "Name wants to join": Admit or Deny each, or Admit all when several wait. */
function LobbyAlert({ lobby }: { lobby: LobbyJson }) {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState("");
  const base = `/api/livekit/rooms/${lobby.room_id}/knocks`;
  async function act(path: string) {
    setBusy(true);
    setProblem("");
    try {
      await api("POST", `${base}/${path}`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return signInAgain();
      setProblem(messageOf(err));
    } finally {
      setBusy(false);
    }
  }
  const [first] = lobby.waiting;
  const many = lobby.waiting.length > 1;
  const who = (k: LobbyJson["waiting"][number]) =>
    k.guest ? t("common.guest", { name: k.display_name }) : k.display_name;
  return (
    <section
      class="incoming lobby-alert card"
      role="alertdialog"
      aria-labelledby={`lobby-${lobby.room_id}`}
      data-lobby={lobby.room_id}
    >
      <h2 id={`lobby-${lobby.room_id}`}>
        {many
          ? t("inbox.knocks", { n: lobby.waiting.length })
          : t("inbox.knock", { name: who(first) })}
      </h2>
      <p>
        <strong>{lobby.room_name}</strong>
      </p>
      {problem && <p class="status error" role="alert">{problem}</p>}
      <ul class="waiting">
        {lobby.waiting.map((k) => (
          <li key={k.id} class="row spread" data-knock={k.id}>
            <span>{who(k)}</span>
            <span class="row">
              {(["admit", "deny"] as const).map((how) => (
                <button
                  type="button"
                  key={how}
                  class={how === "admit" ? "primary" : undefined}
                  disabled={busy}
                  onClick={() => act(`${k.id}/${how}`)}
                  aria-label={how === "admit"
                    ? t("inbox.admitNamed", { name: who(k) })
                    : t("inbox.denyNamed", { name: who(k) })}
                >
                  {how === "admit" ? t("inbox.admit") : t("inbox.deny")}
                </button>
              ))}
            </span>
          </li>
        ))}
      </ul>
      {many && (
        <button
          type="button"
          class="primary"
          disabled={busy}
          onClick={() => act("admit-all")}
        >
          {t("inbox.admitAll", { n: lobby.waiting.length })}
        </button>
      )}
    </section>
  );
}

/** A soft two-tone ring while a call waits, once the browser lets the page make sound. */
function useRinging(on: boolean) {
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
