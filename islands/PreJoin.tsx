import { useEffect, useRef, useState } from "preact/hooks";
import type { CallType, ContactJson, EntryPolicy, RoomJson, UserJson } from "../protocol/api.ts";
import { api, ApiError, messageOf, signInAgain } from "./api.ts";
import { ConnectionTest } from "./ConnectionTest.tsx";
import { DeviceCheck } from "./call/DeviceCheck.tsx";
import { DEFAULT_PREFS, loadPrefs, markChecked, type MediaPrefs, savePrefs } from "./prefs.ts";
import { Checkbox, Choices, StatusLine, useStatus } from "./ui.tsx";
import { type Key, t, tn } from "../i18n/t.ts";

const CALL_TYPES: [CallType, Key][] = [["video", "common.video"], ["audio", "prejoin.audioOnly"]];
const ENTRIES: [EntryPolicy, Key][] = [
  ["knock", "prejoin.entry.knock"],
  ["open", "prejoin.entry.open"],
  ["invited", "prejoin.entry.invited"],
];

export interface PreJoinProps {
  user: UserJson;
  contacts: ContactJson[];
}

/** New meeting: name, type, invitees, and a check of camera and microphone before the call. */
export function PreJoin({ user, contacts }: PreJoinProps) {
  const [title, setTitle] = useState(t("prejoin.defaultName", { name: user.display_name }));
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
    if (!title.trim()) return status.error(t("prejoin.nameIt"));
    setStarting(true);
    status.info(t("prejoin.starting"));
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
        <h1 id="setup-title">{t("nav.new")}</h1>
        <div class="row setup-fields">
          <label class="grow">
            {t("prejoin.name")}
            <input
              name="room_name"
              required
              maxLength={100}
              value={title}
              onInput={(e) => setTitle((e.target as HTMLInputElement).value)}
            />
          </label>
          <Choices
            legend={t("prejoin.callType")}
            hideLegend
            class="segmented"
            name="call_type"
            options={CALL_TYPES.map(([v, k]) => [v, t(k)] as const)}
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
              {starting ? t("prejoin.startingShort") : t("prejoin.start")}
            </button>
            <p class="muted small">
              {chosen.size === 0
                ? t("prejoin.nobodyRung")
                : tn(chosen.size, "prejoin.rung.one", "prejoin.rung.other")}
            </p>
          </DeviceCheck>
        )}
        <StatusLine status={status} />
      </section>

      <section class="card stack" aria-labelledby="options-title">
        <h2 id="options-title">{t("prejoin.who")}</h2>
        <fieldset>
          <legend>{t("prejoin.invite")}</legend>
          {contacts.length === 0
            ? (
              <p class="muted small">
                {t("prejoin.noContacts")} <a href="/dashboard">{t("prejoin.toDashboard")}</a>
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
          legend={t("prejoin.entry")}
          name="entry"
          options={ENTRIES.map(([v, k]) => [v, t(k)] as const)}
          value={entry}
          onChange={(value) => setEntry(value)}
        />
        <Checkbox name="allow_guests" checked={allowGuests} onChange={setAllowGuests}>
          {t("prejoin.guests")}
        </Checkbox>
        <h3 class="small">{t("prejoin.network")}</h3>
        <ConnectionTest compact />
      </section>
    </form>
  );
}
