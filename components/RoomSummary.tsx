import { isMemberView, type RoomJson, type RoomSummaryJson } from "../protocol/api.ts";

/** A meeting as the invitation shows it: title, host, type, status and who is in the call. */
export function RoomSummary({ room }: { room: RoomJson | RoomSummaryJson }) {
  const inCall = isMemberView(room)
    ? room.participants.filter((p) => p.in_call).map((p) => p.display_name)
    : null;
  return (
    <>
      <p class="muted small">You are invited to</p>
      <h1 class="room-title">{room.room_name}</h1>
      <dl class="facts">
        <dt>Host</dt>
        <dd>{room.created_by.display_name}</dd>
        <dt>Type</dt>
        <dd>{room.call_type === "video" ? "Video call" : "Audio call"}</dd>
        <dt>Status</dt>
        <dd data-status={room.status}>
          {room.status === "waiting"
            ? "Waiting"
            : room.status === "active"
            ? "In progress"
            : "Ended"}
        </dd>
        <dt>In the call</dt>
        <dd data-in-call={room.in_call_count}>
          {room.in_call_count === 0
            ? "Nobody yet"
            : inCall
            ? inCall.join(", ")
            : `${room.in_call_count} ${room.in_call_count === 1 ? "person" : "people"}`}
        </dd>
      </dl>
    </>
  );
}
