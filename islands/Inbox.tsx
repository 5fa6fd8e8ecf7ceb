// On every page of a signed-in user: calls ringing them (Accept / Decline), and whether the
// real-time channel is up. Rings until answered, withdrawn or missed: a dialog that takes the
// keyboard, a ring once the page may make sound, and a system notification while the tab is
// in the background (where the person allowed them). The state lives in inbox/state.ts.
import { useEffect, useState } from "preact/hooks";
import { signInAgain } from "./api.ts";
import { onNoticeAction, prepareNotices } from "./notify.ts";
import { link, reconnectNow } from "./realtime.ts";
import { useSound } from "./sound.ts";
import { IncomingCall, useRinging } from "./inbox/IncomingCall.tsx";
import { LobbyAlert } from "./inbox/LobbyAlert.tsx";
import { InboxState, meetingHere } from "./inbox/state.ts";
import { t } from "../i18n/t.ts";

export function Inbox({ me }: { me?: string }) {
  const [inbox] = useState(() => new InboxState(me));
  const [, tick] = useState(0);
  useEffect(() => inbox.follow(), []);
  useEffect(() => onNoticeAction((action, id) => inbox.answerById(id, action)), []);

  // Once a second: drop calls whose time is up, and redraw the offline countdown.
  useEffect(() => {
    const timer = setInterval(() => {
      inbox.expire();
      tick((n) => n + 1);
    }, 1000);
    return () => clearInterval(timer);
  }, []);

  // A call into the meeting this page is for shows on the page itself (meetingHere).
  const here = meetingHere.value;
  const calls = inbox.calls.value.filter((c) => c.room_id !== here);
  const busy = inbox.busy.value;
  const problem = inbox.problem.value;
  const sound = useSound();
  useEffect(prepareNotices, []);
  useRinging(calls.length > 0);

  const state = link.value;
  return (
    <div class="inbox">
      {inbox.lobbies.value.map((lobby) => <LobbyAlert key={lobby.room_id} lobby={lobby} />)}
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
          onAnswer={(how) => inbox.answer(call, how)}
        />
      ))}
    </div>
  );
}
