// The call's state, apart from its views: the livekit-client Room of the current attempt, what
// the page knows of the meeting, and every action a person takes in it. Views read the signals
// and call the methods; nothing here draws.
import type { Participant, Room } from "livekit-client";
import { effect, type Signal, signal } from "@preact/signals";
import type { CallType, RoomJson, TokenJson, UserJson } from "../../protocol/api.ts";
import { api, messageOf } from "../api.ts";
import { subscribe } from "../realtime.ts";
import { loadPrefs, type MediaPrefs, updatePrefs } from "../prefs.ts";
import type { Status } from "../ui.tsx";
import { t } from "../../i18n/t.ts";
import type { Phase } from "./CallState.tsx";
import {
  applyDataSaver,
  changeDevice,
  connectRoom,
  newRoom,
  publishMedia,
  type Refusal,
  setSource,
  type Source,
} from "./connect.ts";
import { JoinAhead } from "./ahead.ts";
import type { HostControls } from "./Tile.tsx";
import { answerNews, audioSink, watch } from "./events.ts";
import { ChatLog } from "./Chat.tsx";
import type { Panel } from "./Controls.tsx";
import { muteMic, raiseHand, Reactions, removeParticipant } from "./Moderation.tsx";

/** How many announcements the live region keeps (older ones have been read out). */
const NEWS_KEPT = 5;
let newsId = 0;
export interface SessionInit {
  roomId: string;
  /** The room as a member sees it; null for a guest. */
  room: RoomJson | null;
  /** What everyone may know of the meeting (a guest has only this). */
  summary: { room_name: string; call_type: CallType };
  user: UserJson | null;
  /** This browser is waiting in the meeting's lobby (it holds a ticket). */
  knock: boolean;
}

/** Where the session reports what a person should read (the page's status line). */
export type Report = Pick<Status, "info" | "error">;

export class CallSession {
  readonly roomId: string;
  readonly user: UserJson | null;
  private readonly summary: SessionInit["summary"];
  readonly phase = signal<Phase>("connecting");
  /** Why the meeting could not be joined, in the server's words. */
  readonly problem = signal("");
  /** In the lobby until a host admits. */
  readonly waiting: Signal<boolean>;
  /** Signed in and listed in the meeting (a guest is not). */
  readonly member: Signal<boolean>;
  /** A member's view of the meeting, kept current by the real-time channel. */
  readonly roomJson: Signal<RoomJson | null>;
  readonly prefs = signal<MediaPrefs>(loadPrefs());
  /** The remote participant heard last: the speaker layout keeps them through silences. */
  readonly speaker = signal<string | null>(null);
  /** Joins, leaves, hands and chat messages, read out by screen readers. */
  readonly news = signal<{ id: number; text: string }[]>([]);
  /**
   * Bumped on every LiveKit event: participants are mutable objects, and @preact/signals skips
   * re-rendering a component whose props are shallow-equal, so tiles take it.
   */
  readonly version = signal(0);
  /** The side panel open beside the stage. */
  readonly panel = signal<Panel | null>(null);
  /** Whom the person pinned to the stage's focus. */
  readonly pinned = signal<string | null>(null);
  readonly chat = new ChatLog(
    () => this.panel.peek() === "chat",
    (from, text) => this.announce(t("call.said", { name: from, text })),
  );
  readonly reactions = new Reactions();
  /** The current attempt's Room; a new one for every attempt, made with the devices chosen. */
  readonly room = signal<Room>(newRoom(this.prefs.peek()));
  /** What the device check gets ready for Join: a token, the connection, its stream. */
  readonly ahead: JoinAhead;
  // Pushes carry the whole room and arrive in order; a fetch overtaken by one is stale.
  private pushes = 0;
  /** Remote audio plays from here: people already in the room are subscribed during connect. */
  private readonly audioSink: HTMLElement;

  constructor(init: SessionInit, private readonly report: Report) {
    this.roomId = init.roomId;
    this.ahead = new JoinAhead(init.roomId);
    this.user = init.user;
    this.summary = init.summary;
    this.waiting = signal(init.knock);
    this.member = signal(init.room !== null);
    this.roomJson = signal(init.room);
    this.audioSink = audioSink();
  }

  get title(): string {
    return (this.roomJson.value ?? this.summary).room_name;
  }
  get isVideo(): boolean {
    return (this.roomJson.value ?? this.summary).call_type === "video";
  }
  get isHost(): boolean {
    return !!this.user && this.roomJson.value?.created_by.id === this.user.id;
  }
  /** The role the meeting gives this person, as its last push said. */
  private get myRole() {
    return this.roomJson.value?.participants.find((p) => p.id === this.user?.id)?.role;
  }
  get isModerator(): boolean {
    return this.myRole === "host" || this.myRole === "cohost";
  }
  /** Everyone in the call, oneself first (read `version` to follow their changes). */
  participants(): Participant[] {
    const room = this.room.value;
    return [room.localParticipant, ...room.remoteParticipants.values()];
  }

  /** Opens a side panel, or closes it when it is the one open. */
  openPanel(which: Panel) {
    this.panel.value = this.panel.peek() === which ? null : which;
    if (this.panel.peek() === "chat") this.chat.read();
  }

  announce(text: string) {
    this.news.value = [...this.news.value.slice(-(NEWS_KEPT - 1)), { id: ++newsId, text }];
  }
  update(change: Partial<MediaPrefs>) {
    this.prefs.value = updatePrefs(change);
  }
  private bump = () => this.version.value++;

  /** A fresh attempt, with the devices chosen by now. */
  retry() {
    this.room.value = newRoom(this.prefs.peek());
  }
  /** The person pressed Join on the device check: the call takes its stream over. */
  joinFromCheck() {
    this.ahead.takePreview();
    this.retry();
  }
  /** A host let this browser in: the lobby's token connects it, with the lobby's preview. */
  admitted(token: TokenJson, asMember: boolean) {
    this.ahead.takePreview();
    this.ahead.admitted = token;
    this.member.value = asMember;
    this.waiting.value = false;
    this.retry();
  }
  dispose() {
    this.audioSink.remove();
    this.ahead.dropPreview();
  }

  /** While the device check shows, what Join needs is got ready; returns what stops it. */
  prepare(): () => void {
    return this.ahead.prepare(this.member.peek(), () => this.room.peek());
  }

  /** A member follows the meeting's pushes: changes, answers to the ring, its end. */
  follow(): (() => void) | undefined {
    const user = this.user;
    if (!this.member.value || !user) return;
    return subscribe((m) => {
      if (m.type === "room_updated" && m.room_id === this.roomId) {
        this.pushes++;
        this.roomJson.value = m.room;
        if (m.room.status === "ended") {
          this.room.peek().disconnect();
          if (this.phase.peek() !== "left") this.phase.value = "ended";
        }
      } else if (
        m.type === "invite_answered" && m.room_id === this.roomId && m.user_id !== user.id
      ) {
        this.report.info(answerNews(m, this.roomJson.peek()));
      }
    });
  }

  /** Connects `room` and follows it until the returned function is called. */
  connect(room: Room): () => void {
    let cancelled = false;
    watch(room, {
      bump: this.bump,
      announce: (text) => this.announce(text),
      speaker: (identity) => this.speaker.value = identity,
      phase: (to) => this.phase.value = to(this.phase.peek()),
      audio: this.audioSink,
    });
    this.chat.attach(room);
    this.reactions.attach(room);
    this.join(room, () => cancelled);
    // What this browser receives follows the data saver, for everyone who joins later too.
    const saver = effect(() => {
      this.version.value;
      if (this.phase.value === "connected") applyDataSaver(room, this.prefs.value.saver);
    });
    return () => {
      cancelled = true;
      saver();
      room.removeAllListeners();
      room.disconnect();
    };
  }

  private async join(room: Room, cancelled: () => boolean) {
    const member = this.member.peek();
    const prefs = this.prefs.peek();
    this.phase.value = "connecting";
    this.problem.value = "";
    const { token, recorded } = await this.ahead.forJoin(member, this.myRole);
    if (cancelled() || !token) return this.ahead.dropPreview();
    if ("phase" in token) return this.refuse(token);
    let refused = false;
    const seen = this.pushes;
    if (member) {
      (recorded ?? Promise.resolve(null)).then((refusal) => {
        if (cancelled()) return;
        // The page was drawn before the join was recorded (which answers a call ringing for
        // this meeting), and its push may have gone out before this page's socket was open.
        if (!refusal) return this.refreshRoom(seen);
        // The meeting ended, or this person was removed, since the token was made.
        refused = true;
        room.disconnect();
        if (refusal !== "leaving") this.refuse(refusal);
      });
    }
    const failed = await connectRoom(room, token);
    if (cancelled() || refused) return this.ahead.dropPreview();
    if (failed) return this.refuse(failed);
    this.phase.value = "connected";
    const preview = this.ahead.publishPreview();
    await publishMedia(room, prefs, this.isVideo, this.report.error, preview);
  }

  /** The meeting read again, unless a push (`seen` counts them) has brought a newer one. */
  private refreshRoom(seen: number) {
    api<RoomJson>("GET", `/api/livekit/rooms/${this.roomId}`).then((fresh) => {
      if (this.pushes === seen) this.roomJson.value = fresh;
    }, () => {});
  }

  /** The attempt ends here, saying why; the device check's stream is not needed any more. */
  private refuse(refusal: Refusal) {
    this.ahead.dropPreview();
    this.phase.value = refusal.phase;
    this.problem.value = refusal.message;
  }

  /** Leaves from any state: connected, connecting, reconnecting or unreachable. */
  async leave() {
    await this.room.peek().disconnect();
    this.phase.value = "left";
    // A member's page says so at once; a guest's departure is LiveKit's to report.
    if (this.member.peek()) {
      await api("POST", `/api/livekit/rooms/${this.roomId}/leave`).catch(() => {});
    }
  }

  async endForAll() {
    try {
      await api("DELETE", `/api/livekit/rooms/${this.roomId}`);
      await this.room.peek().disconnect();
      this.phase.value = "ended";
    } catch (err) {
      this.report.error(messageOf(err));
    }
  }

  /** What a host or co-host may do to someone on the stage. */
  hostControls(): HostControls | undefined {
    if (!this.isModerator) return undefined;
    return {
      mute: (p) => muteMic(this.roomId, p, this.report),
      remove: (p) => removeParticipant(this.roomId, p, this.report),
    };
  }

  /** Turns a source on or off; `on` given is push-to-talk, which is not remembered. */
  async toggle(source: Source, on?: boolean) {
    const { remember, error } = await setSource(this.room.peek(), source, on);
    if (remember) this.update(remember);
    if (error) this.report.error(error);
    this.bump();
  }

  async switchDevice(kind: MediaDeviceKind, id: string) {
    const { remember, error } = await changeDevice(this.room.peek(), kind, id);
    if (remember) this.update(remember);
    if (error) this.report.error(error);
  }

  raiseHand(raised: boolean) {
    return raiseHand(this.roomId, raised, this.report);
  }
}
