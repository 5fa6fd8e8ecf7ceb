import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import type { CallType, RoomJson, UserJson } from "../protocol/api.ts";
import { People } from "./People.tsx";
import { CallState } from "./call/CallState.tsx";
import { DeviceCheck } from "./call/DeviceCheck.tsx";
import { InCall } from "./call/InCall.tsx";
import { Lobby } from "./call/Lobby.tsx";
import { CallSession } from "./call/session.ts";
import { RingingHere, useMeetingHere } from "./inbox/RingingHere.tsx";
import { checkedFor, markChecked } from "./prefs.ts";
import { Checkbox, type Status, StatusLine, useStatus } from "./ui.tsx";
import { t } from "../i18n/t.ts";

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

/**
 * The call: a device check unless this tab already did one (or the person chose to skip it),
 * the lobby while waiting to be let in, then the call itself against LiveKit with a token from
 * the app. The state lives in a CallSession (call/session.ts); this only picks what to draw.
 */
export function Call(props: CallProps) {
  const { roomId, user } = props;
  const status = useStatus();
  const [session] = useState(() =>
    new CallSession({ ...props, knock: !!props.knock }, { info: status.info, error: status.error })
  );
  useEffect(() => () => session.dispose(), []);
  useMeetingHere(roomId);
  const [checking, setChecking] = useState(
    () => !props.knock && !session.prefs.peek().remember && !checkedFor(roomId),
  );
  const room = session.room.value;
  const waiting = session.waiting.value;
  const member = session.member.value;
  const phase = session.phase.value;
  const roomJson = session.roomJson.value;
  const name = user?.display_name ?? props.guestName ?? "";

  useEffect(() => session.follow(), [member]);
  // What Join needs is fetched while the person looks at the device check.
  useEffect(() => {
    if (checking && !waiting) return session.prepare();
  }, [checking, waiting]);
  useEffect(() => {
    if (!waiting && !checking) return session.connect(room);
  }, [room, waiting, checking]);

  const people = roomJson && user && (
    <People
      room={roomJson}
      me={user.id}
      status={status}
      onRoom={(r) => session.roomJson.value = r}
    />
  );

  if (waiting) {
    return (
      <Lobby
        roomId={roomId}
        title={session.title}
        video={session.isVideo}
        name={name}
        signedIn={!!user}
        prefs={session.prefs.value}
        update={(change) => session.update(change)}
        handoff={session.ahead.handoff}
        onAdmitted={(token, asMember) => session.admitted(token, asMember)}
      />
    );
  }

  if (checking) {
    return (
      <Check
        session={session}
        name={name}
        onJoin={() => {
          markChecked(roomId);
          session.joinFromCheck();
          setChecking(false);
        }}
      />
    );
  }

  if (phase !== "connected" && phase !== "reconnecting") {
    return (
      <>
        <CallState
          phase={phase}
          problem={session.problem.value}
          roomId={roomId}
          title={session.title}
          member={member}
          onRetry={() => session.retry()}
          onLeave={() => session.leave()}
        />
        {people && phase !== "ended" && <PeopleCard status={status}>{people}</PeopleCard>}
      </>
    );
  }

  return <InCall session={session} status={status} inviteUrl={props.inviteUrl} people={people} />;
}

/** The device check before joining: the preview, the devices, and "Join now". */
function Check({ session, name, onJoin }: { session: CallSession; name: string; onJoin(): void }) {
  const prefs = session.prefs.value;
  return (
    <section class="card joiner" aria-labelledby="check-title">
      <DeviceCheck
        video={session.isVideo}
        name={name}
        prefs={prefs}
        update={(change) => session.update(change)}
        handoff={session.ahead.handoff}
      >
        <RingingHere roomId={session.roomId} />
        <p class="muted small">{t("call.ready")}</p>
        <h1 id="check-title" class="call-title">{session.title}</h1>
        <button type="button" class="primary big" onClick={onJoin}>
          {t("call.joinNow")}
        </button>
        <Checkbox
          class="small"
          checked={prefs.remember}
          onChange={(remember) => session.update({ remember })}
        >
          {t("call.remember")}
        </Checkbox>
      </DeviceCheck>
    </section>
  );
}

function PeopleCard({ status, children }: { status: Status; children: ComponentChildren }) {
  return (
    <section class="card narrow" aria-labelledby="people-title">
      <h2 id="people-title">{t("call.people")}</h2>
      <StatusLine status={status} />
      {children}
    </section>
  );
}
