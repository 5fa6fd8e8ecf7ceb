// The call's icons, and the round buttons that show them: one small SVG path each (24-unit box, drawn with the text's colour). They
// are decoration: every button that shows one carries its name in text for assistive
// technology.

const PATHS = {
  mic:
    "M12 14a3 3 0 0 0 3-3V5a3 3 0 0 0-6 0v6a3 3 0 0 0 3 3zm5-3a5 5 0 0 1-10 0H5a7 7 0 0 0 6 6.9V21h2v-3.1a7 7 0 0 0 6-6.9z",
  micOff:
    "M19 11h-2c0 .7-.1 1.3-.4 1.9l1.5 1.5c.6-1 .9-2.2.9-3.4zM15 11V5a3 3 0 0 0-5.9-.8L15 10.1zM4.3 3 3 4.3l6 6V11a3 3 0 0 0 4.5 2.6l1.5 1.5A5 5 0 0 1 7 11H5a7 7 0 0 0 6 6.9V21h2v-3.1c1-.1 1.9-.5 2.7-1L19.7 21l1.3-1.3z",
  cam: "M17 10.5V7a1 1 0 0 0-1-1H4a1 1 0 0 0-1 1v10a1 1 0 0 0 1 1h12a1 1 0 0 0 1-1v-3.5l4 4v-11z",
  camOff:
    "M21 6.5l-4 4V7a1 1 0 0 0-1-1H9.8L21 17.2zM3.3 2 2 3.3 4.7 6H4a1 1 0 0 0-1 1v10a1 1 0 0 0 1 1h12c.2 0 .4-.1.5-.2l3.2 3.2 1.3-1.3z",
  screen:
    "M20 18a2 2 0 0 0 2-2V6a2 2 0 0 0-2-2H4a2 2 0 0 0-2 2v10a2 2 0 0 0 2 2H0v2h24v-2zM13 14.2V12c-3 0-5 1-6.5 3 .6-3 2.3-6 6.5-6.6V7l4 3.6z",
  hand:
    "M21 7a1.5 1.5 0 0 0-3 0v5h-1V4a1.5 1.5 0 0 0-3 0v7h-1V2.5a1.5 1.5 0 0 0-3 0V11H9V5a1.5 1.5 0 0 0-3 0v10l-2.3-2.4a1.5 1.5 0 0 0-2.2 2L6 20a6 6 0 0 0 4.3 2H15a6 6 0 0 0 6-6z",
  smile:
    "M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm3.5 6a1.5 1.5 0 1 1 0 3 1.5 1.5 0 0 1 0-3zm-7 0a1.5 1.5 0 1 1 0 3 1.5 1.5 0 0 1 0-3zM12 17.5A5.5 5.5 0 0 1 6.9 14h10.2a5.5 5.5 0 0 1-5.1 3.5z",
  chat: "M20 2H4a2 2 0 0 0-2 2v18l4-4h14a2 2 0 0 0 2-2V4a2 2 0 0 0-2-2z",
  people:
    "M16 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6zm-8 0a3 3 0 1 0 0-6 3 3 0 0 0 0 6zm0 2c-2.3 0-7 1.2-7 3.5V19h14v-2.5C15 14.2 10.3 13 8 13zm8 0h-1c1.2.8 2 2 2 3.5V19h6v-2.5c0-2.3-4.7-3.5-7-3.5z",
  more:
    "M12 8a2 2 0 1 0 0-4 2 2 0 0 0 0 4zm0 2a2 2 0 1 0 0 4 2 2 0 0 0 0-4zm0 6a2 2 0 1 0 0 4 2 2 0 0 0 0-4z",
  leave:
    "M12 9c-1.6 0-3.1.3-4.6.7v3.1c0 .4-.2.7-.6.9-1 .5-1.9 1.1-2.6 1.8a1 1 0 0 1-1.4 0L.3 13a1 1 0 0 1 0-1.4C3.3 8.7 7.5 7 12 7s8.7 1.7 11.7 4.6a1 1 0 0 1 0 1.4l-2.5 2.5a1 1 0 0 1-1.4 0c-.8-.7-1.6-1.3-2.6-1.8a1 1 0 0 1-.6-.9V9.7C15.1 9.3 13.6 9 12 9z",
  pin: "M16 9V4h1V2H7v2h1v5l-2 2v2h5.2v7h1.6v-7H18v-2z",
} as const;

export type IconName = keyof typeof PATHS;

export function Icon({ name }: { name: IconName }) {
  return (
    <svg class="icon" viewBox="0 0 24 24" width="24" height="24" aria-hidden="true">
      <path d={PATHS[name]} fill="currentColor" />
    </svg>
  );
}

/**
 * A round icon button named in text (for assistive technology, and as its tooltip). `off`: a
 * device that is off, drawn red; `extra`: a count on its corner.
 */
export function RoundButton(
  { icon, text, pressed, expanded, off, onClick, extra, class: cls }: {
    icon: IconName;
    text: string;
    pressed?: boolean;
    expanded?: boolean;
    off?: boolean;
    onClick(): void;
    extra?: string;
    class?: string;
  },
) {
  return (
    <button
      type="button"
      class={`round ${off ? "off" : ""} ${cls ?? ""}`}
      aria-pressed={pressed}
      aria-expanded={expanded}
      title={text}
      onClick={onClick}
    >
      <Icon name={icon} />
      <span class="sr-only">{text}</span>
      {extra && <span class="count">{extra}</span>}
    </button>
  );
}

/**
 * The microphone or camera on/off button: its icon, pressed state and red colour all follow
 * from whether the device is on. `text`: what pressing it does, when on and when off.
 */
export function DeviceButton(
  { device, on, text, onClick }: {
    device: "mic" | "cam";
    on: boolean;
    text: readonly [whenOn: string, whenOff: string];
    onClick(): void;
  },
) {
  return (
    <RoundButton
      icon={on ? device : (`${device}Off` as const)}
      text={on ? text[0] : text[1]}
      pressed={!on}
      off={!on}
      onClick={onClick}
    />
  );
}
