// On the dashboard, where people wait for calls: an offer to be notified of calls while the
// tab is in the background. The browser's question comes only from pressing the button here,
// after these words have said why; "Not now" puts the offer away in this browser.
import { useEffect, useState } from "preact/hooks";
import { enableNotices, type NoticeState, noticeState } from "./notify.ts";
import { t } from "../i18n/t.ts";

const LATER = "urbania.notify.later";

export function NotifyOffer() {
  const [state, setState] = useState<NoticeState | "later" | null>(null);
  const [answered, setAnswered] = useState(false);
  useEffect(() => {
    let later = false;
    try {
      later = localStorage.getItem(LATER) === "1";
    } catch {
      // Private mode: offered again next time.
    }
    setState(later ? "later" : noticeState());
  }, []);
  if (state === "default") {
    return (
      <section class="card notify-offer" aria-labelledby="notify-title">
        <h2 id="notify-title" class="small">{t("notify.title")}</h2>
        <p class="muted small">{t("notify.why")}</p>
        <div class="row">
          <button
            type="button"
            class="primary"
            onClick={async () => {
              setState(await enableNotices());
              setAnswered(true);
            }}
          >
            {t("notify.enable")}
          </button>
          <button
            type="button"
            class="link"
            onClick={() => {
              try {
                localStorage.setItem(LATER, "1");
              } catch {
                // Not remembered.
              }
              setState("later");
            }}
          >
            {t("notify.later")}
          </button>
        </div>
      </section>
    );
  }
  // Said once, right after the answer.
  if (answered && (state === "granted" || state === "denied")) {
    return (
      <p class="card muted small notify-offer" role="status">
        {state === "granted" ? t("notify.on") : t("notify.denied")}
      </p>
    );
  }
  return null;
}
