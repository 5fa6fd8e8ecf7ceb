// Someone knocking at a meeting this user runs: admit or deny, from any page.
import { useState } from "preact/hooks";
import type { LobbyJson } from "../../protocol/api.ts";
import { api, ApiError, messageOf, signInAgain } from "../api.ts";
import { t } from "../../i18n/t.ts";

/** "Name wants to join": Admit or Deny each, or Admit all when several wait. */
export function LobbyAlert({ lobby }: { lobby: LobbyJson }) {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState("");
  const base = `/api/livekit/rooms/${lobby.room_id}/knocks`;
  async function act(path: string) {
    setBusy(true);
    setProblem("");
    try {
      await api("POST", `${base}/${path}`);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return signInAgain();
      setProblem(messageOf(err));
    } finally {
      setBusy(false);
    }
  }
  const [first] = lobby.waiting;
  const many = lobby.waiting.length > 1;
  const who = (k: LobbyJson["waiting"][number]) =>
    k.guest ? t("common.guest", { name: k.display_name }) : k.display_name;
  return (
    <section
      class="incoming lobby-alert card"
      role="alertdialog"
      aria-labelledby={`lobby-${lobby.room_id}`}
      data-lobby={lobby.room_id}
    >
      <h2 id={`lobby-${lobby.room_id}`}>
        {many
          ? t("inbox.knocks", { n: lobby.waiting.length })
          : t("inbox.knock", { name: who(first) })}
      </h2>
      <p>
        <strong>{lobby.room_name}</strong>
      </p>
      {problem && <p class="status error" role="alert">{problem}</p>}
      <ul class="waiting">
        {lobby.waiting.map((k) => (
          <li key={k.id} class="row spread" data-knock={k.id}>
            <span>{who(k)}</span>
            <span class="row">
              {(["admit", "deny"] as const).map((how) => (
                <button
                  type="button"
                  key={how}
                  class={how === "admit" ? "primary" : undefined}
                  disabled={busy}
                  onClick={() => act(`${k.id}/${how}`)}
                  aria-label={how === "admit"
                    ? t("inbox.admitNamed", { name: who(k) })
                    : t("inbox.denyNamed", { name: who(k) })}
                >
                  {how === "admit" ? t("inbox.admit") : t("inbox.deny")}
                </button>
              ))}
            </span>
          </li>
        ))}
      </ul>
      {many && (
        <button
          type="button"
          class="primary"
          disabled={busy}
          onClick={() => act("admit-all")}
        >
          {t("inbox.admitAll", { n: lobby.waiting.length })}
        </button>
      )}
    </section>
  );
}
