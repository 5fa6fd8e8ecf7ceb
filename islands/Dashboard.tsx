import { useEffect, useState } from "preact/hooks";
import type { RoomJson } from "../protocol/api.ts";
import { Contacts } from "./dashboard/Contacts.tsx";
import { History, LiveMeetings, MissedCalls } from "./dashboard/Meetings.tsx";
import { type DashboardData, DashboardState } from "./dashboard/state.ts";
import { NotifyOffer } from "./NotifyOffer.tsx";
import { Confirm, ConfirmEndForAll, StatusLine, useStatus } from "./ui.tsx";
import { t, tn } from "../i18n/t.ts";

export type DashboardProps = DashboardData;

/**
 * The signed-in home: my meetings and my contacts. The state lives in a DashboardState
 * (dashboard/state.ts); this draws it and asks before what cannot be undone.
 */
export function Dashboard(props: DashboardProps) {
  const status = useStatus();
  const [state] = useState(() =>
    new DashboardState(props, { info: status.info, error: status.error })
  );
  useEffect(() => state.follow(), []);
  // What waits for a second yes: ending a meeting for all, clearing the history.
  const [asking, setAsking] = useState<{ end: RoomJson } | { clear: number } | null>(null);

  return (
    <div class="dashboard">
      <StatusLine status={status} />
      <NotifyOffer />
      <MissedCalls state={state} />
      <LiveMeetings state={state} status={status} onEnd={(room) => setAsking({ end: room })} />
      <History state={state} onClear={(clear) => setAsking({ clear })} />
      {asking && "end" in asking && (
        <ConfirmEndForAll
          title={asking.end.room_name}
          onConfirm={() => {
            state.endMeeting(asking.end);
            setAsking(null);
          }}
          onCancel={() => setAsking(null)}
        />
      )}
      {asking && "clear" in asking && (
        <Confirm
          title={t("dash.clearAsk")}
          confirm={t("dash.clearHistory")}
          onConfirm={() => {
            state.clearHistory();
            setAsking(null);
          }}
          onCancel={() => setAsking(null)}
        >
          <p>{tn(asking.clear, "dash.clearWhat.one", "dash.clearWhat.other")}</p>
        </Confirm>
      )}
      <Contacts state={state} />
    </div>
  );
}
