// Messages on one topic of LiveKit's data channel (protocol/data.ts), with the participant
// LiveKit names as their sender. What does not parse is dropped.
import { type Participant, type Room, RoomEvent } from "livekit-client";
import { type DataPayloads, encodePayload, parsePayload, type Topic } from "../../protocol/data.ts";

/** Follows one topic of `room` until the returned function is called. */
export function onTopic<T extends Topic>(
  room: Room,
  topic: T,
  onMessage: (message: DataPayloads[T], sender?: Participant) => void,
): () => void {
  const onData = (payload: Uint8Array, sender?: Participant, _kind?: unknown, t?: string) => {
    if (t !== topic) return;
    const message = parsePayload(topic, payload);
    if (message) onMessage(message, sender);
    else console.warn(`dropped a malformed "${topic}" message`);
  };
  room.on(RoomEvent.DataReceived, onData);
  return () => {
    room.off(RoomEvent.DataReceived, onData);
  };
}

/** Sends a message on a topic; false when it could not be sent. */
export async function sendTopic<T extends Topic>(
  room: Room,
  topic: T,
  message: DataPayloads[T],
  reliable: boolean,
): Promise<boolean> {
  try {
    await room.localParticipant.publishData(encodePayload(topic, message), { reliable, topic });
    return true;
  } catch {
    return false;
  }
}
