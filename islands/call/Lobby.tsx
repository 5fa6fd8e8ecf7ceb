// Waiting to be let in: the meeting's title, one's own preview, and the answer as soon as a host
// gives it (GET /ws/lobby, authenticated by this browser's ticket). Admitted, the page trades
// the ticket for a token and goes on into the call without a reload.
import { useEffect, useRef, useState } from "preact/hooks";
import type { KnockStateJson, TokenJson } from "../../protocol/api.ts";
import { parseLobbyMessage } from "../../protocol/ws.ts";
import { api, ApiError, messageOf } from "../api.ts";
import type { MediaPrefs } from "../prefs.ts";
import { DeviceCheck, type Handoff } from "./DeviceCheck.tsx";
import { type Key, t } from "../../i18n/t.ts";

const TEXT: Record<Exclude<KnockStateJson["status"], "waiting" | "admitted">, Key> = {
  denied: "lobby.denied",
  expired: "lobby.expired",
  cancelled: "lobby.cancelled",
  ended: "lobby.ended",
};

export function Lobby(
  { roomId, title, video, name, signedIn, prefs, update, handoff, onAdmitted }: {
    roomId: string;
    title: string;
    video: boolean;
    /** Whose initials stand in for the camera (the knock's name once known). */
    name: string;
    signedIn: boolean;
    /** The call's media choices: what is set while waiting is what the call starts with. */
    prefs: MediaPrefs;
    update(change: Partial<MediaPrefs>): void;
    /** Where the call takes the preview's stream from once admitted. */
    handoff?: Handoff;
    /** The token to come in with; `member`: a signed-in person (now on the meeting's list). */
    onAdmitted(token: TokenJson, member: boolean): void;
  },
) {
  const [knock, setKnock] = useState<KnockStateJson | null>(null);
  const [problem, setProblem] = useState("");
  const [round, setRound] = useState(0);
  const entering = useRef(false);
  const invite = `/meeting/invite?room=${encodeURIComponent(roomId)}`;

  // The lobby channel, reconnected with backoff until there is an answer.
  useEffect(() => {
    let ws: WebSocket | null = null;
    let failures = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let done = false;
    const open = () => {
      ws = new WebSocket(
        `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws/lobby?room=${
          encodeURIComponent(roomId)
        }`,
      );
      ws.onmessage = (event) => {
        const message = parseLobbyMessage(event.data);
        if (!message) return console.warn("dropped a malformed message from the lobby");
        if (message.type !== "knock") return;
        failures = 0;
        setKnock(message.knock);
        if (message.knock.status !== "waiting") done = true;
        if (message.knock.status === "admitted") enter();
      };
      ws.onclose = () => {
        if (done) return;
        failures++;
        // A refused upgrade: is the ticket still good?
        api<KnockStateJson>("GET", `/api/livekit/rooms/${roomId}/knock`).then((k) => {
          setKnock(k);
          if (k.status === "admitted") enter();
          if (k.status !== "waiting") done = true;
        }, (err) => {
          if (err instanceof ApiError && err.status === 401) location.replace(invite);
        });
        timer = setTimeout(open, Math.min(30_000, 1000 * 2 ** Math.min(failures, 5)));
      };
    };
    open();
    return () => {
      done = true;
      clearTimeout(timer);
      ws?.close();
    };
  }, [round]);

  async function enter() {
    if (entering.current) return;
    entering.current = true;
    try {
      const token = await api<TokenJson>("POST", `/api/livekit/rooms/${roomId}/knock/enter`);
      onAdmitted(token, signedIn);
    } catch (err) {
      entering.current = false;
      setProblem(messageOf(err));
    }
  }

  async function askAgain() {
    setProblem("");
    try {
      const k = await api<KnockStateJson>(
        "POST",
        `/api/livekit/rooms/${roomId}/knock`,
        signedIn ? {} : { display_name: knock?.display_name },
      );
      setKnock(k);
      setRound((r) => r + 1);
    } catch (err) {
      setProblem(messageOf(err));
    }
  }

  async function stop() {
    await api("DELETE", `/api/livekit/rooms/${roomId}/knock`).catch(() => {});
    location.assign(invite);
  }

  const status = knock?.status ?? "waiting";
  return (
    <section class="card lobby" data-knock={status} aria-labelledby="lobby-title">
      <DeviceCheck
        video={video}
        name={knock?.display_name ?? name}
        prefs={prefs}
        update={update}
        handoff={handoff}
      >
        <p class="muted small">{t("lobby.asking")}</p>
        <h1 id="lobby-title" class="call-title">{knock?.room_name ?? title}</h1>
        {status === "waiting" || status === "admitted"
          ? (
            <>
              <p role="status" class="big-text">
                <span class="spinner" aria-hidden="true" />
                {status === "admitted" ? t("lobby.admitted") : t("lobby.waiting")}
              </p>
              {knock && !knock.host_present && status === "waiting" && (
                <p class="notice" data-no-host>
                  {t("lobby.noHost")}
                </p>
              )}
            </>
          )
          : <p role="alert" class="big-text">{t(TEXT[status])}</p>}
        {problem && <p class="status error" role="alert">{problem}</p>}
        <div class="row">
          {(status === "expired" || status === "cancelled") && (
            <button type="button" class="primary" onClick={askAgain}>{t("lobby.again")}</button>
          )}
          {status === "waiting" && <button type="button" onClick={stop}>{t("lobby.stop")}</button>}
          {(status === "denied" || status === "ended") && (
            <a class="button" href="/">{t("call.leave")}</a>
          )}
        </div>
      </DeviceCheck>
    </section>
  );
}
