// The page's one AudioContext for the ring. Browsers let a page make sound only once the person
// has touched or typed on it, so it is made (or resumed) on their first pointer press or key,
// and the ring is silent until then: the prompt says so.
import { useEffect, useState } from "preact/hooks";

let ctx: AudioContext | null = null;
let armed = false;
const listeners = new Set<(on: boolean) => void>();

const running = () => ctx?.state === "running";
const changed = () => listeners.forEach((l) => l(running()));

function unlock() {
  if (running()) return;
  try {
    ctx ??= new AudioContext();
    ctx.onstatechange = changed;
    ctx.resume().then(changed, () => {});
  } catch {
    // No sound here: the prompt is still on screen.
  }
}

/** The context, when the page may make sound now; null otherwise. */
export function soundAllowed(): AudioContext | null {
  return running() ? ctx : null;
}

/** Whether the page may make sound; listens for the gesture that allows it. */
export function useSound(): boolean {
  const [on, setOn] = useState(false);
  useEffect(() => {
    if (!armed) {
      armed = true;
      for (const type of ["pointerdown", "keydown"]) addEventListener(type, unlock, true);
    }
    listeners.add(setOn);
    setOn(running());
    return () => void listeners.delete(setOn);
  }, []);
  return on;
}
