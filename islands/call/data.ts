// Messages on one topic of LiveKit's data channel, as JSON, with the participant LiveKit names
// as their sender (never a name in the payload). What does not parse is ignored.
import { type Participant, type Room, RoomEvent } from "livekit-client";
import { useEffect, useRef } from "preact/hooks";

export function useTopic(
  room: Room,
  topic: string,
  onMessage: (message: Record<string, unknown>, sender?: Participant) => void,
) {
  const handler = useRef(onMessage);
  handler.current = onMessage;
  useEffect(() => {
    const onData = (payload: Uint8Array, sender?: Participant, _kind?: unknown, t?: string) => {
      if (t !== topic) return;
      let message: unknown;
      try {
        message = JSON.parse(new TextDecoder().decode(payload));
      } catch {
        return;
      }
      if (message && typeof message === "object") {
        handler.current(message as Record<string, unknown>, sender);
      }
    };
    room.on(RoomEvent.DataReceived, onData);
    return () => {
      room.off(RoomEvent.DataReceived, onData);
    };
  }, [room, topic]);
}

/** Sends a JSON message on a topic; false when it could not be sent. */
export async function sendTopic(
  room: Room,
  topic: string,
  message: Record<string, unknown>,
  reliable: boolean,
): Promise<boolean> {
  try {
    await room.localParticipant.publishData(new TextEncoder().encode(JSON.stringify(message)), {
      reliable,
      topic,
    });
    return true;
  } catch {
    return false;
  }
}
