// The dashboard's state, apart from its views: my meetings, missed calls, contacts and
// requests, kept current by the real-time channel, and every action taken on them.
import { type Signal, signal } from "@preact/signals";
import type {
  ContactJson,
  ContactRequestJson,
  InviteJson,
  RoomJson,
  SentRequestJson,
  UserJson,
} from "../../protocol/api.ts";
import { api, ApiError, messageOf, signInAgain } from "../api.ts";
import { subscribe } from "../realtime.ts";
import type { Status } from "../ui.tsx";
import { t, tn } from "../../i18n/t.ts";

export type Requests = { incoming: ContactRequestJson[]; outgoing: SentRequestJson[] };

export interface DashboardData {
  user: UserJson;
  rooms: RoomJson[];
  contacts: ContactJson[];
  /** Contact requests waiting for the user's answer, and those the user sent. */
  requests: Requests;
  /** Calls the user did not answer in time, newest first. */
  missed: InviteJson[];
}

export type RequestAnswer = "accept" | "decline" | "block";

export class DashboardState {
  readonly user: UserJson;
  readonly rooms: Signal<RoomJson[]>;
  readonly contacts: Signal<ContactJson[]>;
  readonly requests: Signal<Requests>;
  readonly missed: Signal<InviteJson[]>;
  /** The action under way (one at a time), by key: its buttons are disabled meanwhile. */
  readonly busy = signal<string | null>(null);

  constructor(data: DashboardData, private readonly report: Pick<Status, "info" | "error">) {
    this.user = data.user;
    this.rooms = signal(data.rooms);
    this.contacts = signal(data.contacts);
    this.requests = signal(data.requests);
    this.missed = signal(data.missed);
  }

  /** In progress first, then waiting, newest first within each. */
  live(): RoomJson[] {
    return this.rooms.value.filter((r) => r.status !== "ended").sort((a, b) =>
      Number(b.status === "active") - Number(a.status === "active")
    );
  }
  /** Ended meetings. */
  history(): RoomJson[] {
    return this.rooms.value.filter((r) => r.status === "ended");
  }

  /**
   * Live: every change to my meetings arrives on the socket. After a reconnection (a sync
   * other than the first), what may have been missed meanwhile is read again.
   */
  follow(): () => void {
    let first = true;
    return subscribe((m) => {
      if (m.type === "room_updated") this.upsert(m.room);
      else if (m.type === "contacts_changed") this.refreshContacts();
      else if (m.type === "invite_answered" && m.user_id === this.user.id) {
        if (m.status === "missed") this.refreshMissed();
      } else if (m.type === "sync") {
        if (!first) {
          this.refreshRooms();
          this.refreshMissed();
          this.refreshContacts();
        }
        first = false;
      }
    });
  }

  /** Runs one action at a time; false when it failed (the reason is shown). */
  private async run(key: string, work: () => Promise<void>): Promise<boolean> {
    this.busy.value = key;
    try {
      await work();
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) signInAgain();
      else this.report.error(messageOf(err));
      return false;
    } finally {
      this.busy.value = null;
    }
  }

  async refreshRooms() {
    try {
      this.rooms.value = await api<RoomJson[]>("GET", "/api/livekit/rooms");
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) signInAgain();
    }
  }

  async refreshContacts() {
    try {
      const [list, reqs] = await Promise.all([
        api<ContactJson[]>("GET", "/api/contacts"),
        api<Requests>("GET", "/api/contacts/requests"),
      ]);
      this.contacts.value = list;
      this.requests.value = reqs;
    } catch {
      // Read again on the next change.
    }
  }

  async refreshMissed() {
    try {
      const list = await api<InviteJson[]>("GET", "/api/invites");
      this.missed.value = list.filter((i) => i.status === "missed");
    } catch {
      // Shown again on the next change.
    }
  }

  /** A room as the server now has it: replaced in the list, or added at the top. */
  upsert(room: RoomJson) {
    const list = this.rooms.value;
    this.rooms.value = list.some((r) => r.id === room.id)
      ? list.map((r) => (r.id === room.id ? room : r))
      : [room, ...list];
  }

  async endMeeting(room: RoomJson) {
    const ok = await this.run(
      `end:${room.id}`,
      () => api("DELETE", `/api/livekit/rooms/${room.id}`),
    );
    await this.refreshRooms();
    if (ok) this.report.info(t("dash.ended", { name: room.room_name }));
  }

  async clearHistory() {
    let answer: { cleared: number } | undefined;
    const ok = await this.run("clear", async () => {
      answer = await api("DELETE", "/api/livekit/rooms/history");
    });
    if (!ok) return;
    this.rooms.value = this.rooms.value.filter((r) => r.status !== "ended");
    this.report.info(tn(answer!.cleared, "dash.cleared.one", "dash.cleared.other"));
  }

  async dismiss(missedCall: InviteJson) {
    const ok = await this.run(
      `missed:${missedCall.id}`,
      () => api("POST", `/api/invites/${missedCall.id}/dismiss`),
    );
    if (ok) this.missed.value = this.missed.value.filter((m) => m.id !== missedCall.id);
  }

  /** Calls the caller back: a new meeting of the same kind ringing them, then its page. */
  async callBack(missedCall: InviteJson) {
    let room: RoomJson | undefined;
    const ok = await this.run(`missed:${missedCall.id}`, async () => {
      room = await api<RoomJson>("POST", "/api/livekit/rooms", {
        // Named for both: it shows on both dashboards.
        room_name: t("dash.callBackName", {
          me: this.user.display_name,
          them: missedCall.from.display_name,
        }),
        call_type: missedCall.call_type,
        participants: [missedCall.from.id],
        entry: "invited",
      }, { "Idempotency-Key": `call-back-${missedCall.id}` });
    });
    if (!ok || !room) return;
    await api("POST", `/api/invites/${missedCall.id}/dismiss`).catch(() => {});
    location.assign(`/meeting/room?room=${encodeURIComponent(room.id)}`);
  }

  /** Asks someone to be a contact; true when the request went out. */
  async addContact(email: string): Promise<boolean> {
    let sent: { request: SentRequestJson; message: string } | undefined;
    const ok = await this.run("add", async () => {
      sent = await api("POST", "/api/contacts", { email });
    });
    if (!ok || !sent) return false;
    this.report.info(t("dash.requestSent", { email: sent.request.email }));
    this.refreshContacts();
    return true;
  }

  async removeContact(contact: ContactJson) {
    const ok = await this.run(
      `remove:${contact.id}`,
      () => api("DELETE", `/api/contacts/${contact.id}`),
    );
    if (!ok) return;
    this.contacts.value = this.contacts.value.filter((c) => c.id !== contact.id);
    this.report.info(t("dash.removed", { name: contact.display_name }));
  }

  async answer(req: ContactRequestJson, how: RequestAnswer) {
    const ok = await this.run(`req:${req.id}`, async () => {
      if (how === "block") {
        await api("POST", "/api/contacts/blocks", { user_id: req.from.id });
      } else await api("POST", `/api/contacts/requests/${req.id}/${how}`);
    });
    if (!ok) return;
    await this.refreshContacts();
    const name = req.from.display_name;
    this.report.info(
      how === "accept"
        ? t("dash.accepted", { name })
        : how === "block"
        ? t("dash.blockedLong", { name })
        : t("dash.requestDeclined"),
    );
  }

  async withdraw(req: SentRequestJson) {
    const ok = await this.run(
      `req:${req.id}`,
      () => api("DELETE", `/api/contacts/requests/${req.id}`),
    );
    if (!ok) return;
    const r = this.requests.value;
    this.requests.value = { ...r, outgoing: r.outgoing.filter((o) => o.id !== req.id) };
  }

  async block(contact: ContactJson) {
    const ok = await this.run(
      `block:${contact.id}`,
      () => api("POST", "/api/contacts/blocks", { user_id: contact.id }),
    );
    if (!ok) return;
    this.contacts.value = this.contacts.value.filter((c) => c.id !== contact.id);
    this.report.info(t("dash.blocked", { name: contact.display_name }));
  }
}
