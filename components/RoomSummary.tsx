import { isMemberView, type RoomJson, type RoomSummaryJson } from "../protocol/api.ts";
import { lang, t, tn } from "../i18n/t.ts";

/** A meeting as the invitation shows it: title, host, type, status and who is in the call. */
export function RoomSummary({ room }: { room: RoomJson | RoomSummaryJson }) {
  const inCall = isMemberView(room)
    ? room.participants.filter((p) => p.in_call).map((p) => p.display_name)
    : null;
  return (
    <>
      <p class="muted small">{t("summary.invited")}</p>
      <h1 class="room-title">{room.room_name}</h1>
      <dl class="facts">
        <dt>{t("tile.host")}</dt>
        <dd>{room.created_by.display_name}</dd>
        <dt>{t("summary.type")}</dt>
        <dd>{room.call_type === "video" ? t("common.videoCall") : t("common.audioCall")}</dd>
        <dt>{t("summary.status")}</dt>
        <dd data-status={room.status}>
          {room.status === "waiting"
            ? t("common.status.waiting")
            : room.status === "active"
            ? t("common.status.active")
            : t("common.status.ended")}
        </dd>
        <dt>{t("summary.inCall")}</dt>
        <dd data-in-call={room.in_call_count}>
          {room.in_call_count === 0
            ? t("summary.nobody")
            : inCall
            ? new Intl.ListFormat(lang(), { type: "conjunction" }).format(inCall)
            : tn(room.in_call_count, "summary.people.one", "summary.people.other")}
        </dd>
      </dl>
    </>
  );
}
