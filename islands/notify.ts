// System notifications for calls that ring while the tab is in the background: asked for only
// when the person chooses to (the dashboard explains why), shown by the service worker
// (/sw.js) so that they carry Accept and Decline, closed when the call stops ringing.
import type { InviteJson } from "../protocol/api.ts";
import { clockOf, t } from "../i18n/t.ts";

export type NoticeState = "unsupported" | NotificationPermission;

export function noticeState(): NoticeState {
  if (typeof Notification === "undefined" || !("serviceWorker" in navigator)) return "unsupported";
  return Notification.permission;
}

const register = () => navigator.serviceWorker.register("/sw.js", { scope: "/" });

/** Asks for the permission (from a click) and registers the worker once granted. */
export async function enableNotices(): Promise<NoticeState> {
  if (noticeState() === "unsupported") return "unsupported";
  const answer = await Notification.requestPermission();
  if (answer === "granted") await register().catch(() => {});
  return answer;
}

/** Makes sure the worker is there when notifications are allowed (every page load). */
export function prepareNotices(): void {
  if (noticeState() === "granted") register().catch(() => {});
}

const tag = (inviteId: string) => `call-${inviteId}`;

/** "Ada is calling", what, and for how long, with Accept and Decline. */
export async function showCallNotice(call: InviteJson): Promise<void> {
  if (noticeState() !== "granted") return;
  try {
    const reg = (await navigator.serviceWorker.getRegistration("/")) ?? await register();
    await navigator.serviceWorker.ready;
    const kind = call.call_type === "video" ? t("common.videoCall") : t("common.audioCall");
    await reg.showNotification(t("inbox.calling", { name: call.from.display_name }), {
      body: `${call.room_name} · ${kind} · ${t("inbox.left", { time: clockOf(call.expires_in) })}`,
      tag: tag(call.id),
      requireInteraction: true,
      data: { invite: call.id },
      actions: [
        { action: "accept", title: t("common.accept") },
        { action: "decline", title: t("common.decline") },
      ],
    } as NotificationOptions);
  } catch {
    // Not shown: the dialog and the tab's title still say it rings.
  }
}

export async function closeCallNotice(inviteId: string): Promise<void> {
  if (noticeState() !== "granted") return;
  const reg = await navigator.serviceWorker.getRegistration("/").catch(() => undefined);
  for (const n of await reg?.getNotifications({ tag: tag(inviteId) }) ?? []) n.close();
}

/** Accept or Decline pressed on a notification: the worker hands it to one tab. */
export function onNoticeAction(
  act: (action: "accept" | "decline", inviteId: string) => void,
): () => void {
  if (noticeState() === "unsupported") return () => {};
  const heard = (e: MessageEvent) => {
    const d = e.data as { type?: string; action?: string; invite?: unknown } | null;
    if (d?.type !== "call-action" || typeof d.invite !== "string") return;
    if (d.action === "accept" || d.action === "decline") act(d.action, d.invite);
  };
  navigator.serviceWorker.addEventListener("message", heard);
  return () => navigator.serviceWorker.removeEventListener("message", heard);
}
