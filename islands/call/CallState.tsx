// What the call page says when there is no call on screen: connecting, a media server that
// cannot be reached, an ended meeting, a removal, having left.

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

const TEXT: Record<Phase, string> = {
  connecting: "",
  connected: "",
  reconnecting: "",
  unreachable:
    "The media server cannot be reached. The meeting is still open: check your connection and try again, or ask the administrator whether LiveKit is running.",
  ended: "This meeting has ended.",
  removed: "The host removed you from this meeting.",
  left: "You left the meeting.",
  disconnected: "You were disconnected from the meeting.",
  unavailable: "This meeting cannot be joined.",
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
  const home = member ? <a class="button" href="/dashboard">Back to the dashboard</a> : null;
  const invite = `/meeting/invite?room=${encodeURIComponent(roomId)}`;
  const text = phase === "connecting"
    ? `Connecting to “${title}”…`
    : phase === "unavailable"
    ? problem || TEXT.unavailable
    : TEXT[phase];
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
            {phase === "left" ? "Rejoin" : "Try again"}
          </button>
        )}
        {canLeave && <button type="button" class="danger" onClick={onLeave}>Leave</button>}
        {phase === "unavailable" && <a class="button" href={invite}>Open the invitation</a>}
        {home}
      </div>
    </section>
  );
}
