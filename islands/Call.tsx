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
import type { CallType, RoomJson, TokenJson, UserJson } from "../protocol/api.ts";
import { api, messageOf } from "./api.ts";
import { People } from "./People.tsx";
import { CallState, type Phase } from "./call/CallState.tsx";
import { ChatPanel, useChat } from "./call/Chat.tsx";
import {
  applyDataSaver,
  CONNECT_OPTIONS,
  CONNECT_TIMEOUT_MS,
  fetchToken,
  publishMedia,
  withTimeout,
} from "./call/connect.ts";
import { Controls, type Panel } from "./call/Controls.tsx";
import { DeviceCheck } from "./call/DeviceCheck.tsx";
import { Lobby } from "./call/Lobby.tsx";
import { handQueue, Hands, Moderation, useReactions } from "./call/Moderation.tsx";
import { usePip, usePipView } from "./call/Pip.tsx";
import { Settings } from "./call/Settings.tsx";
import { type Action, ShortcutHelp, useShortcuts } from "./call/Shortcuts.tsx";
import { inFocus, Stage } from "./call/Stage.tsx";
import { label } from "./call/Tile.tsx";
import { subscribe } from "./realtime.ts";
import {
  checkedFor,
  DEVICE_PREF,
  loadPrefs,
  markChecked,
  mediaErrorMessage,
  type MediaPrefs,
  updatePrefs,
} from "./prefs.ts";
import { Checkbox, ConfirmEndForAll, StatusLine, useStatus } from "./ui.tsx";
import { type Key, t, tn } from "../i18n/t.ts";

/** How many announcements the live region keeps (older ones have been read out). */
const NEWS_KEPT = 5;
let newsId = 0;

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
  /** The guest's name, for their initials in the device check. */
  guestName?: string;
}

const canShare = typeof navigator !== "undefined" &&
  "getDisplayMedia" in (navigator.mediaDevices ?? {});

/**
 * The call: a device check unless this tab already did one (or the person chose to skip it),
 * the lobby while waiting to be let in, then the call itself against LiveKit with a token from
 * the app.
 */
export function Call(props: CallProps) {
  const { roomId, user, inviteUrl } = props;
  const [phase, setPhase] = useState<Phase>("connecting");
  // In the lobby until a host admits; then a member (signed in) or a guest.
  const [waiting, setWaiting] = useState(!!props.knock);
  const [prefs, setPrefs] = useState<MediaPrefs>(loadPrefs);
  const [checking, setChecking] = useState(
    () => !props.knock && !prefs.remember && !checkedFor(roomId),
  );
  const [member, setMember] = useState(props.room !== null);
  const admittedToken = useRef<TokenJson | null>(null);
  // A member's view of the meeting, kept current by the real-time channel.
  const [roomJson, setRoomJson] = useState(props.room);
  const [panel, setPanel] = useState<Panel | null>(null);
  const [help, setHelp] = useState(false);
  const [ending, setEnding] = useState(false);
  const [pinned, setPinned] = useState<string | null>(null);
  const [speaker, setSpeaker] = useState<string | null>(null);
  const [problem, setProblem] = useState("");
  // Bumped on every LiveKit event: participants are mutable objects, and @preact/signals (on
  // the page) skips re-rendering a component whose props are shallow-equal, so tiles take it.
  const [version, setVersion] = useState(0);
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
  const status = useStatus();
  // Joins, leaves, hands and chat messages, read out by screen readers (a polite live region).
  const [news, setNews] = useState<{ id: number; text: string }[]>([]);
  const announce = (text: string) =>
    setNews((list) => [...list.slice(-(NEWS_KEPT - 1)), { id: ++newsId, text }]);
  const isHost = !!user && roomJson?.created_by.id === user.id;
  const myRole = roomJson?.participants.find((p) => p.id === user?.id)?.role;
  const isModerator = myRole === "host" || myRole === "cohost";
  const isVideo = (roomJson ?? props.summary).call_type === "video";
  const title = (roomJson ?? props.summary).room_name;
  const update = (change: Partial<MediaPrefs>) => setPrefs(updatePrefs(change));

  // Made once the check or the lobby is passed, and afresh for every attempt, with the devices
  // chosen by then: everything published in the call, now or later, comes from them.
  const room = useMemo(() => {
    const p = prefs;
    return new Room({
      adaptiveStream: true,
      dynacast: true,
      audioCaptureDefaults: p.mic_id ? { deviceId: p.mic_id } : undefined,
      videoCaptureDefaults: p.camera_id ? { deviceId: p.camera_id } : undefined,
      audioOutput: p.speaker_id ? { deviceId: p.speaker_id } : undefined,
    });
  }, [attempt, checking, waiting]);
  const chat = useChat(
    room,
    panel === "chat",
    (from, text) => announce(t("call.said", { name: from, text })),
  );
  const { reactions, react } = useReactions(room);
  const pip = usePip();

  const roomRef = useRef(roomJson);
  roomRef.current = roomJson;
  // Pushes carry the whole room and arrive in order; a fetch that was overtaken by one is stale.
  const pushes = useRef(0);
  useEffect(() => {
    if (!member || !user) return;
    return subscribe((m) => {
      if (m.type === "room_updated" && m.room_id === roomId) {
        pushes.current++;
        setRoomJson(m.room);
        if (m.room.status === "ended") {
          room.disconnect();
          setPhase((p) => (p === "left" ? p : "ended"));
        }
      } else if (m.type === "invite_answered" && m.room_id === roomId && m.user_id !== user.id) {
        const name = roomRef.current?.participants.find((p) => p.id === m.user_id)
          ?.display_name ?? t("call.someone");
        const what: Record<typeof m.status, Key> = {
          accepted: "call.answer.accepted",
          declined: "call.answer.declined",
          missed: "call.answer.missed",
        };
        status.info(t(what[m.status], { name }));
      }
    });
  }, [room, member]);

  useEffect(() => {
    if (waiting || checking) return;
    let cancelled = false;
    const bump = () => setVersion((v) => v + 1);
    const mediaPrefs = prefs;

    room
      .on(RoomEvent.ParticipantConnected, (p: Participant) => {
        announce(t("call.joined", { name: label(p) }));
        bump();
      })
      .on(RoomEvent.ParticipantDisconnected, (p: Participant) => {
        announce(t("call.left", { name: label(p) }));
        bump();
      })
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
      .on(RoomEvent.ActiveSpeakersChanged, (speakers: Participant[]) => {
        // The speaker layout keeps the last one heard through silences.
        const loudest = speakers.find((p) => !p.isLocal);
        if (loudest) setSpeaker(loudest.identity);
        bump();
      })
      .on(RoomEvent.ConnectionQualityChanged, bump)
      .on(RoomEvent.AudioPlaybackStatusChanged, bump)
      .on(RoomEvent.ParticipantAttributesChanged, (changed: Record<string, string>, p) => {
        if ("hand" in changed) {
          const name = label(p);
          announce(
            changed.hand
              ? t(p.isLocal ? "call.handUpSelf" : "call.handUpNamed", { name })
              : t(p.isLocal ? "call.handDownSelf" : "call.handDownNamed", { name }),
          );
        }
        bump();
      })
      .on(RoomEvent.ParticipantMetadataChanged, bump)
      .on(RoomEvent.Reconnecting, () => setPhase("reconnecting"))
      .on(RoomEvent.Reconnected, () => setPhase("connected"))
      .on(RoomEvent.Disconnected, (reason?: DisconnectReason) => {
        if (reason === DisconnectReason.ROOM_DELETED) setPhase("ended");
        else if (reason === DisconnectReason.PARTICIPANT_REMOVED) setPhase("removed");
        else if (reason === DisconnectReason.CLIENT_INITIATED) return;
        else setPhase((p) => (p === "connecting" ? p : "disconnected"));
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
        const seen = pushes.current;
        api<RoomJson>("GET", `/api/livekit/rooms/${roomId}`).then((fresh) => {
          if (pushes.current === seen) setRoomJson(fresh);
        }, () => {});
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
          setProblem(t("call.refused"));
        } else {
          setPhase("unreachable");
        }
        return;
      }
      if (cancelled) return;
      setPhase("connected");
      await publishMedia(room, mediaPrefs, isVideo, status.error);
    })();

    return () => {
      cancelled = true;
      room.removeAllListeners();
      room.disconnect();
    };
  }, [room, waiting, checking]);

  // What this browser receives follows the data saver, for everyone who joins later too.
  useEffect(() => {
    if (phase === "connected") applyDataSaver(room, prefs.saver);
  }, [room, phase, version, prefs.saver]);

  const lp = room.localParticipant;
  const participants: Participant[] = [lp, ...room.remoteParticipants.values()];
  const hands = handQueue(participants);
  const handRaised = hands.some((h) => h.identity === lp.identity);

  /** Leaves from any state: connected, connecting, reconnecting or unreachable. */
  async function leave() {
    await room.disconnect();
    setPhase("left");
    // A member's page says so at once; a guest's departure is LiveKit's to report.
    if (member) await api("POST", `/api/livekit/rooms/${roomId}/leave`).catch(() => {});
  }

  async function endForAll() {
    setEnding(false);
    try {
      await api("DELETE", `/api/livekit/rooms/${roomId}`);
      await room.disconnect();
      setPhase("ended");
    } catch (err) {
      status.error(messageOf(err));
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
          status.info(t("call.mutedOther", { name: label(p) }));
        } catch (err) {
          status.error(messageOf(err));
        }
      },
      async remove(p: Participant) {
        try {
          await api("DELETE", participantPath(roomId, p.identity));
          status.info(t("call.removedOther", { name: label(p) }));
        } catch (err) {
          status.error(messageOf(err));
        }
      },
    }
    : undefined;

  async function toggle(source: "mic" | "camera" | "screen", on?: boolean) {
    try {
      if (source === "mic") await lp.setMicrophoneEnabled(on ?? !lp.isMicrophoneEnabled);
      if (source === "camera") await lp.setCameraEnabled(on ?? !lp.isCameraEnabled);
      // The shared tab's or screen's sound too, where the browser offers it.
      if (source === "screen") {
        await lp.setScreenShareEnabled(!lp.isScreenShareEnabled, { audio: true });
      }
      // Push-to-talk (`on` given) is momentary: the remembered choice stays as it was.
      if (source === "mic" && on === undefined) update({ mic_on: lp.isMicrophoneEnabled });
      if (source === "camera") update({ cam_on: lp.isCameraEnabled });
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
      update({ [DEVICE_PREF[kind]]: id });
    } catch (err) {
      status.error(
        kind === "audiooutput"
          ? t("call.noSpeaker")
          : mediaErrorMessage(err, kind === "videoinput" ? "camera" : "mic"),
      );
    }
  }

  /** Through the app: the time it reached the server orders the queue. */
  async function raiseHand(raised: boolean) {
    try {
      await api("POST", `/api/livekit/rooms/${roomId}/hand`, { raised });
    } catch (err) {
      status.error(messageOf(err));
    }
  }

  const openPanel = (which: Panel) => setPanel((p) => (p === which ? null : which));
  const inCall = !waiting && !checking && (phase === "connected" || phase === "reconnecting");
  const talking = useShortcuts({
    micOn: lp.isMicrophoneEnabled,
    setMic: (on) => inCall && toggle("mic", on),
    run(action: Action) {
      if (!inCall) return;
      if (action === "mic" || action === "camera") {
        if (action === "camera" && !isVideo) return;
        toggle(action);
      } else if (action === "chat") openPanel("chat");
      else if (action === "people") roomJson && user && openPanel("people");
      else if (action === "hand") raiseHand(!handRaised);
      else if (action === "leave") leave();
      else if (action === "help") setHelp(true);
    },
  });

  const focus = inFocus(participants, pinned, speaker) ?? lp;
  usePipView(inCall ? pip.win : null, {
    focus,
    version,
    mic: lp.isMicrophoneEnabled,
    onMic: () => toggle("mic"),
    onLeave: leave,
  });

  const people = roomJson && user && (
    <People room={roomJson} me={user.id} status={status} onRoom={setRoomJson} />
  );

  if (waiting) {
    return (
      <Lobby
        roomId={roomId}
        title={title}
        video={isVideo}
        name={user?.display_name ?? props.guestName ?? ""}
        signedIn={!!user}
        prefs={prefs}
        update={update}
        onAdmitted={(token, asMember) => {
          admittedToken.current = token;
          setMember(asMember);
          setWaiting(false);
          setAttempt((a) => a + 1);
        }}
      />
    );
  }

  if (checking) {
    return (
      <section class="card joiner" aria-labelledby="check-title">
        <DeviceCheck
          video={isVideo}
          name={user?.display_name ?? props.guestName ?? ""}
          prefs={prefs}
          update={update}
        >
          <p class="muted small">{t("call.ready")}</p>
          <h1 id="check-title" class="call-title">{title}</h1>
          <button
            type="button"
            class="primary big"
            onClick={() => {
              markChecked(roomId);
              setChecking(false);
            }}
          >
            {t("call.joinNow")}
          </button>
          <Checkbox
            class="small"
            checked={prefs.remember}
            onChange={(remember) => update({ remember })}
          >
            {t("call.remember")}
          </Checkbox>
        </DeviceCheck>
      </section>
    );
  }

  if (!inCall) {
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
            <h2 id="people-title">{t("call.people")}</h2>
            <StatusLine status={status} />
            {people}
          </section>
        )}
      </>
    );
  }

  return (
    <div class="call" data-phase={phase} data-panel={panel ?? undefined}>
      <div class="call-head">
        <h1 class="call-title">{title}</h1>
        <span class="muted small">
          {tn(participants.length, "call.count.one", "call.count.other")}
        </span>
        {talking && <span class="badge live">{t("call.talking")}</span>}
        {prefs.saver !== "auto" && (
          <span class="badge" title={t("call.saverTitle")}>
            {prefs.saver === "audio" ? t("call.saverAudio") : t("more.low")}
          </span>
        )}
      </div>
      {phase === "reconnecting" && <p class="banner" role="status">{t("call.reconnecting")}</p>}
      {!room.canPlaybackAudio && (
        <p class="banner" role="status">
          {t("call.soundBlocked")}{" "}
          <button type="button" onClick={() => room.startAudio()}>{t("call.allowAudio")}</button>
        </p>
      )}
      <StatusLine status={status} />
      <div class="sr-only" role="log" aria-live="polite" data-announcements>
        {news.map((n) => <p key={n.id}>{n.text}</p>)}
      </div>
      <div class="call-body">
        <Stage
          participants={participants}
          layout={prefs.layout}
          pinned={pinned}
          onPin={setPinned}
          speaker={speaker}
          selfView={prefs.self_view}
          host={hostControls}
          hands={hands}
          reactions={reactions}
          version={version}
        />
        {hands.length > 0 && (
          <Hands roomId={roomId} queue={hands} moderator={isModerator} status={status} />
        )}
        {panel === "chat" && <ChatPanel chat={chat} onError={status.error} />}
        {panel === "people" && people && (
          <aside class="panel people-panel" aria-labelledby="people-panel-title">
            <h2 class="small" id="people-panel-title">{t("call.people")}</h2>
            {isModerator && roomJson && (
              <Moderation room={roomJson} status={status} onRoom={setRoomJson} />
            )}
            {people}
          </aside>
        )}
        {panel === "more" && (
          <Settings
            room={room}
            video={isVideo}
            prefs={prefs}
            update={update}
            onDevice={switchDevice}
            inviteUrl={inviteUrl}
            title={title}
            status={status}
            canShare={isVideo && canShare}
            sharing={lp.isScreenShareEnabled}
            onShare={() => toggle("screen")}
            host={isHost}
            onEndForAll={() => setEnding(true)}
            pip={!!pip.win}
            onPip={pip.toggle}
            onHelp={() => setHelp(true)}
          />
        )}
      </div>
      <Controls
        mic={lp.isMicrophoneEnabled}
        camera={lp.isCameraEnabled}
        sharing={lp.isScreenShareEnabled}
        video={isVideo}
        canShare={isVideo && canShare}
        handRaised={handRaised}
        panel={panel}
        unread={chat.unread}
        people={!!people}
        host={isHost}
        onToggle={toggle}
        onHand={() => raiseHand(!handRaised)}
        onReact={async (emoji) => {
          if (!await react(emoji)) status.error(t("call.reactionFailed"));
        }}
        onPanel={openPanel}
        onLeave={leave}
        onEndForAll={() => setEnding(true)}
      />
      {help && <ShortcutHelp onClose={() => setHelp(false)} />}
      {ending && (
        <ConfirmEndForAll
          title={title}
          onConfirm={endForAll}
          onCancel={() => setEnding(false)}
        />
      )}
    </div>
  );
}

const participantPath = (room: string, identity: string) =>
  `/api/livekit/rooms/${room}/participants/${encodeURIComponent(identity)}`;
