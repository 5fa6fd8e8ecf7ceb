// Urbania's service worker: it only shows call notifications (asked by the page) and hands the
// press of Accept or Decline to one open tab, which answers as if its own button was pressed.
// Pressing the notification itself brings that tab forward. Nothing is cached.
self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

/** What pressing the notification (`action` "") or one of its buttons does. */
self.answerNotice = async (notification, action) => {
  const invite = notification.data?.invite;
  notification.close();
  const tabs = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const tab = tabs.find((c) => c.focused) ?? tabs.find((c) => c.visibilityState === "visible") ??
    tabs[0];
  if (!tab) {
    if (action !== "decline") await self.clients.openWindow("/dashboard");
    return;
  }
  if (action === "accept" || action === "decline") {
    tab.postMessage({ type: "call-action", action, invite });
  }
  if (action !== "decline") await tab.focus().catch(() => {});
};

self.addEventListener("notificationclick", (event) => {
  event.waitUntil(self.answerNotice(event.notification, event.action));
});
