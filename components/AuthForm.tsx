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
      <h1>{register ? "Create your account" : "Sign in"}</h1>
      {error && <p class="error" role="alert">{error}</p>}
      <form method="post" action={`/${mode}${query}`} class="stack">
        {register && (
          <label>
            Your name
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
          Email
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
          Password
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
        <button type="submit" class="primary">{register ? "Create account" : "Sign in"}</button>
      </form>
      <p>
        {register
          ? (
            <>
              Already have an account? <a href={`/login${query}`}>Sign in</a>
            </>
          )
          : (
            <>
              New here? <a href={`/register${query}`}>Create an account</a>
            </>
          )}
      </p>
    </section>
  );
}
