// A silent microphone for the connection check (./connection_check.ts): it publishes without
// asking for a device.
import { LocalAudioTrack } from "livekit-client";

/** A silent audio track: publishing needs no microphone, so the check asks for nothing. */
export function silentTrack(): { track: LocalAudioTrack; close: () => void } {
  const ctx = new AudioContext();
  const osc = ctx.createOscillator();
  const gain = ctx.createGain();
  gain.gain.value = 0;
  const out = ctx.createMediaStreamDestination();
  osc.connect(gain).connect(out);
  osc.start();
  const [media] = out.stream.getAudioTracks();
  return {
    track: new LocalAudioTrack(media, undefined, false),
    close: () => {
      osc.stop();
      ctx.close().catch(() => {});
    },
  };
}
