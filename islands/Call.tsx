import {
  ConnectionError,
  DisconnectReason,
  type Participant,
  type RemoteTrack,
  Room,
  RoomEvent,
  Track,
} from "livekit-client";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import {
  type CallType,
  CHAT_MAX_CHARS,
  REACTIONS,
  type RoomJson,
  type TokenJson,
  type UserJson,
} from "../protocol/api.ts";
import { api, ApiError, signInAgain } from "./api.ts";
import { People } from "./People.tsx";
import { CallState, type Phase } from "./call/CallState.tsx";
import { handQueue, Hands, Moderation, type Reaction, ReactionBar } from "./call/Moderation.tsx";
import { Lobby } from "./call/Lobby.tsx";
import { label, Tile, TrackVideo } from "./call/Tile.tsx";
import { subscribe } from "./realtime.ts";
import { loadPrefs, mediaErrorMessage, type MediaPrefs, updatePrefs } from "./prefs.ts";
import {
  CopyLink,
  type DeviceLists,
  DeviceSelect,
  listDevices,
  NO_DEVICES,
  StatusLine,
  useStatus,
} from "./ui.tsx";

export interface CallProps {
  roomId: string;
  /** The room as a member sees it; null for a guest. */
  room: RoomJson | null;
  /** What everyone may know of the meeting (a guest has only this). */
  summary: { room_name: string; call_type: CallType };
  user: UserJson | null;
  inviteUrl: string;
  /** This browser is waiting in the meeting's lobby (it holds a ticket). */
  knock?: boolean;
}

interface ChatMessage {
  id: number;
  from: string;
  text: string;
  mine: boolean;
}

/** Tiles per page of the grid. */
const PAGE_SIZE = 16;
/** How long a reaction stays on its sender's tile. */
const REACTION_MS = 4000;
// Connecting to a media server that does not answer must end in a message, not a spinner; but
// only after livekit-client's own attempts (signalling, then up to 20 s for the media
// connection, which a relayed path over TCP or TLS may need) have had their time.
const CONNECT_OPTIONS = { maxRetries: 1, websocketTimeout: 8_000, peerConnectionTimeout: 20_000 };
const CONNECT_TIMEOUT_MS = 40_000;
const DEVICE_PREF = {
  videoinput: "camera_id",
  audioinput: "mic_id",
  audiooutput: "speaker_id",
} as const;

/** The call: connects to LiveKit with a token from the app, and shows the grid and controls. */
export function Call({ roomId, room: initialRoom, summary, user, inviteUrl, knock }: CallProps) {
  const [phase, setPhase] = useState<Phase>("connecting");
  // In the lobby until a host admits; then a member (signed in) or a guest.
  const [waiting, setWaiting] = useState(!!knock);
  const [member, setMember] = useState(initialRoom !== null);
  const admittedToken = useRef<TokenJson | null>(null);
  const [reactions, setReactions] = useState<Map<string, Reaction>>(new Map());
  // A member's view of the meeting, kept current by the real-time channel.
  const [roomJson, setRoomJson] = useState(initialRoom);
  const [peopleOpen, setPeopleOpen] = useState(false);
  const [problem, setProblem] = useState("");
  // Bumped on every LiveKit event: participants are mutable objects, and @preact/signals (on
  // the page) skips re-rendering a component whose props are shallow-equal, so tiles take it.
  const [version, setVersion] = useState(0);
  const [page, setPage] = useState(0);
  const [chatOpen, setChatOpen] = useState(false);
  const [settingsOpen, setSettingsOpen] = useState(false);
  const [unread, setUnread] = useState(0);
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [draft, setDraft] = useState("");
  const [devices, setDevices] = useState<DeviceLists>(NO_DEVICES);
  const [attempt, setAttempt] = useState(0);
  // Remote audio plays from elements in a container that exists from the start: people already
  // in the room are subscribed during connect, before the call's view is drawn.
  const audioSink = useMemo(() => {
    const sink = document.createElement("div");
    sink.hidden = true;
    sink.className = "audio-sink";
    document.body.append(sink);
    return sink;
  }, []);
  useEffect(() => () => audioSink.remove(), []);
  const chatOpenRef = useRef(chatOpen);
  chatOpenRef.current = chatOpen;
  const status = useStatus();
  const isHost = !!user && roomJson?.created_by.id === user.id;
  const myRole = roomJson?.participants.find((p) => p.id === user?.id)?.role;
  const isModerator = myRole === "host" || myRole === "cohost";
  const isVideo = (roomJson ?? summary).call_type === "video";
  const title = (roomJson ?? summary).room_name;

  const people = roomJson && user && (
    <People room={roomJson} me={user.id} status={status} onRoom={setRoomJson} />
  );

  const room = useMemo(() => {
    const p = loadPrefs();
    return new Room({
      adaptiveStream: true,
      dynacast: true,
      audioCaptureDefaults: p.mic_id ? { deviceId: p.mic_id } : undefined,
      videoCaptureDefaults: p.camera_id ? { deviceId: p.camera_id } : undefined,
      audioOutput: p.speaker_id ? { deviceId: p.speaker_id } : undefined,
    });
  }, [attempt]);

  const roomRef = useRef(roomJson);
  roomRef.current = roomJson;
  useEffect(() => {
    if (!member || !user) return;
    return subscribe((m) => {
      if (m.type === "room_updated" && m.room_id === roomId) {
        setRoomJson(m.room);
        if (m.room.status === "ended") {
          room.disconnect();
          setPhase((p) => (p === "left" ? p : "ended"));
        }
      } else if (m.type === "invite_answered" && m.room_id === roomId && m.user_id !== user.id) {
        const who = roomRef.current?.participants.find((p) => p.id === m.user_id)
          ?.display_name ?? "Someone";
        const what = { accepted: "accepted", declined: "declined", missed: "did not answer" };
        status.info(`${who} ${what[m.status]}.`);
      }
    });
  }, [room, member]);

  useEffect(() => {
    if (waiting) return;
    let cancelled = false;
    const bump = () => setVersion((v) => v + 1);
    const mediaPrefs = loadPrefs();

    room
      .on(RoomEvent.ParticipantConnected, bump)
      .on(RoomEvent.ParticipantDisconnected, bump)
      .on(RoomEvent.TrackPublished, bump)
      .on(RoomEvent.TrackUnpublished, bump)
      .on(RoomEvent.TrackSubscribed, (track: RemoteTrack) => {
        if (track.kind === Track.Kind.Audio) audioSink.append(track.attach());
        bump();
      })
      .on(RoomEvent.TrackUnsubscribed, (track: RemoteTrack) => {
        track.detach().forEach((el) => el.remove());
        bump();
      })
      .on(RoomEvent.TrackMuted, bump)
      .on(RoomEvent.TrackUnmuted, bump)
      .on(RoomEvent.LocalTrackPublished, bump)
      .on(RoomEvent.LocalTrackUnpublished, bump)
      .on(RoomEvent.ActiveSpeakersChanged, bump)
      .on(RoomEvent.ConnectionQualityChanged, bump)
      .on(RoomEvent.AudioPlaybackStatusChanged, bump)
      .on(RoomEvent.ParticipantAttributesChanged, bump)
      .on(RoomEvent.ParticipantMetadataChanged, bump)
      .on(RoomEvent.Reconnecting, () => setPhase("reconnecting"))
      .on(RoomEvent.Reconnected, () => setPhase("connected"))
      .on(RoomEvent.Disconnected, (reason?: DisconnectReason) => {
        if (reason === DisconnectReason.ROOM_DELETED) setPhase("ended");
        else if (reason === DisconnectReason.PARTICIPANT_REMOVED) setPhase("removed");
        else if (reason === DisconnectReason.CLIENT_INITIATED) return;
        else setPhase((p) => (p === "connecting" ? p : "disconnected"));
      })
      .on(RoomEvent.DataReceived, (payload, participant, _kind, topic) => {
        if (topic === "reaction") {
          // Shown on the sender's tile: the sender is LiveKit's participant, not the payload.
          if (!participant) return;
          try {
            const { emoji } = JSON.parse(new TextDecoder().decode(payload));
            if ((REACTIONS as readonly string[]).includes(emoji)) {
              showReaction(participant.identity, emoji);
            }
          } catch {
            // Not one of our reactions: ignored.
          }
          return;
        }
        if (topic !== "chat") return;
        try {
          const { text } = JSON.parse(new TextDecoder().decode(payload));
          if (typeof text !== "string" || !text.trim()) return;
          // The sender is who LiveKit says sent it, never a name in the payload.
          addMessage(participant ? label(participant) : "Someone", text, false);
          if (!chatOpenRef.current) setUnread((n) => n + 1);
        } catch {
          // Not one of our chat messages: ignored.
        }
      });

    (async () => {
      setPhase("connecting");
      setProblem("");
      const token = admittedToken.current ?? await fetchToken(roomId, member);
      admittedToken.current = null;
      if (cancelled || !token) return;
      if ("phase" in token) {
        setPhase(token.phase);
        setProblem(token.message);
        return;
      }
      // The page was drawn before the join was recorded (which answers a call ringing for this
      // meeting), and its push may have gone out before this page's socket was open.
      if (member) {
        api<RoomJson>("GET", `/api/livekit/rooms/${roomId}`).then(setRoomJson, () => {});
      }
      try {
        await withTimeout(
          room.connect(token.url, token.token, CONNECT_OPTIONS),
          CONNECT_TIMEOUT_MS,
        );
      } catch (err) {
        if (cancelled) return;
        await room.disconnect();
        if (err instanceof ConnectionError && err.reason === 0 /* NotAllowed */) {
          setPhase("unavailable");
          setProblem("The media server refused this call's credentials.");
        } else {
          setPhase("unreachable");
        }
        return;
      }
      if (cancelled) return;
      setPhase("connected");
      await publishMedia(room, mediaPrefs, isVideo, status.error);
      setDevices(await listDevices());
    })();

    return () => {
      cancelled = true;
      room.removeAllListeners();
      room.disconnect();
    };
  }, [room, waiting]);

  /** A reaction on someone's tile for a few seconds (a newer one replaces it). */
  function showReaction(identity: string, emoji: string) {
    const id = Date.now() + Math.random();
    setReactions((map) => new Map(map).set(identity, { emoji, id }));
    setTimeout(() => {
      setReactions((map) => {
        if (map.get(identity)?.id !== id) return map;
        const next = new Map(map);
        next.delete(identity);
        return next;
      });
    }, REACTION_MS);
  }

  async function react(emoji: string) {
    try {
      await room.localParticipant.publishData(
        new TextEncoder().encode(JSON.stringify({ emoji })),
        { reliable: false, topic: "reaction" },
      );
      showReaction(room.localParticipant.identity, emoji);
    } catch {
      status.error("The reaction could not be sent.");
    }
  }

  /** Keeps the last 200 chat messages. */
  function addMessage(from: string, text: string, mine: boolean) {
    const message = {
      id: Date.now() + Math.random(),
      from,
      text: text.slice(0, CHAT_MAX_CHARS),
      mine,
    };
    setMessages((list) => [...list.slice(-199), message]);
  }

  /** Leaves from any state: connected, connecting, reconnecting or unreachable. */
  async function leave() {
    await room.disconnect();
    setPhase("left");
    // A member's page says so at once; a guest's departure is LiveKit's to report.
    if (member) await api("POST", `/api/livekit/rooms/${roomId}/leave`).catch(() => {});
  }

  async function endForAll() {
    try {
      await api("DELETE", `/api/livekit/rooms/${roomId}`);
      await room.disconnect();
      setPhase("ended");
    } catch (err) {
      status.error(err instanceof Error ? err.message : String(err));
    }
  }

  // Host controls go through the app (no browser's token has admin rights in LiveKit).
  const hostControls = isModerator
    ? {
      async mute(p: Participant) {
        const mic = p.getTrackPublication(Track.Source.Microphone);
        if (!mic?.trackSid) return;
        try {
          await api("POST", `${participantPath(roomId, p.identity)}/mute`, {
            track_sid: mic.trackSid,
          });
          status.info(`${label(p)} is muted. Only they can unmute.`);
        } catch (err) {
          status.error(err instanceof Error ? err.message : String(err));
        }
      },
      async remove(p: Participant) {
        try {
          await api("DELETE", participantPath(roomId, p.identity));
          status.info(`${label(p)} was removed from the meeting.`);
        } catch (err) {
          status.error(err instanceof Error ? err.message : String(err));
        }
      },
    }
    : undefined;

  async function toggle(source: "mic" | "camera" | "screen") {
    const lp = room.localParticipant;
    try {
      if (source === "mic") await lp.setMicrophoneEnabled(!lp.isMicrophoneEnabled);
      if (source === "camera") await lp.setCameraEnabled(!lp.isCameraEnabled);
      // The shared tab's or screen's sound too, where the browser offers it.
      if (source === "screen") {
        await lp.setScreenShareEnabled(!lp.isScreenShareEnabled, { audio: true });
      }
      if (source === "mic") updatePrefs({ mic_on: lp.isMicrophoneEnabled });
      if (source === "camera") updatePrefs({ cam_on: lp.isCameraEnabled });
    } catch (err) {
      // Cancelling the screen picker is not an error worth a message.
      if ((err as { name?: string }).name !== "NotAllowedError" || source !== "screen") {
        status.error(mediaErrorMessage(err, source === "screen" ? undefined : source));
      }
    }
    setVersion((v) => v + 1);
  }

  async function switchDevice(kind: MediaDeviceKind, id: string) {
    try {
      await room.switchActiveDevice(kind, id);
      updatePrefs({ [DEVICE_PREF[kind]]: id });
    } catch (err) {
      status.error(
        kind === "audiooutput"
          ? "Sound cannot be sent to that speaker. Pick another one, or use the system's setting."
          : mediaErrorMessage(err, kind === "videoinput" ? "camera" : "mic"),
      );
    }
  }

  /** Through the app: the time it reached the server orders the queue. */
  async function raiseHand(raised: boolean) {
    try {
      await api("POST", `/api/livekit/rooms/${roomId}/hand`, { raised });
    } catch (err) {
      status.error(err instanceof Error ? err.message : String(err));
    }
  }

  async function sendChat(event: Event) {
    event.preventDefault();
    const text = draft.trim().slice(0, CHAT_MAX_CHARS);
    if (!text) return;
    try {
      await room.localParticipant.publishData(new TextEncoder().encode(JSON.stringify({ text })), {
        reliable: true,
        topic: "chat",
      });
      addMessage("You", text, true);
      setDraft("");
    } catch {
      status.error("The message could not be sent.");
    }
  }

  if (waiting) {
    return (
      <Lobby
        roomId={roomId}
        title={title}
        video={isVideo}
        signedIn={!!user}
        onAdmitted={(token, asMember) => {
          admittedToken.current = token;
          setMember(asMember);
          setWaiting(false);
          setAttempt((a) => a + 1);
        }}
      />
    );
  }

  if (phase !== "connected" && phase !== "reconnecting") {
    return (
      <>
        <CallState
          phase={phase}
          problem={problem}
          roomId={roomId}
          title={title}
          member={member}
          onRetry={() => setAttempt((a) => a + 1)}
          onLeave={leave}
        />
        {people && phase !== "ended" && (
          <section class="card narrow" aria-labelledby="people-title">
            <h2 id="people-title">People</h2>
            <StatusLine status={status} />
            {people}
          </section>
        )}
      </>
    );
  }

  const participants: Participant[] = [room.localParticipant, ...room.remoteParticipants.values()];
  // Everyone else's shares, large; one's own is not mirrored back at them.
  const shares = participants
    .filter((p) => !p.isLocal)
    .map((p) => ({ p, pub: p.getTrackPublication(Track.Source.ScreenShare) }))
    .filter(({ pub }) => pub?.track && !pub.isMuted);
  const pages = Math.max(1, Math.ceil(participants.length / PAGE_SIZE));
  const current = Math.min(page, pages - 1);
  const shown = participants.slice(current * PAGE_SIZE, (current + 1) * PAGE_SIZE);
  const lp = room.localParticipant;
  const hands = handQueue(participants);

  return (
    <div class={`call ${chatOpen ? "with-chat" : ""}`} data-phase={phase}>
      <div class="call-head">
        <h1 class="call-title">{title}</h1>
        <span class="muted small">
          {participants.length} in the call
        </span>
      </div>
      {phase === "reconnecting" && (
        <p class="banner" role="status">Connection lost. Reconnecting…</p>
      )}
      {!room.canPlaybackAudio && (
        <p class="banner" role="status">
          Your browser blocked sound.{" "}
          <button type="button" onClick={() => room.startAudio()}>Allow audio</button>
        </p>
      )}
      <StatusLine status={status} />
      <div class="stage">
        {lp.isScreenShareEnabled && (
          <p class="banner sharing" role="status">You are sharing your screen.</p>
        )}
        {shares.length > 0 && (
          <div class="shares" data-count={shares.length}>
            {shares.map(({ p, pub }) => (
              <figure class="screen" key={pub!.trackSid} data-identity={p.identity}>
                <TrackVideo pub={pub!} />
                <figcaption>{`${label(p)} is sharing their screen`}</figcaption>
              </figure>
            ))}
          </div>
        )}
        <ul
          class={`grid ${shares.length > 0 ? "strip" : ""}`}
          data-count={shown.length}
          aria-label="Participants"
        >
          {shown.map((p) => (
            <Tile
              key={p.identity}
              participant={p}
              host={hostControls}
              version={version}
              hand={hands.findIndex((h) => h.identity === p.identity) + 1}
              reaction={reactions.get(p.identity)?.emoji}
            />
          ))}
        </ul>
        {pages > 1 && (
          <nav class="row pager" aria-label="Participant pages">
            <button type="button" disabled={current === 0} onClick={() => setPage(current - 1)}>
              Previous
            </button>
            <span>{`Page ${current + 1} of ${pages}`}</span>
            <button
              type="button"
              disabled={current === pages - 1}
              onClick={() => setPage(current + 1)}
            >
              Next
            </button>
          </nav>
        )}
      </div>

      {chatOpen && (
        <aside class="chat" aria-label="Chat">
          <ol class="messages" aria-live="polite">
            {messages.map((m) => (
              <li key={m.id} class={m.mine ? "mine" : undefined}>
                <strong>{m.from}</strong> {m.text}
              </li>
            ))}
          </ol>
          <form class="row" onSubmit={sendChat}>
            <label class="grow">
              <span class="sr-only">Message</span>
              <input
                value={draft}
                maxLength={CHAT_MAX_CHARS}
                placeholder="Message everyone"
                onInput={(e) => setDraft((e.target as HTMLInputElement).value)}
              />
            </label>
            <button type="submit">Send</button>
          </form>
        </aside>
      )}

      {hands.length > 0 && (
        <Hands
          roomId={roomId}
          queue={hands}
          moderator={isModerator}
          status={status}
        />
      )}

      {peopleOpen && people && (
        <aside class="card people-panel" aria-label="People">
          {isModerator && roomJson && (
            <Moderation room={roomJson} status={status} onRoom={setRoomJson} />
          )}
          {people}
        </aside>
      )}

      {settingsOpen && (
        <section class="settings card" aria-label="Devices">
          {isVideo && (
            <DeviceSelect
              label="Camera"
              devices={devices.videoinput}
              value={room.getActiveDevice("videoinput")}
              onChange={(id) => switchDevice("videoinput", id)}
            />
          )}
          <DeviceSelect
            label="Microphone"
            devices={devices.audioinput}
            value={room.getActiveDevice("audioinput")}
            onChange={(id) => switchDevice("audioinput", id)}
          />
          {devices.audiooutput.length > 0 && (
            <DeviceSelect
              label="Speaker"
              devices={devices.audiooutput}
              value={room.getActiveDevice("audiooutput")}
              onChange={(id) => switchDevice("audiooutput", id)}
            />
          )}
        </section>
      )}

      <div class="controls" role="toolbar" aria-label="Call controls">
        <button type="button" aria-pressed={!lp.isMicrophoneEnabled} onClick={() => toggle("mic")}>
          {lp.isMicrophoneEnabled ? "Mute" : "Unmute"}
        </button>
        {isVideo && (
          <button
            type="button"
            aria-pressed={!lp.isCameraEnabled}
            onClick={() => toggle("camera")}
          >
            {lp.isCameraEnabled ? "Stop camera" : "Start camera"}
          </button>
        )}
        {isVideo && "getDisplayMedia" in (navigator.mediaDevices ?? {}) && (
          <button
            type="button"
            aria-pressed={lp.isScreenShareEnabled}
            onClick={() => toggle("screen")}
          >
            {lp.isScreenShareEnabled ? "Stop sharing" : "Share screen"}
          </button>
        )}
        <button
          type="button"
          aria-expanded={settingsOpen}
          onClick={() => {
            setSettingsOpen(!settingsOpen);
            listDevices().then(setDevices);
          }}
        >
          Devices
        </button>
        <button
          type="button"
          aria-expanded={chatOpen}
          onClick={() => {
            setChatOpen(!chatOpen);
            setUnread(0);
          }}
        >
          Chat{unread > 0 && <span class="count">{` ${unread} new`}</span>}
        </button>
        {people && (
          <button
            type="button"
            aria-expanded={peopleOpen}
            onClick={() => setPeopleOpen(!peopleOpen)}
          >
            People
          </button>
        )}
        <button
          type="button"
          aria-pressed={hands.some((h) => h.identity === lp.identity)}
          onClick={() => raiseHand(!hands.some((h) => h.identity === lp.identity))}
        >
          {hands.some((h) => h.identity === lp.identity) ? "Lower hand" : "Raise hand"}
        </button>
        <ReactionBar onReact={react} />
        <CopyLink url={inviteUrl} label={title} status={status} />
        <button type="button" class="danger" onClick={leave}>Leave</button>
        {isHost && <button type="button" class="danger" onClick={endForAll}>End for all</button>}
      </div>
    </div>
  );
}

const participantPath = (room: string, identity: string) =>
  `/api/livekit/rooms/${room}/participants/${encodeURIComponent(identity)}`;

type TokenOutcome = TokenJson | { phase: Phase; message: string } | null;

/**
 * A fresh token for every connect: a member says they are joining (an intent; presence comes
 * from LiveKit) and asks for one; a guest trades the pass their browser holds.
 */
async function fetchToken(roomId: string, member: boolean): Promise<TokenOutcome> {
  try {
    if (!member) return await api<TokenJson>("POST", `/api/livekit/rooms/${roomId}/guest/token`);
    await api("POST", `/api/livekit/rooms/${roomId}/join`);
    return await api<TokenJson>("POST", "/api/livekit/token", { room_name: roomId });
  } catch (err) {
    if (err instanceof ApiError) {
      if (err.status === 401) {
        if (member) signInAgain();
        else location.replace(`/meeting/invite?room=${encodeURIComponent(roomId)}`);
        return null;
      }
      if (err.status === 410) return { phase: "ended", message: err.message };
      if (err.code === "removed") return { phase: "removed", message: err.message };
    }
    return { phase: "unavailable", message: (err as Error).message };
  }
}

/** Microphone and camera each on their own: one failing leaves the other on. */
async function publishMedia(
  room: Room,
  prefs: MediaPrefs,
  video: boolean,
  report: (message: string) => void,
) {
  const lp = room.localParticipant;
  const problems: string[] = [];
  if (prefs.mic_on) {
    await lp.setMicrophoneEnabled(true).catch((err) =>
      problems.push(mediaErrorMessage(err, "mic"))
    );
  }
  if (video && prefs.cam_on) {
    await lp.setCameraEnabled(true).catch((err) => problems.push(mediaErrorMessage(err, "camera")));
  }
  if (problems.length > 0) report(problems.join(" "));
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    work,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error("timed out")), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
