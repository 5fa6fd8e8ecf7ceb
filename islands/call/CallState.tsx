// What the call page says when there is no call on screen: connecting, a media server that
// cannot be reached, an ended meeting, a removal, having left.
import { type Key, t } from "../../i18n/t.ts";

export type Phase =
  | "connecting"
  | "connected"
  | "reconnecting"
  | "unreachable"
  | "ended"
  | "removed"
  | "left"
  | "disconnected"
  | "unavailable";

const TEXT: Record<Exclude<Phase, "connecting" | "connected" | "reconnecting">, Key> = {
  unreachable: "state.unreachable",
  ended: "state.ended",
  removed: "state.removed",
  left: "state.left",
  disconnected: "state.disconnected",
  unavailable: "state.unavailable",
};

export function CallState(
  { phase, problem, roomId, title, member, onRetry, onLeave }: {
    phase: Phase;
    problem: string;
    roomId: string;
    title: string;
    member: boolean;
    onRetry(): void;
    /** Leaves for good from a state that may still count as being in the meeting. */
    onLeave(): void;
  },
) {
  const home = member ? <a class="button" href="/dashboard">{t("state.home")}</a> : null;
  const invite = `/meeting/invite?room=${encodeURIComponent(roomId)}`;
  const text = phase === "connecting"
    ? t("state.connecting", { name: title })
    : phase === "unavailable"
    ? problem || t(TEXT.unavailable)
    : phase === "connected" || phase === "reconnecting"
    ? ""
    : t(TEXT[phase]);
  const canRetry = phase === "unreachable" || phase === "disconnected" || phase === "left";
  const canLeave = phase === "unreachable" || phase === "disconnected" ||
    phase === "connecting";
  return (
    <section class="card narrow call-state" data-phase={phase}>
      <h1 class="call-title">{title}</h1>
      <p role={phase === "connecting" ? "status" : "alert"} class="big-text">
        {phase === "connecting" && <span class="spinner" aria-hidden="true" />}
        {text}
      </p>
      <div class="row">
        {canRetry && (
          <button type="button" class="primary" onClick={onRetry}>
            {phase === "left" ? t("state.rejoin") : t("state.retry")}
          </button>
        )}
        {canLeave && (
          <button type="button" class="danger" onClick={onLeave}>{t("call.leave")}</button>
        )}
        {phase === "unavailable" && <a class="button" href={invite}>{t("state.invitation")}</a>}
        {home}
      </div>
    </section>
  );
}
