// The call's chat: messages over LiveKit's data channel (topic "chat"), the sender being who
// LiveKit says sent it, never a name in the payload. The last 200 are kept.
import type { Room } from "livekit-client";
import { signal } from "@preact/signals";
import { useEffect, useRef, useState } from "preact/hooks";
import { CHAT_MAX_CHARS } from "../../protocol/api.ts";
import { onTopic, sendTopic } from "./data.ts";
import { label } from "./Tile.tsx";
import { t } from "../../i18n/t.ts";

export interface ChatMessage {
  id: number;
  from: string;
  text: string;
  mine: boolean;
}

/**
 * The call's messages, kept across reconnections; `heard` is told of each message from someone
 * else as it arrives (for the call's announcements), `isOpen` whether the panel shows them.
 */
export class ChatLog {
  readonly messages = signal<ChatMessage[]>([]);
  /** Messages that arrived while the panel was closed. */
  readonly unread = signal(0);
  private room: Room | null = null;

  constructor(
    private readonly isOpen: () => boolean,
    private readonly heard: (from: string, text: string) => void,
  ) {}

  /** Follows `room`'s chat until the returned function is called. */
  attach(room: Room): () => void {
    this.room = room;
    return onTopic(room, "chat", ({ text }, sender) => {
      const from = sender ? label(sender) : t("call.someone");
      this.add(from, text, false);
      this.heard(from, text.slice(0, CHAT_MAX_CHARS));
      if (!this.isOpen()) this.unread.value++;
    });
  }

  /** The panel was opened: everything is read. */
  read() {
    this.unread.value = 0;
  }

  /** Sends to everyone; false when it could not be sent. */
  async send(raw: string): Promise<boolean> {
    const text = raw.trim().slice(0, CHAT_MAX_CHARS);
    if (!text) return true;
    if (!this.room) return false;
    const sent = await sendTopic(this.room, "chat", { text }, true);
    if (sent) this.add(t("chat.you"), text, true);
    return sent;
  }

  private add(from: string, text: string, mine: boolean) {
    this.messages.value = [...this.messages.value.slice(-199), {
      id: Date.now() + Math.random(),
      from,
      text: text.slice(0, CHAT_MAX_CHARS),
      mine,
    }];
  }
}

export function ChatPanel({ chat, onError }: { chat: ChatLog; onError(message: string): void }) {
  const [draft, setDraft] = useState("");
  const messages = chat.messages.value;
  const list = useRef<HTMLOListElement>(null);
  useEffect(() => {
    list.current?.lastElementChild?.scrollIntoView({ block: "nearest" });
  }, [messages.length]);
  async function submit(event: Event) {
    event.preventDefault();
    if (await chat.send(draft)) setDraft("");
    else onError(t("chat.notSent"));
  }
  return (
    <aside class="panel chat" aria-labelledby="chat-title">
      <h2 class="small" id="chat-title">{t("chat.title")}</h2>
      <ol ref={list} class="messages">
        {messages.length === 0 && <li class="muted small">{t("chat.empty")}</li>}
        {messages.map((m) => (
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
