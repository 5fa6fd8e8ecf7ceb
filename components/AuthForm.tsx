import { t } from "../i18n/t.ts";

export interface AuthFormProps {
  mode: "login" | "register";
  next: string;
  error?: string;
  values?: { email?: string; display_name?: string };
  fieldErrors?: Record<string, string>;
}

/** The sign-in and registration forms: plain HTML posts that work without JavaScript. */
export function AuthForm({ mode, next, error, values = {}, fieldErrors = {} }: AuthFormProps) {
  const register = mode === "register";
  const query = next === "/dashboard" ? "" : `?next=${encodeURIComponent(next)}`;
  const field = (name: string) =>
    fieldErrors[name]
      ? { "aria-invalid": "true" as const, "aria-describedby": `${name}-error` }
      : {};
  const fieldError = (name: string) =>
    fieldErrors[name] && <p class="field-error" id={`${name}-error`}>{fieldErrors[name]}</p>;
  return (
    <section class="card narrow">
      <h1>{register ? t("title.register") : t("title.login")}</h1>
      {error && <p class="error" role="alert">{error}</p>}
      <form method="post" action={`/${mode}${query}`} class="stack">
        {register && (
          <label>
            {t("auth.name")}
            <input
              name="display_name"
              required
              maxLength={64}
              autocomplete="name"
              value={values.display_name ?? ""}
              {...field("display_name")}
            />
            {fieldError("display_name")}
          </label>
        )}
        <label>
          {t("auth.email")}
          <input
            name="email"
            type="email"
            required
            maxLength={254}
            autocomplete="email"
            value={values.email ?? ""}
            {...field("email")}
          />
          {fieldError("email")}
        </label>
        <label>
          {t("auth.password")}
          <input
            name="password"
            type="password"
            required
            minLength={register ? 8 : 1}
            maxLength={128}
            autocomplete={register ? "new-password" : "current-password"}
            {...field("password")}
          />
          {fieldError("password")}
        </label>
        <button type="submit" class="primary">
          {register ? t("auth.create") : t("title.login")}
        </button>
      </form>
      <p>
        {register
          ? (
            <>
              {t("auth.haveAccount")} <a href={`/login${query}`}>{t("title.login")}</a>
            </>
          )
          : (
            <>
              {t("auth.newHere")} <a href={`/register${query}`}>{t("auth.createLink")}</a>
            </>
          )}
      </p>
    </section>
  );
}
