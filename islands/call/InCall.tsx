// The call on screen: its head, the stage, the side panels and the controls, drawn from the
// session's signals; every button dispatches to the session.
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import type { Status } from "../ui.tsx";
import { ConfirmEndForAll, StatusLine } from "../ui.tsx";
import { ChatPanel } from "./Chat.tsx";
import { Controls } from "./Controls.tsx";
import { handQueue, Hands, Moderation } from "./Moderation.tsx";
import { usePip, usePipView } from "./Pip.tsx";
import type { CallSession } from "./session.ts";
import { Settings } from "./Settings.tsx";
import { type Action, ShortcutHelp, useShortcuts } from "./Shortcuts.tsx";
import { inFocus, Stage } from "./Stage.tsx";
import { t, tn } from "../../i18n/t.ts";

const canShare = typeof navigator !== "undefined" &&
  "getDisplayMedia" in (navigator.mediaDevices ?? {});

export interface InCallProps {
  session: CallSession;
  status: Status;
  inviteUrl: string;
  /** The meeting's people and invitations, for a member (null for a guest). */
  people: ComponentChildren | null;
}

export function InCall({ session: s, status, inviteUrl, people }: InCallProps) {
  const [help, setHelp] = useState(false);
  const [ending, setEnding] = useState(false);
  const pip = usePip();
  const room = s.room.value;
  const version = s.version.value;
  const prefs = s.prefs.value;
  const panel = s.panel.value;
  const roomJson = s.roomJson.value;
  const lp = room.localParticipant;
  const participants = s.participants();
  const hands = handQueue(participants);
  const handRaised = hands.some((h) => h.identity === lp.identity);
  const isVideo = s.isVideo;
  const isModerator = s.isModerator;
  const leave = () => s.leave();

  const talking = useShortcuts({
    micOn: lp.isMicrophoneEnabled,
    setMic: (on) => s.toggle("mic", on),
    run(action: Action) {
      if (action === "mic" || action === "camera") {
        if (action === "camera" && !isVideo) return;
        s.toggle(action);
      } else if (action === "chat") s.openPanel("chat");
      else if (action === "people") people && s.openPanel("people");
      else if (action === "hand") s.raiseHand(!handRaised);
      else if (action === "leave") leave();
      else if (action === "help") setHelp(true);
    },
  });

  usePipView(pip.win, {
    focus: inFocus(participants, s.pinned.value, s.speaker.value) ?? lp,
    version,
    mic: lp.isMicrophoneEnabled,
    onMic: () => s.toggle("mic"),
    onLeave: leave,
  });

  return (
    <div class="call" data-phase={s.phase.value} data-panel={panel ?? undefined}>
      <CallHead session={s} count={participants.length} talking={talking} />
      <StatusLine status={status} />
      <div class="sr-only" role="log" aria-live="polite" data-announcements>
        {s.news.value.map((n) => <p key={n.id}>{n.text}</p>)}
      </div>
      <div class="call-body">
        <Stage
          participants={participants}
          layout={prefs.layout}
          pinned={s.pinned.value}
          onPin={(identity) => s.pinned.value = identity}
          speaker={s.speaker.value}
          selfView={prefs.self_view}
          host={s.hostControls()}
          hands={hands}
          reactions={s.reactions.shown.value}
          version={version}
        />
        {hands.length > 0 && (
          <Hands roomId={s.roomId} queue={hands} moderator={isModerator} status={status} />
        )}
        {panel === "chat" && <ChatPanel chat={s.chat} onError={status.error} />}
        {panel === "people" && people && (
          <aside class="panel people-panel" aria-labelledby="people-panel-title">
            <h2 class="small" id="people-panel-title">{t("call.people")}</h2>
            {isModerator && roomJson && (
              <Moderation
                room={roomJson}
                status={status}
                onRoom={(r) => s.roomJson.value = r}
              />
            )}
            {people}
          </aside>
        )}
        {panel === "more" && (
          <Settings
            room={room}
            video={isVideo}
            prefs={prefs}
            update={(change) => s.update(change)}
            onDevice={(kind, id) => s.switchDevice(kind, id)}
            inviteUrl={inviteUrl}
            title={s.title}
            status={status}
            canShare={isVideo && canShare}
            sharing={lp.isScreenShareEnabled}
            onShare={() => s.toggle("screen")}
            host={s.isHost}
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
        unread={s.chat.unread.value}
        people={!!people}
        host={s.isHost}
        onToggle={(source) => s.toggle(source)}
        onHand={() => s.raiseHand(!handRaised)}
        onReact={async (emoji) => {
          if (!await s.reactions.react(emoji)) status.error(t("call.reactionFailed"));
        }}
        onPanel={(which) => s.openPanel(which)}
        onLeave={leave}
        onEndForAll={() => setEnding(true)}
      />
      {help && <ShortcutHelp onClose={() => setHelp(false)} />}
      {ending && (
        <ConfirmEndForAll
          title={s.title}
          onConfirm={() => {
            setEnding(false);
            s.endForAll();
          }}
          onCancel={() => setEnding(false)}
        />
      )}
    </div>
  );
}

/** The meeting's name, how many are in it, and what is on: push-to-talk, the data saver. */
function CallHead(
  { session: s, count, talking }: { session: CallSession; count: number; talking: boolean },
) {
  const prefs = s.prefs.value;
  const room = s.room.value;
  s.version.value; // whether the browser lets the call play sound is LiveKit's to say
  return (
    <>
      <div class="call-head">
        <h1 class="call-title">{s.title}</h1>
        <span class="muted small">{tn(count, "call.count.one", "call.count.other")}</span>
        {talking && <span class="badge live">{t("call.talking")}</span>}
        {prefs.saver !== "auto" && (
          <span class="badge" title={t("call.saverTitle")}>
            {prefs.saver === "audio" ? t("call.saverAudio") : t("more.low")}
          </span>
        )}
      </div>
      {s.phase.value === "reconnecting" && (
        <p class="banner" role="status">{t("call.reconnecting")}</p>
      )}
      {!room.canPlaybackAudio && (
        <p class="banner" role="status">
          {t("call.soundBlocked")}{" "}
          <button type="button" onClick={() => room.startAudio()}>{t("call.allowAudio")}</button>
        </p>
      )}
    </>
  );
}
