import { useEffect, useState } from "preact/hooks";
import type {
  ContactJson,
  ContactRequestJson,
  InviteJson,
  RoomJson,
  SentRequestJson,
  UserJson,
} from "../protocol/api.ts";
import { api, ApiError, messageOf, signInAgain } from "./api.ts";
import { NotifyOffer } from "./NotifyOffer.tsx";
import { People } from "./People.tsx";
import { subscribe } from "./realtime.ts";
import { Confirm, ConfirmEndForAll, CopyLink, StatusLine, useStatus } from "./ui.tsx";
import { dateTimeOf, type Key, t, tn } from "../i18n/t.ts";

export interface DashboardProps {
  user: UserJson;
  rooms: RoomJson[];
  contacts: ContactJson[];
  /** Contact requests waiting for the user's answer, and those the user sent. */
  requests: { incoming: ContactRequestJson[]; outgoing: SentRequestJson[] };
  /** Calls the user did not answer in time, newest first. */
  missed: InviteJson[];
}

/** The signed-in home: my meetings and my contacts. */
export function Dashboard(props: DashboardProps) {
  const [rooms, setRooms] = useState(props.rooms);
  const [contacts, setContacts] = useState(props.contacts);
  const [requests, setRequests] = useState(props.requests);
  const [missed, setMissed] = useState(props.missed);
  const [busy, setBusy] = useState<string | null>(null);
  const [email, setEmail] = useState("");
  // What waits for a second yes: ending a meeting for all, clearing the history.
  const [asking, setAsking] = useState<{ end: RoomJson } | { clear: number } | null>(null);
  const status = useStatus();
  // In progress first, then waiting, newest first within each; ended ones are history.
  const live = rooms.filter((r) => r.status !== "ended").sort((a, b) =>
    Number(b.status === "active") - Number(a.status === "active")
  );
  const history = rooms.filter((r) => r.status === "ended");

  /** Runs one action at a time; false when it failed (the reason is shown). */
  async function run(key: string, work: () => Promise<void>): Promise<boolean> {
    setBusy(key);
    try {
      await work();
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) signInAgain();
      else status.error(messageOf(err));
      return false;
    } finally {
      setBusy(null);
    }
  }

  async function refreshRooms() {
    try {
      setRooms(await api<RoomJson[]>("GET", "/api/livekit/rooms"));
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) signInAgain();
    }
  }

  async function refreshContacts() {
    try {
      const [list, reqs] = await Promise.all([
        api<ContactJson[]>("GET", "/api/contacts"),
        api<DashboardProps["requests"]>("GET", "/api/contacts/requests"),
      ]);
      setContacts(list);
      setRequests(reqs);
    } catch {
      // Read again on the next change.
    }
  }

  async function refreshMissed() {
    try {
      const list = await api<InviteJson[]>("GET", "/api/invites");
      setMissed(list.filter((i) => i.status === "missed"));
    } catch {
      // Shown again on the next change.
    }
  }

  /** A room as the server now has it: replaced in the list, or added at the top. */
  function upsert(room: RoomJson) {
    setRooms((list) =>
      list.some((r) => r.id === room.id)
        ? list.map((r) => (r.id === room.id ? room : r))
        : [room, ...list]
    );
  }

  // Live: every change to my meetings arrives on the socket. After a reconnection (a sync
  // other than the first), what may have been missed meanwhile is read again.
  useEffect(() => {
    let first = true;
    return subscribe((m) => {
      if (m.type === "room_updated") upsert(m.room);
      else if (m.type === "contacts_changed") refreshContacts();
      else if (m.type === "invite_answered" && m.user_id === props.user.id) {
        if (m.status === "missed") refreshMissed();
      } else if (m.type === "sync") {
        if (!first) {
          refreshRooms();
          refreshMissed();
          refreshContacts();
        }
        first = false;
      }
    });
  }, []);

  async function endMeeting(room: RoomJson) {
    const ok = await run(`end:${room.id}`, () => api("DELETE", `/api/livekit/rooms/${room.id}`));
    await refreshRooms();
    if (ok) status.info(t("dash.ended", { name: room.room_name }));
  }

  async function clearHistory() {
    let answer: { cleared: number } | undefined;
    const ok = await run("clear", async () => {
      answer = await api("DELETE", "/api/livekit/rooms/history");
    });
    if (!ok) return;
    setRooms((list) => list.filter((r) => r.status !== "ended"));
    status.info(tn(answer!.cleared, "dash.cleared.one", "dash.cleared.other"));
  }

  async function dismiss(missedCall: InviteJson) {
    const ok = await run(
      `missed:${missedCall.id}`,
      () => api("POST", `/api/invites/${missedCall.id}/dismiss`),
    );
    if (ok) setMissed((list) => list.filter((m) => m.id !== missedCall.id));
  }

  /** Calls the caller back: a new meeting of the same kind ringing them, then its page. */
  async function callBack(missedCall: InviteJson) {
    let room: RoomJson | undefined;
    const ok = await run(`missed:${missedCall.id}`, async () => {
      room = await api<RoomJson>("POST", "/api/livekit/rooms", {
        // Named for both: it shows on both dashboards.
        room_name: t("dash.callBackName", {
          me: props.user.display_name,
          them: missedCall.from.display_name,
        }),
        call_type: missedCall.call_type,
        participants: [missedCall.from.id],
        entry: "invited",
      }, { "Idempotency-Key": `call-back-${missedCall.id}` });
    });
    if (!ok || !room) return;
    await api("POST", `/api/invites/${missedCall.id}/dismiss`).catch(() => {});
    location.assign(`/meeting/room?room=${encodeURIComponent(room.id)}`);
  }

  async function addContact(event: Event) {
    event.preventDefault();
    let sent: { request: SentRequestJson; message: string } | undefined;
    const ok = await run("add", async () => {
      sent = await api("POST", "/api/contacts", { email });
    });
    if (ok && sent) {
      setEmail("");
      status.info(t("dash.requestSent", { email: sent.request.email }));
      await refreshContacts();
    }
  }

  async function removeContact(contact: ContactJson) {
    const ok = await run(
      `remove:${contact.id}`,
      () => api("DELETE", `/api/contacts/${contact.id}`),
    );
    if (ok) {
      setContacts((list) => list.filter((c) => c.id !== contact.id));
      status.info(t("dash.removed", { name: contact.display_name }));
    }
  }

  async function answer(req: ContactRequestJson, how: "accept" | "decline" | "block") {
    const ok = await run(`req:${req.id}`, async () => {
      if (how === "block") {
        await api("POST", "/api/contacts/blocks", { user_id: req.from.id });
      } else await api("POST", `/api/contacts/requests/${req.id}/${how}`);
    });
    if (!ok) return;
    await refreshContacts();
    status.info(
      how === "accept"
        ? t("dash.accepted", { name: req.from.display_name })
        : how === "block"
        ? t("dash.blockedLong", { name: req.from.display_name })
        : t("dash.requestDeclined"),
    );
  }

  async function withdraw(req: SentRequestJson) {
    const ok = await run(`req:${req.id}`, () => api("DELETE", `/api/contacts/requests/${req.id}`));
    if (ok) setRequests((r) => ({ ...r, outgoing: r.outgoing.filter((o) => o.id !== req.id) }));
  }

  async function block(contact: ContactJson) {
    const ok = await run(
      `block:${contact.id}`,
      () => api("POST", "/api/contacts/blocks", { user_id: contact.id }),
    );
    if (ok) {
      setContacts((list) => list.filter((c) => c.id !== contact.id));
      status.info(t("dash.blocked", { name: contact.display_name }));
    }
  }

  return (
    <div class="dashboard">
      <StatusLine status={status} />
      <NotifyOffer />
      {missed.length > 0 && (
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
                      onClick={() => callBack(call)}
                    >
                      {t("dash.callBack")}
                      <span class="sr-only">{` ${call.from.display_name}`}</span>
                    </button>
                    <button
                      type="button"
                      class="link"
                      disabled={busy === `missed:${call.id}`}
                      onClick={() => dismiss(call)}
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
      )}
      <section class="card" aria-labelledby="meetings-title">
        <div class="row spread">
          <h2 id="meetings-title">{t("dash.meetings")}</h2>
          <a class="button primary" href="/meeting/pre-join">{t("nav.new")}</a>
        </div>
        {live.length === 0
          ? (
            <p class="muted">
              {history.length === 0 ? t("dash.none") : t("dash.noneLive")}
            </p>
          )
          : (
            <ul class="rooms">
              {live.map((room) => {
                const isHost = room.created_by.id === props.user.id;
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
                    <People room={room} me={props.user.id} status={status} onRoom={upsert} />
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
                          disabled={busy === `end:${room.id}`}
                          onClick={() => setAsking({ end: room })}
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

      {history.length > 0 && (
        <section class="card history" aria-labelledby="history-title">
          <div class="row spread">
            <h2 id="history-title">{t("dash.history")}</h2>
            <button
              type="button"
              class="link"
              disabled={busy === "clear"}
              onClick={() => setAsking({ clear: history.length })}
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
                    {room.created_by.id === props.user.id
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
      )}
      {asking && "end" in asking && (
        <ConfirmEndForAll
          title={asking.end.room_name}
          onConfirm={() => {
            endMeeting(asking.end);
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
            clearHistory();
            setAsking(null);
          }}
          onCancel={() => setAsking(null)}
        >
          <p>
            {tn(asking.clear, "dash.clearWhat.one", "dash.clearWhat.other")}
          </p>
        </Confirm>
      )}

      <section class="card" aria-labelledby="contacts-title">
        <h2 id="contacts-title">{t("dash.contacts")}</h2>
        {requests.incoming.length > 0 && (
          <div class="requests" aria-labelledby="requests-title">
            <h3 id="requests-title" class="small">{t("dash.asking")}</h3>
            <ul class="contact-requests">
              {requests.incoming.map((req) => (
                <li key={req.id} class="row spread" data-request={req.id}>
                  <span>
                    {req.from.display_name} <span class="muted small">{req.from.email}</span>
                  </span>
                  <span class="row">
                    {REQUEST_ANSWERS.map(([how, label, look]) => (
                      <button
                        type="button"
                        key={how}
                        class={look}
                        disabled={busy === `req:${req.id}`}
                        onClick={() => answer(req, how)}
                      >
                        {t(label)}
                        <span class="sr-only">{` ${req.from.display_name}`}</span>
                      </button>
                    ))}
                  </span>
                </li>
              ))}
            </ul>
          </div>
        )}
        <form class="row" onSubmit={addContact}>
          <label class="grow">
            <span class="sr-only">{t("dash.contactEmail")}</span>
            <input
              type="email"
              name="email"
              required
              maxLength={254}
              placeholder={t("dash.askByEmail")}
              value={email}
              onInput={(e) => setEmail((e.target as HTMLInputElement).value)}
            />
          </label>
          <button type="submit" disabled={busy === "add"}>{t("dash.sendRequest")}</button>
        </form>
        {requests.outgoing.length > 0 && (
          <ul class="sent-requests muted small" aria-label={t("dash.sent")}>
            {requests.outgoing.map((req) => (
              <li key={req.id} class="row spread" data-sent={req.email}>
                <span>{t("dash.waitingAnswer", { email: req.email })}</span>
                <button
                  type="button"
                  class="link"
                  disabled={busy === `req:${req.id}`}
                  onClick={() =>
                    withdraw(req)}
                >
                  {t("dash.withdraw")}
                  <span class="sr-only">{` ${t("dash.requestTo", { email: req.email })}`}</span>
                </button>
              </li>
            ))}
          </ul>
        )}
        {contacts.length === 0
          ? (
            <p class="muted">
              {t("dash.noContacts")}
            </p>
          )
          : (
            <ul class="contacts">
              {contacts.map((contact) => (
                <li key={contact.id} class="row spread" data-contact={contact.id}>
                  <span>
                    {contact.display_name} <span class="muted small">{contact.email}</span>
                  </span>
                  <span class="row">
                    <button
                      type="button"
                      class="link"
                      disabled={busy === `remove:${contact.id}`}
                      onClick={() =>
                        removeContact(contact)}
                    >
                      {t("common.remove")}
                      <span class="sr-only">{` ${contact.display_name}`}</span>
                    </button>
                    <button
                      type="button"
                      class="link"
                      disabled={busy === `block:${contact.id}`}
                      onClick={() =>
                        block(contact)}
                    >
                      {t("dash.block")}
                      <span class="sr-only">{` ${contact.display_name}`}</span>
                    </button>
                  </span>
                </li>
              ))}
            </ul>
          )}
      </section>
    </div>
  );
}

/** The answers to a contact request: what it does, its label, its look. */
const REQUEST_ANSWERS: ["accept" | "decline" | "block", Key, string | undefined][] = [
  ["accept", "common.accept", "primary"],
  ["decline", "common.decline", undefined],
  ["block", "dash.block", "link"],
];

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
