// On a meeting's own page, a call into that meeting is a line on the page, not a dialog over
// it: the page's own way in (Join now, Join) answers it, and every other tab stops ringing.
import { useEffect } from "preact/hooks";
import { t } from "../../i18n/t.ts";
import { meetingHere, ringingInto } from "./state.ts";

/** Marks this page as `roomId`'s own for as long as it is shown. */
export function useMeetingHere(roomId: string) {
  useEffect(() => {
    meetingHere.value = roomId;
    return () => {
      if (meetingHere.peek() === roomId) meetingHere.value = null;
    };
  }, [roomId]);
}

/** "Ada is calling you into this meeting", for each call ringing into it. */
export function RingingHere({ roomId }: { roomId: string }) {
  const calls = ringingInto(roomId);
  if (calls.length === 0) return null;
  return (
    <div class="ringing-here" role="status">
      {calls.map((call) => (
        <p key={call.id} data-invite={call.id}>
          {t("call.ringingHere", { name: call.from.display_name })}
        </p>
      ))}
    </div>
  );
}
