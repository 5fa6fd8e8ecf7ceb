// Who belongs to a meeting and where each person is: in the call, being rung, declined, missed.
// The host can stop a ringing call, ring someone again, and ring more contacts.
import { useState } from "preact/hooks";
import type { ContactJson, ParticipantJson, RoomJson } from "../protocol/api.ts";
import { api, ApiError, messageOf, signInAgain } from "./api.ts";
import type { Status } from "./ui.tsx";
import { t, tn } from "../i18n/t.ts";

export function personState(p: ParticipantJson): [key: string, label: string] {
  if (p.in_call) return ["in-call", t("people.inCall")];
  switch (p.invite?.status) {
    case "pending":
      return ["ringing", t("people.ringing")];
    case "declined":
      return ["declined", t("people.declined")];
    case "missed":
      return ["missed", t("people.missed")];
    default:
      return ["away", t("people.away")];
  }
}

export function People(
  { room, me, status, onRoom }: {
    room: RoomJson;
    me: string;
    status: Status;
    /** The room as the server answered after a change (the socket also brings it). */
    onRoom(room: RoomJson): void;
  },
) {
  const isHost = room.created_by.id === me;
  const open = room.status !== "ended";
  const [busy, setBusy] = useState<string | null>(null);
  const [contacts, setContacts] = useState<ContactJson[] | null>(null);
  const [picked, setPicked] = useState<string[]>([]);

  async function run(key: string, work: () => Promise<void>) {
    setBusy(key);
    try {
      await work();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) signInAgain();
      else status.error(messageOf(err));
    } finally {
      setBusy(null);
    }
  }

  const ringPeople = (ids: string[]) =>
    run(`ring:${ids.join()}`, async () => {
      const res = await api<{ rung: number; room: RoomJson }>(
        "POST",
        `/api/livekit/rooms/${room.id}/invite`,
        { participants: ids },
      );
      onRoom(res.room);
      setPicked([]);
      setContacts(null);
      status.info(tn(res.rung, "people.calling.one", "people.calling.other"));
    });

  const setCohost = (p: ParticipantJson, cohost: boolean) =>
    run(`role:${p.id}`, async () => {
      onRoom(
        await api<RoomJson>(
          cohost ? "PUT" : "DELETE",
          `/api/livekit/rooms/${room.id}/cohosts/${p.id}`,
        ),
      );
      status.info(
        cohost
          ? t("people.nowCohost", { name: p.display_name })
          : t("people.noLongerCohost", { name: p.display_name }),
      );
    });

  const stopRinging = (p: ParticipantJson) =>
    run(`stop:${p.id}`, async () => {
      await api("POST", `/api/invites/${p.invite!.id}/cancel`);
      status.info(t("people.stopped", { name: p.display_name }));
    });

  const ringing = new Set(
    room.participants.filter((p) => p.in_call || p.invite?.status === "pending").map((p) => p.id),
  );
  const candidates = (contacts ?? []).filter((c) => !ringing.has(c.id));

  return (
    <div class="people-box">
      <ul class="people" aria-label={t("people.in", { name: room.room_name })}>
        {room.participants.map((p) => (
          <Person
            key={p.id}
            p={p}
            me={me}
            manage={isHost && open && p.id !== me}
            busy={busy !== null}
            onCohost={() => setCohost(p, p.role !== "cohost")}
            onStop={() => stopRinging(p)}
            onRing={() => ringPeople([p.id])}
          />
        ))}
      </ul>
      {isHost && open && contacts === null && (
        <button
          type="button"
          disabled={busy !== null}
          onClick={() =>
            run("contacts", async () =>
              setContacts(await api<ContactJson[]>("GET", "/api/contacts")))}
        >
          {t("people.more")}
        </button>
      )}
      {isHost && open && contacts !== null && (
        <fieldset>
          <legend>{t("people.more")}</legend>
          {candidates.length === 0
            ? <p class="muted">{t("people.allIn")}</p>
            : candidates.map((c) => (
              <label key={c.id} class="choice">
                <input
                  type="checkbox"
                  checked={picked.includes(c.id)}
                  onChange={(e) =>
                    setPicked((list) =>
                      (e.target as HTMLInputElement).checked
                        ? [...list, c.id]
                        : list.filter((id) => id !== c.id)
                    )}
                />
                {c.display_name}
              </label>
            ))}
          <div class="row">
            <button
              type="button"
              class="primary"
              disabled={picked.length === 0 || busy !== null}
              onClick={() =>
                ringPeople(picked)}
            >
              {t("people.call")}
            </button>
            <button type="button" onClick={() => setContacts(null)}>{t("common.cancel")}</button>
          </div>
        </fieldset>
      )}
    </div>
  );
}

/** One person of the meeting, and what the host may do about them. */
function Person(
  { p, me, manage, busy, onCohost, onStop, onRing }: {
    p: ParticipantJson;
    me: string;
    /** The host sees the buttons (never on themselves, never once the meeting has ended). */
    manage: boolean;
    busy: boolean;
    onCohost(): void;
    onStop(): void;
    onRing(): void;
  },
) {
  const [key, label] = personState(p);
  const name = p.id === me ? t("people.you", { name: p.display_name }) : p.display_name;
  return (
    <li data-person={p.id} data-state={key}>
      <span class="name">
        {name}
        {p.role === "host" && <span class="role muted small">{t("people.host")}</span>}
        {p.role === "cohost" && <span class="role muted small">{t("people.cohost")}</span>}
      </span>
      <span class={`state ${key}`}>{label}</span>
      {manage && (
        <button type="button" class="link" disabled={busy} onClick={onCohost}>
          {p.role === "cohost" ? t("people.unmake") : t("people.make")}
          <span class="sr-only">{` (${p.display_name})`}</span>
        </button>
      )}
      {manage && key === "ringing" && (
        <button
          type="button"
          class="link"
          disabled={busy}
          onClick={onStop}
          aria-label={t("people.stopNamed", { name: p.display_name })}
        >
          {t("people.stop")}
        </button>
      )}
      {manage && key !== "ringing" && key !== "in-call" && (
        <button
          type="button"
          class="link"
          disabled={busy}
          onClick={onRing}
          aria-label={t("people.callNamed", { name: p.display_name })}
        >
          {t("people.call")}
        </button>
      )}
    </li>
  );
}
