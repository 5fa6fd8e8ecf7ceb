// The call's chat: messages over LiveKit's data channel (topic "chat"), the sender being who
// LiveKit says sent it, never a name in the payload. The last 200 are kept.
import type { Room } from "livekit-client";
import { useEffect, useRef, useState } from "preact/hooks";
import { CHAT_MAX_CHARS } from "../../protocol/api.ts";
import { sendTopic, useTopic } from "./data.ts";
import { label } from "./Tile.tsx";

export interface ChatMessage {
  id: number;
  from: string;
  text: string;
  mine: boolean;
}

export interface Chat {
  messages: ChatMessage[];
  /** Messages that arrived while the panel was closed. */
  unread: number;
  /** Sends to everyone; false when it could not be sent. */
  send(text: string): Promise<boolean>;
}

export function useChat(room: Room, open: boolean): Chat {
  const [messages, setMessages] = useState<ChatMessage[]>([]);
  const [unread, setUnread] = useState(0);
  const openRef = useRef(open);
  openRef.current = open;
  useEffect(() => {
    if (open) setUnread(0);
  }, [open]);

  const add = (from: string, text: string, mine: boolean) =>
    setMessages((list) => [...list.slice(-199), {
      id: Date.now() + Math.random(),
      from,
      text: text.slice(0, CHAT_MAX_CHARS),
      mine,
    }]);

  useTopic(room, "chat", ({ text }, sender) => {
    if (typeof text !== "string" || !text.trim()) return;
    add(sender ? label(sender) : "Someone", text, false);
    if (!openRef.current) setUnread((n) => n + 1);
  });

  return {
    messages,
    unread,
    async send(raw) {
      const text = raw.trim().slice(0, CHAT_MAX_CHARS);
      if (!text) return true;
      const sent = await sendTopic(room, "chat", { text }, true);
      if (sent) add("You", text, true);
      return sent;
    },
  };
}

export function ChatPanel({ chat, onError }: { chat: Chat; onError(message: string): void }) {
  const [draft, setDraft] = useState("");
  const list = useRef<HTMLOListElement>(null);
  useEffect(() => {
    list.current?.lastElementChild?.scrollIntoView({ block: "nearest" });
  }, [chat.messages.length]);
  async function submit(event: Event) {
    event.preventDefault();
    if (await chat.send(draft)) setDraft("");
    else onError("The message could not be sent. Check your connection and send it again.");
  }
  return (
    <aside class="panel chat" aria-label="Chat">
      <h2 class="small">Chat</h2>
      <ol ref={list} class="messages" aria-live="polite">
        {chat.messages.length === 0 && (
          <li class="muted small">Messages are seen by everyone in the call, and not kept.</li>
        )}
        {chat.messages.map((m) => (
          <li key={m.id} class={m.mine ? "mine" : undefined}>
            <strong>{m.from}</strong> {m.text}
          </li>
        ))}
      </ol>
      <form class="row" onSubmit={submit}>
        <label class="grow">
          <span class="sr-only">Message</span>
          <input
            value={draft}
            maxLength={CHAT_MAX_CHARS}
            placeholder="Message everyone"
            onInput={(e) => setDraft((e.target as HTMLInputElement).value)}
          />
        </label>
        <button type="submit">Send</button>
      </form>
    </aside>
  );
}
