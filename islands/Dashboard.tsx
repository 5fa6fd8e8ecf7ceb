import { useEffect, useState } from "preact/hooks";
import type { ContactJson, RoomJson, UserJson } from "../protocol/api.ts";
import { api, ApiError, signInAgain } from "./api.ts";
import { CopyLink, StatusLine, useStatus } from "./ui.tsx";

export interface DashboardProps {
  user: UserJson;
  rooms: RoomJson[];
  contacts: ContactJson[];
}

const REFRESH_MS = 20_000;

/** The signed-in home: my meetings and my contacts. */
export function Dashboard(props: DashboardProps) {
  const [rooms, setRooms] = useState(props.rooms);
  const [contacts, setContacts] = useState(props.contacts);
  const [busy, setBusy] = useState<string | null>(null);
  const [email, setEmail] = useState("");
  const status = useStatus();

  /** Runs one action at a time; false when it failed (the reason is shown). */
  async function run(key: string, work: () => Promise<void>): Promise<boolean> {
    setBusy(key);
    try {
      await work();
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) signInAgain();
      else status.error(err instanceof Error ? err.message : String(err));
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

  useEffect(() => {
    const timer = setInterval(refreshRooms, REFRESH_MS);
    const onFocus = () => refreshRooms();
    addEventListener("focus", onFocus);
    return () => {
      clearInterval(timer);
      removeEventListener("focus", onFocus);
    };
  }, []);

  async function endMeeting(room: RoomJson) {
    const ok = await run(`end:${room.id}`, () => api("DELETE", `/api/livekit/rooms/${room.id}`));
    await refreshRooms();
    if (ok) status.info(`“${room.room_name}” has ended.`);
  }

  async function addContact(event: Event) {
    event.preventDefault();
    let added: ContactJson | undefined;
    const ok = await run("add", async () => {
      added = await api<ContactJson>("POST", "/api/contacts", { email });
    });
    if (ok && added) {
      const contact = added;
      setContacts((list) =>
        [...list, contact].sort((a, b) => a.display_name.localeCompare(b.display_name))
      );
      setEmail("");
      status.info(`${added.display_name} is now in your contacts.`);
    }
  }

  async function removeContact(contact: ContactJson) {
    const ok = await run(
      `remove:${contact.id}`,
      () => api("DELETE", `/api/contacts/${contact.id}`),
    );
    if (ok) {
      setContacts((list) => list.filter((c) => c.id !== contact.id));
      status.info(`${contact.display_name} was removed from your contacts.`);
    }
  }

  return (
    <div class="dashboard">
      <StatusLine status={status} />
      <section class="card" aria-labelledby="meetings-title">
        <div class="row spread">
          <h2 id="meetings-title">My meetings</h2>
          <a class="button primary" href="/meeting/pre-join">New meeting</a>
        </div>
        {rooms.length === 0
          ? <p class="muted">No meetings yet. Start one with “New meeting”.</p>
          : (
            <ul class="rooms">
              {rooms.map((room) => {
                const inCall = room.participants.filter((p) => p.in_call);
                const isHost = room.created_by.id === props.user.id;
                const ended = room.status === "ended";
                return (
                  <li class="room" key={room.id} data-room={room.id}>
                    <div class="room-head">
                      <strong class="room-title">{room.room_name}</strong>
                      <span class={`badge ${room.call_type}`}>
                        {room.call_type === "video" ? "Video" : "Audio"}
                      </span>
                      <span class={`badge status-${room.status}`}>{statusLabel(room.status)}</span>
                    </div>
                    <p class="muted small">
                      {isHost ? "You are the host" : `Host: ${room.created_by.display_name}`}
                      {" · "}
                      {inCall.length === 0
                        ? "nobody in the call"
                        : `in the call: ${inCall.map((p) => p.display_name).join(", ")}`}
                    </p>
                    {!ended && (
                      <div class="row">
                        <a class="button" href={`/meeting/room?room=${room.id}`}>
                          Join<span class="sr-only">{` ${room.room_name}`}</span>
                        </a>
                        <CopyLink url={room.invite_url} label={room.room_name} status={status} />
                        {isHost && (
                          <button
                            type="button"
                            class="danger"
                            disabled={busy === `end:${room.id}`}
                            onClick={() => endMeeting(room)}
                            aria-label={`End ${room.room_name} for all`}
                          >
                            End for all
                          </button>
                        )}
                      </div>
                    )}
                  </li>
                );
              })}
            </ul>
          )}
      </section>

      <section class="card" aria-labelledby="contacts-title">
        <h2 id="contacts-title">Contacts</h2>
        <form class="row" onSubmit={addContact}>
          <label class="grow">
            <span class="sr-only">Contact's email</span>
            <input
              type="email"
              name="email"
              required
              maxLength={254}
              placeholder="Add a contact by email"
              value={email}
              onInput={(e) => setEmail((e.target as HTMLInputElement).value)}
            />
          </label>
          <button type="submit" disabled={busy === "add"}>Add</button>
        </form>
        {contacts.length === 0
          ? <p class="muted">No contacts yet. Add someone who has an account.</p>
          : (
            <ul class="contacts">
              {contacts.map((contact) => (
                <li key={contact.id} class="row spread">
                  <span>
                    {contact.display_name} <span class="muted small">{contact.email}</span>
                  </span>
                  <button
                    type="button"
                    class="link"
                    disabled={busy === `remove:${contact.id}`}
                    onClick={() => removeContact(contact)}
                  >
                    Remove<span class="sr-only">{` ${contact.display_name}`}</span>
                  </button>
                </li>
              ))}
            </ul>
          )}
      </section>
    </div>
  );
}

function statusLabel(status: RoomJson["status"]): string {
  return status === "waiting" ? "Waiting" : status === "active" ? "In progress" : "Ended";
}
