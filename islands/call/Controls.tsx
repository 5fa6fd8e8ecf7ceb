// The call's control bar: icon buttons, each named in text for assistive technology and with
// a tooltip; the state a button toggles is its aria-pressed. On a phone the bar sits at the
// bottom within thumb reach, and screen sharing moves into "More".
import type { Reaction } from "../../protocol/data.ts";
import { useState } from "preact/hooks";
import { DeviceButton, Icon, RoundButton } from "./icons.tsx";
import { ReactionBar } from "./Moderation.tsx";
import { t } from "../../i18n/t.ts";

export type Panel = "chat" | "people" | "more";

export interface ControlsProps {
  mic: boolean;
  camera: boolean;
  sharing: boolean;
  video: boolean;
  canShare: boolean;
  handRaised: boolean;
  panel: Panel | null;
  unread: number;
  /** A member (the people list is theirs to see). */
  people: boolean;
  host: boolean;
  onToggle(source: "mic" | "camera" | "screen"): void;
  onHand(): void;
  onReact(emoji: Reaction): void;
  onPanel(panel: Panel): void;
  onLeave(): void;
  onEndForAll(): void;
}

export function Controls(props: ControlsProps) {
  const [reacting, setReacting] = useState(false);
  const { panel } = props;
  return (
    <div class="controls" role="toolbar" aria-label={t("call.controls")}>
      <DeviceButton
        device="mic"
        on={props.mic}
        text={[t("call.mute"), t("call.unmute")]}
        onClick={() => props.onToggle("mic")}
      />
      {props.video && (
        <DeviceButton
          device="cam"
          on={props.camera}
          text={[t("call.camOff"), t("call.camOn")]}
          onClick={() => props.onToggle("camera")}
        />
      )}
      {props.canShare && (
        <RoundButton
          icon="screen"
          class="wide-only"
          text={props.sharing ? t("call.shareStop") : t("call.share")}
          pressed={props.sharing}
          onClick={() => props.onToggle("screen")}
        />
      )}
      <RoundButton
        icon="hand"
        text={props.handRaised ? t("call.handDown") : t("call.handUp")}
        pressed={props.handRaised}
        onClick={props.onHand}
      />
      <span class="popover-anchor">
        <RoundButton
          icon="smile"
          text={t("call.reactions")}
          expanded={reacting}
          onClick={() => setReacting(!reacting)}
        />
        {reacting && (
          <span class="popover">
            <ReactionBar
              onReact={(emoji) => {
                props.onReact(emoji);
                setReacting(false);
              }}
            />
          </span>
        )}
      </span>
      <RoundButton
        icon="chat"
        text={props.unread > 0 ? t("call.chatNew", { n: props.unread }) : t("chat.title")}
        expanded={panel === "chat"}
        onClick={() => props.onPanel("chat")}
        extra={props.unread > 0 ? String(props.unread) : undefined}
      />
      {props.people && (
        <RoundButton
          icon="people"
          text={t("call.people")}
          expanded={panel === "people"}
          onClick={() => props.onPanel("people")}
        />
      )}
      <RoundButton
        icon="more"
        text={t("call.more")}
        expanded={panel === "more"}
        onClick={() => props.onPanel("more")}
      />
      <button type="button" class="leave" title={t("call.leaveTitle")} onClick={props.onLeave}>
        <Icon name="leave" />
        <span class="label">{t("call.leave")}</span>
      </button>
      {props.host && (
        <button type="button" class="danger end wide-only" onClick={props.onEndForAll}>
          {t("common.endForAll")}
        </button>
      )}
    </div>
  );
}
