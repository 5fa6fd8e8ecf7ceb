// The connection test: which path this browser's media will take to the media server (direct
// UDP or TCP, relayed over UDP, relayed over TLS on 443), or why none works, with a report to
// copy for the administrator. The full page tries each path; the compact version (pre-join)
// tries the automatic one and links here. livekit-client is loaded only when a test starts.
import { useEffect, useState } from "preact/hooks";
import { ApiError, messageOf, signInAgain } from "./api.ts";
import type { Attempt, CheckReport, Mode } from "./connection_check.ts";
import { type Key, t } from "../i18n/t.ts";

const LABELS: Record<Mode, Key> = {
  "automatic": "net.mode.automatic",
  "relay-udp": "net.mode.relayUdp",
  "relay-tls": "net.mode.relayTls",
};

type Check = typeof import("./connection_check.ts");

function Outcome({ attempt, check }: { attempt: Attempt; check: Check }) {
  return (
    <li class={attempt.ok ? "ok" : "failed"} data-mode={attempt.mode}>
      <strong>{t(LABELS[attempt.mode])}</strong> {attempt.ok
        ? t("net.works", { path: check.describePath(attempt.path), ms: attempt.ms })
        : t("net.fails", { error: attempt.error ?? "" })}
    </li>
  );
}

export function ConnectionTest({ compact = false }: { compact?: boolean }) {
  const [running, setRunning] = useState(false);
  const [report, setReport] = useState<CheckReport | null>(null);
  const [check, setCheck] = useState<Check | null>(null);
  const [error, setError] = useState("");
  const [copied, setCopied] = useState("");

  // The full page loads the check at once: it still runs when the network goes away after the
  // page came (the test then says what is not reached, instead of failing to load itself).
  useEffect(() => {
    if (!compact) import("./connection_check.ts").catch(() => {});
  }, []);

  async function run() {
    setRunning(true);
    setError("");
    setCopied("");
    setReport(null);
    try {
      const mod = await import("./connection_check.ts");
      setCheck(mod);
      const final = await mod.runCheck({
        modes: compact ? ["automatic"] : undefined,
        progress: setReport,
      });
      setReport(final);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return signInAgain();
      setError(messageOf(err));
    } finally {
      setRunning(false);
    }
  }

  async function copy() {
    if (!report || !check) return;
    const text = check.reportText(report, navigator.userAgent);
    try {
      await navigator.clipboard.writeText(text);
      setCopied(t("net.copied"));
    } catch {
      setCopied(t("net.selectReport"));
    }
  }

  const verdict = report && check ? check.verdict(report) : null;
  const done = report && !running;
  return (
    <div class={`connection-test stack ${compact ? "compact" : ""}`}>
      <div class="row">
        <button type="button" onClick={run} disabled={running}>
          {running ? t("net.testing") : report ? t("net.again") : t("net.test")}
        </button>
        {compact && <a href="/connection-test">{t("net.full")}</a>}
      </div>
      <p role="status" aria-live="polite" class="muted small">
        {running
          ? report?.signalling.ok
            ? compact
              ? t("net.tryingOne")
              : t("net.tryingPath", { n: report.attempts.length + 1, of: 3 })
            : t("net.reaching")
          : ""}
      </p>
      {error && <p class="error" role="alert">{error}</p>}
      {report && check && (
        <ul class="paths">
          <li class={report.signalling.ok ? "ok" : "failed"} data-mode="signalling">
            <strong>{t("net.server")}</strong> {report.signalling.ok
              ? t("net.reached")
              : t("net.notReached", { error: report.signalling.error ?? "" })}
          </li>
          {report.attempts.map((a) => <Outcome key={a.mode} attempt={a} check={check} />)}
        </ul>
      )}
      {done && verdict && (
        <p class={verdict.ok ? "verdict ok" : "verdict error"} role="alert">{verdict.text}</p>
      )}
      {done && verdict?.warning && <p class="advice">{verdict.warning}</p>}
      {done && check && !compact && (
        <details open={!verdict?.ok || !!verdict?.warning}>
          <summary>{t("net.report")}</summary>
          <pre class="report" tabIndex={0}>{check.reportText(report, navigator.userAgent)}</pre>
          <button type="button" onClick={copy}>{t("net.copy")}</button>
          {copied && <span role="status" class="muted small">{copied}</span>}
        </details>
      )}
    </div>
  );
}

/** The page: what it does, then the test. */
export function ConnectionPage() {
  return (
    <section class="card stack" aria-labelledby="ct-title">
      <h1 id="ct-title">{t("title.connection")}</h1>
      <p>{t("net.intro")}</p>
      <ConnectionTest />
    </section>
  );
}
