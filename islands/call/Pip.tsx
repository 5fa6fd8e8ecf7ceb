// Picture-in-picture of the call where the browser offers Document Picture-in-Picture: a small
// always-on-top window with the person in focus and the microphone and leave buttons, rendered
// by the same components as the page (the window shares its stylesheet).
import type { Participant } from "livekit-client";
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { DeviceButton, Icon } from "./icons.tsx";
import { Tile } from "./Tile.tsx";
import { t } from "../../i18n/t.ts";

interface PipApi {
  requestWindow(options: { width: number; height: number }): Promise<Window>;
}

const pipApi = (): PipApi | undefined =>
  (globalThis as { documentPictureInPicture?: PipApi }).documentPictureInPicture;

export function usePip() {
  const [win, setWin] = useState<Window | null>(null);
  useEffect(() => () => win?.close(), [win]);
  return {
    win,
    /** Absent where the browser has no Document Picture-in-Picture. */
    toggle: pipApi()
      ? async () => {
        if (win) return win.close();
        const opened = await pipApi()!.requestWindow({ width: 360, height: 260 });
        for (const link of document.querySelectorAll("link[rel=stylesheet]")) {
          opened.document.head.append(link.cloneNode());
        }
        opened.document.body.className = "pip";
        opened.addEventListener("pagehide", () => setWin(null));
        setWin(opened);
      }
      : undefined,
  };
}

/** Draws the picture-in-picture window's content whenever the call changes. */
export function usePipView(
  win: Window | null,
  view: { focus?: Participant; version: number; mic: boolean; onMic(): void; onLeave(): void },
) {
  useEffect(() => {
    if (!win) return;
    render(
      <div class="pip-view">
        {view.focus && <Tile participant={view.focus} version={view.version} />}
        <div class="controls">
          <DeviceButton
            device="mic"
            on={view.mic}
            text={[t("call.mute"), t("call.unmute")]}
            onClick={view.onMic}
          />
          <button type="button" class="leave" onClick={view.onLeave}>
            <Icon name="leave" />
            <span class="label">{t("call.leave")}</span>
          </button>
        </div>
      </div>,
      win.document.body,
    );
  });
  useEffect(() => () => win && render(null, win.document.body), [win]);
}
