import { useEffect, useRef, useState } from "preact/hooks";
import type { CallType, ContactJson, EntryPolicy, RoomJson, UserJson } from "../protocol/api.ts";
import { api, ApiError, messageOf, signInAgain } from "./api.ts";
import { ConnectionTest } from "./ConnectionTest.tsx";
import { DeviceCheck } from "./call/DeviceCheck.tsx";
import { DEFAULT_PREFS, loadPrefs, markChecked, type MediaPrefs, savePrefs } from "./prefs.ts";
import { Checkbox, Choices, StatusLine, useStatus } from "./ui.tsx";

const CALL_TYPES: [CallType, string][] = [["video", "Video"], ["audio", "Audio only"]];
const ENTRIES: [EntryPolicy, string][] = [
  ["knock", "They ask, and a host lets them in"],
  ["open", "Anyone with the link, straight in"],
  ["invited", "Only the people I invite"],
];

export interface PreJoinProps {
  user: UserJson;
  contacts: ContactJson[];
}

/** New meeting: name, type, invitees, and a check of camera and microphone before the call. */
export function PreJoin({ user, contacts }: PreJoinProps) {
  const [title, setTitle] = useState(`${user.display_name}'s meeting`);
  const [prefs, setPrefs] = useState<MediaPrefs>(DEFAULT_PREFS);
  const [loaded, setLoaded] = useState(false);
  const [chosen, setChosen] = useState<Set<string>>(new Set());
  const [allowGuests, setAllowGuests] = useState(true);
  const [entry, setEntry] = useState<EntryPolicy>("knock");
  const [starting, setStarting] = useState(false);
  const requestKey = useRef<string | null>(null);
  const status = useStatus();

  useEffect(() => {
    setPrefs(loadPrefs());
    setLoaded(true);
  }, []);

  const update = (change: Partial<MediaPrefs>) =>
    setPrefs((p) => {
      const next = { ...p, ...change };
      savePrefs(next);
      return next;
    });

  function toggle(id: string) {
    setChosen((set) => {
      const next = new Set(set);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  }

  async function start(event: Event) {
    event.preventDefault();
    if (!title.trim()) return status.error("Give the meeting a name.");
    setStarting(true);
    status.info("Starting the call…");
    try {
      // One key per meeting being started: pressing Start again after an error or a lost
      // answer gives back the meeting already created instead of ringing everyone twice.
      requestKey.current ??= crypto.randomUUID();
      const room = await api<RoomJson>("POST", "/api/livekit/rooms", {
        room_name: title.trim(),
        call_type: prefs.call_type,
        participants: [...chosen],
        allow_guests: allowGuests,
        entry,
      }, { "Idempotency-Key": requestKey.current });
      savePrefs(prefs);
      // The devices were just checked here: the room page goes straight in.
      markChecked(room.id);
      location.assign(`/meeting/room?room=${encodeURIComponent(room.id)}`);
    } catch (err) {
      setStarting(false);
      if (err instanceof ApiError && err.status === 401) signInAgain();
      else status.error(messageOf(err));
    }
  }

  return (
    <form class="prejoin" onSubmit={start}>
      <section class="card stack" aria-labelledby="setup-title">
        <h1 id="setup-title">New meeting</h1>
        <div class="row setup-fields">
          <label class="grow">
            Meeting name
            <input
              name="room_name"
              required
              maxLength={100}
              value={title}
              onInput={(e) => setTitle((e.target as HTMLInputElement).value)}
            />
          </label>
          <Choices
            legend="Call type"
            hideLegend
            class="segmented"
            name="call_type"
            options={CALL_TYPES}
            value={prefs.call_type}
            onChange={(call_type) => update({ call_type })}
          />
        </div>
        {loaded && (
          <DeviceCheck
            video={prefs.call_type === "video"}
            name={user.display_name}
            prefs={prefs}
            update={update}
          >
            <button type="submit" class="primary big" disabled={starting}>
              {starting ? "Starting…" : "Start call"}
            </button>
            <p class="muted small">
              {chosen.size === 0
                ? "Nobody will be rung: share the link once the call starts."
                : `${chosen.size === 1 ? "1 person" : `${chosen.size} people`} will be rung.`}
            </p>
          </DeviceCheck>
        )}
        <StatusLine status={status} />
      </section>

      <section class="card stack" aria-labelledby="options-title">
        <h2 id="options-title">Who is in it</h2>
        <fieldset>
          <legend>Invite from your contacts</legend>
          {contacts.length === 0
            ? (
              <p class="muted small">
                No contacts yet: add some on the{" "}
                <a href="/dashboard">dashboard</a>, or share the invite link once the call starts.
              </p>
            )
            : contacts.map((c) => (
              <label class="choice" key={c.id}>
                <input
                  type="checkbox"
                  name="participants"
                  value={c.id}
                  checked={chosen.has(c.id)}
                  onChange={() => toggle(c.id)}
                />
                {c.display_name} <span class="muted small">{c.email}</span>
              </label>
            ))}
        </fieldset>
        <Choices
          legend="Who can join with the link"
          name="entry"
          options={ENTRIES}
          value={entry}
          onChange={(value) => setEntry(value)}
        />
        <Checkbox name="allow_guests" checked={allowGuests} onChange={setAllowGuests}>
          Let people without an account join with the link
        </Checkbox>
        <h3 class="small">Network</h3>
        <ConnectionTest compact />
      </section>
    </form>
  );
}
