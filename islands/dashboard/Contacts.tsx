// The dashboard's contacts: requests to answer, asking someone by email, requests sent, and
// the contacts themselves.
import { useState } from "preact/hooks";
import { type Key, t } from "../../i18n/t.ts";
import type { DashboardState, RequestAnswer } from "./state.ts";

/** The answers to a contact request: what it does, its label, its look. */
const REQUEST_ANSWERS: [RequestAnswer, Key, string | undefined][] = [
  ["accept", "common.accept", "primary"],
  ["decline", "common.decline", undefined],
  ["block", "dash.block", "link"],
];

export function Contacts({ state: s }: { state: DashboardState }) {
  const requests = s.requests.value;
  const busy = s.busy.value;
  return (
    <section class="card" aria-labelledby="contacts-title">
      <h2 id="contacts-title">{t("dash.contacts")}</h2>
      {requests.incoming.length > 0 && (
        <div class="requests" aria-labelledby="requests-title">
          <h3 id="requests-title" class="small">{t("dash.asking")}</h3>
          <ul class="contact-requests">
            {requests.incoming.map((req) => (
              <li key={req.id} class="row spread" data-request={req.id}>
                <span>
                  {req.from.display_name} <span class="muted small">{req.from.email}</span>
                </span>
                <span class="row">
                  {REQUEST_ANSWERS.map(([how, label, look]) => (
                    <button
                      type="button"
                      key={how}
                      class={look}
                      disabled={busy === `req:${req.id}`}
                      onClick={() => s.answer(req, how)}
                    >
                      {t(label)}
                      <span class="sr-only">{` ${req.from.display_name}`}</span>
                    </button>
                  ))}
                </span>
              </li>
            ))}
          </ul>
        </div>
      )}
      <AddContact state={s} />
      {requests.outgoing.length > 0 && (
        <ul class="sent-requests muted small" aria-label={t("dash.sent")}>
          {requests.outgoing.map((req) => (
            <li key={req.id} class="row spread" data-sent={req.email}>
              <span>{t("dash.waitingAnswer", { email: req.email })}</span>
              <button
                type="button"
                class="link"
                disabled={busy === `req:${req.id}`}
                onClick={() => s.withdraw(req)}
              >
                {t("dash.withdraw")}
                <span class="sr-only">{` ${t("dash.requestTo", { email: req.email })}`}</span>
              </button>
            </li>
          ))}
        </ul>
      )}
      <ContactList state={s} />
    </section>
  );
}

function AddContact({ state: s }: { state: DashboardState }) {
  const [email, setEmail] = useState("");
  async function submit(event: Event) {
    event.preventDefault();
    if (await s.addContact(email)) setEmail("");
  }
  return (
    <form class="row" onSubmit={submit}>
      <label class="grow">
        <span class="sr-only">{t("dash.contactEmail")}</span>
        <input
          type="email"
          name="email"
          required
          maxLength={254}
          placeholder={t("dash.askByEmail")}
          value={email}
          onInput={(e) => setEmail((e.target as HTMLInputElement).value)}
        />
      </label>
      <button type="submit" disabled={s.busy.value === "add"}>{t("dash.sendRequest")}</button>
    </form>
  );
}

function ContactList({ state: s }: { state: DashboardState }) {
  const contacts = s.contacts.value;
  const busy = s.busy.value;
  if (contacts.length === 0) return <p class="muted">{t("dash.noContacts")}</p>;
  return (
    <ul class="contacts">
      {contacts.map((contact) => (
        <li key={contact.id} class="row spread" data-contact={contact.id}>
          <span>
            {contact.display_name} <span class="muted small">{contact.email}</span>
          </span>
          <span class="row">
            <button
              type="button"
              class="link"
              disabled={busy === `remove:${contact.id}`}
              onClick={() => s.removeContact(contact)}
            >
              {t("common.remove")}
              <span class="sr-only">{` ${contact.display_name}`}</span>
            </button>
            <button
              type="button"
              class="link"
              disabled={busy === `block:${contact.id}`}
              onClick={() => s.block(contact)}
            >
              {t("dash.block")}
              <span class="sr-only">{` ${contact.display_name}`}</span>
            </button>
          </span>
        </li>
      ))}
    </ul>
  );
}
