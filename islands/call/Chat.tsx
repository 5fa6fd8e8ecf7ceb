// The call's chat: messages over LiveKit's data channel (topic "chat"), the sender being who
// LiveKit says sent it, never a name in the payload. The last 200 are kept.
import type { Room } from "livekit-client";
import { useEffect, useRef, useState } from "preact/hooks";
import { CHAT_MAX_CHARS } from "../../protocol/api.ts";
import { sendTopic, useTopic } from "./data.ts";
import { label } from "./Tile.tsx";
import { t } from "../../i18n/t.ts";

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

/** `heard`: each message from someone else, as it arrives (for the call's announcements). */
export function useChat(
  room: Room,
  open: boolean,
  heard?: (from: string, text: string) => void,
): Chat {
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
    const from = sender ? label(sender) : t("call.someone");
    add(from, text, false);
    heard?.(from, text.slice(0, CHAT_MAX_CHARS));
    if (!openRef.current) setUnread((n) => n + 1);
  });

  return {
    messages,
    unread,
    async send(raw) {
      const text = raw.trim().slice(0, CHAT_MAX_CHARS);
      if (!text) return true;
      const sent = await sendTopic(room, "chat", { text }, true);
      if (sent) add(t("chat.you"), text, true);
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
    else onError(t("chat.notSent"));
  }
  return (
    <aside class="panel chat" aria-labelledby="chat-title">
      <h2 class="small" id="chat-title">{t("chat.title")}</h2>
      <ol ref={list} class="messages">
        {chat.messages.length === 0 && <li class="muted small">{t("chat.empty")}</li>}
        {chat.messages.map((m) => (
          <li key={m.id} class={m.mine ? "mine" : undefined}>
            <strong>{m.from}</strong> {m.text}
          </li>
        ))}
      </ol>
      <form class="row" onSubmit={submit}>
        <label class="grow">
          <span class="sr-only">{t("chat.message")}</span>
          <input
            value={draft}
            maxLength={CHAT_MAX_CHARS}
            placeholder={t("chat.placeholder")}
            onInput={(e) => setDraft((e.target as HTMLInputElement).value)}
          />
        </label>
        <button type="submit">{t("chat.send")}</button>
      </form>
    </aside>
  );
}
