// The dashboard's meetings: calls missed, meetings live or waiting, and the history.
import type { RoomJson } from "../../protocol/api.ts";
import { People } from "../People.tsx";
import { CopyLink, type Status } from "../ui.tsx";
import { dateTimeOf, t } from "../../i18n/t.ts";
import type { DashboardState } from "./state.ts";

export function MissedCalls({ state: s }: { state: DashboardState }) {
  const missed = s.missed.value;
  const rooms = s.rooms.value;
  const busy = s.busy.value;
  if (missed.length === 0) return null;
  return (
    <section class="card missed" aria-labelledby="missed-title">
      <h2 id="missed-title">{t("dash.missed")}</h2>
      <ul class="missed-calls">
        {missed.map((call) => {
          const room = rooms.find((r) => r.id === call.room_id);
          return (
            <li key={call.id} data-invite={call.id} class="row spread">
              <span>
                <strong>{call.from.display_name}</strong>
                {t("dash.calledYou", {
                  name: call.room_name,
                  kind: call.call_type === "video" ? t("common.video") : t("common.audio"),
                })}
                {" · "}
                <time dateTime={call.created_at}>{dateTimeOf(call.created_at)}</time>
              </span>
              <span class="row">
                {room && room.status !== "ended" && (
                  <a class="button" href={`/meeting/room?room=${call.room_id}`}>
                    {t("common.join")}
                    <span class="sr-only">{` ${call.room_name}`}</span>
                  </a>
                )}
                <button
                  type="button"
                  class="primary"
                  disabled={busy === `missed:${call.id}`}
                  onClick={() => s.callBack(call)}
                >
                  {t("dash.callBack")}
                  <span class="sr-only">{` ${call.from.display_name}`}</span>
                </button>
                <button
                  type="button"
                  class="link"
                  disabled={busy === `missed:${call.id}`}
                  onClick={() => s.dismiss(call)}
                >
                  {t("common.dismiss")}
                  <span class="sr-only">
                    {` ${t("dash.missedFrom", { name: call.from.display_name })}`}
                  </span>
                </button>
              </span>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

export function LiveMeetings(
  { state: s, status, onEnd }: { state: DashboardState; status: Status; onEnd(r: RoomJson): void },
) {
  const live = s.live();
  const me = s.user.id;
  return (
    <section class="card" aria-labelledby="meetings-title">
      <div class="row spread">
        <h2 id="meetings-title">{t("dash.meetings")}</h2>
        <a class="button primary" href="/meeting/pre-join">{t("nav.new")}</a>
      </div>
      {live.length === 0
        ? <p class="muted">{s.history().length === 0 ? t("dash.none") : t("dash.noneLive")}</p>
        : (
          <ul class="rooms">
            {live.map((room) => {
              const isHost = room.created_by.id === me;
              return (
                <li class="room" key={room.id} data-room={room.id}>
                  <div class="room-head">
                    <strong class="room-title">{room.room_name}</strong>
                    <CallBadge type={room.call_type} />
                    <span class={`badge status-${room.status}`}>{statusLabel(room.status)}</span>
                  </div>
                  <p class="muted small">
                    {isHost
                      ? t("dash.youHost")
                      : t("dash.host", { name: room.created_by.display_name })}
                    {" · "}
                    {room.in_call_count === 0
                      ? t("dash.nobodyIn")
                      : t("dash.inCall", { n: room.in_call_count })}
                  </p>
                  <People room={room} me={me} status={status} onRoom={(r) => s.upsert(r)} />
                  <div class="row">
                    <a class="button" href={`/meeting/room?room=${room.id}`}>
                      {t("common.join")}
                      <span class="sr-only">{` ${room.room_name}`}</span>
                    </a>
                    <CopyLink url={room.invite_url} label={room.room_name} status={status} />
                    {isHost && (
                      <button
                        type="button"
                        class="danger"
                        disabled={s.busy.value === `end:${room.id}`}
                        onClick={() => onEnd(room)}
                      >
                        {t("common.endForAll")}
                        <span class="sr-only">{` (${room.room_name})`}</span>
                      </button>
                    )}
                  </div>
                </li>
              );
            })}
          </ul>
        )}
    </section>
  );
}

export function History(
  { state: s, onClear }: { state: DashboardState; onClear(count: number): void },
) {
  const history = s.history();
  if (history.length === 0) return null;
  return (
    <section class="card history" aria-labelledby="history-title">
      <div class="row spread">
        <h2 id="history-title">{t("dash.history")}</h2>
        <button
          type="button"
          class="link"
          disabled={s.busy.value === "clear"}
          onClick={() => onClear(history.length)}
        >
          {t("dash.clearHistory")}
        </button>
      </div>
      <ul class="rooms">
        {history.map((room) => (
          <li class="room ended row spread" key={room.id} data-room={room.id}>
            <span>
              <strong class="room-title">{room.room_name}</strong>{" "}
              <span class="muted small">
                {room.created_by.id === s.user.id
                  ? t("dash.youHosted")
                  : t("dash.host", { name: room.created_by.display_name })}
                {" · "}
                <time dateTime={room.created_at}>{dateTimeOf(room.created_at)}</time>
              </span>
            </span>
            <CallBadge type={room.call_type} />
          </li>
        ))}
      </ul>
    </section>
  );
}

function CallBadge({ type }: { type: RoomJson["call_type"] }) {
  return (
    <span class={`badge ${type}`}>{type === "video" ? t("common.video") : t("common.audio")}</span>
  );
}

function statusLabel(status: RoomJson["status"]): string {
  return status === "waiting"
    ? t("common.status.waiting")
    : status === "active"
    ? t("common.status.active")
    : t("common.status.ended");
}
