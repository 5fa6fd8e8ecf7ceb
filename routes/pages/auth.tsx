// Signing in, registering and out, and the language switch: plain HTML forms and their posts.
import { Hono } from "hono";
import type { Context } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import type { z } from "zod";
import { AppError } from "../../lib/platform/errors.ts";
import { setUserLang, type User } from "../../lib/accounts/users.ts";
import { signIn, signUp } from "../../lib/accounts/sign_in.ts";
import { isLang, LANG_COOKIE } from "../../i18n/server.ts";
import { type Key, say } from "../../i18n/t.ts";
import { AuthForm } from "../../components/AuthForm.tsx";
import type { AppEnv, Deps } from "../context.ts";
import {
  clearSessionCookie,
  clientAddress,
  fieldProblems,
  SESSION_COOKIE,
  setSessionCookie,
} from "../middleware.ts";
import { loginSchema, registerSchema } from "../schemas.ts";
import { type PageKit, safeNext } from "./render.tsx";

export function authPages(deps: Deps, kit: PageKit) {
  const { config, sql, sessions } = deps;
  const { html, currentUser, form } = kit;
  const app = new Hono<AppEnv>();

  /**
   * A sign-in or registration page: the form, and its post, which starts a session and goes on
   * to `next`, or shows the form again with the problem (what was typed kept, not the password).
   */
  function authPage<S extends z.ZodType<{ email: string }>>(
    mode: "login" | "register",
    title: Key,
    schema: S,
    invalid: Key,
    act: (c: Context<AppEnv>, input: z.infer<S>) => Promise<User>,
  ) {
    app.get(`/${mode}`, async (c) => {
      const next = safeNext(c.req.query("next"));
      if (await currentUser(c)) return c.redirect(next, 303);
      return html(c, 200, title, () => <AuthForm mode={mode} next={next} />);
    });

    app.post(`/${mode}`, async (c) => {
      const next = safeNext(c.req.query("next"));
      const input = await form(c);
      const again = (err: AppError) => {
        for (const [k, v] of Object.entries(err.extra.headers ?? {})) c.header(k, v);
        return html(c, err.status, title, () => (
          <AuthForm
            mode={mode}
            next={next}
            error={say(err.text)}
            values={{ email: input.email, display_name: input.display_name }}
            fieldErrors={Object.fromEntries(
              (err.extra.fields ?? []).map((f) => [f.field, say(f.text)]),
            )}
          />
        ));
      };
      const parsed = schema.safeParse(input);
      if (!parsed.success) {
        const fields = fieldProblems(parsed.error);
        return again(new AppError(400, "invalid_request", invalid, { fields }));
      }
      try {
        const user = await act(c, parsed.data);
        setSessionCookie(c, config, (await sessions.create(user.id)).token);
        return c.redirect(next, 303);
      } catch (err) {
        if (err instanceof AppError && err.status < 500) return again(err);
        throw err;
      }
    });
  }

  authPage(
    "login",
    "title.login",
    loginSchema,
    "auth.invalidLogin",
    (c, input) => signIn(sql, deps.loginLimits, clientAddress(c, config), input),
  );
  authPage(
    "register",
    "title.register",
    registerSchema,
    "auth.invalidRegister",
    (c, input) => signUp(sql, deps.limits.registerPerAddress, clientAddress(c, config), input),
  );

  app.post("/logout", async (c) => {
    const token = getCookie(c, SESSION_COOKIE);
    const claims = token ? sessions.verify(token) : null;
    if (claims) await sessions.revoke(claims.idHash);
    clearSessionCookie(c, config);
    return c.redirect("/login", 303);
  });

  // The language switch on every page: kept in a cookie for this browser, and on the account
  // when signed in (so every device follows); back to the page it was pressed on.
  app.post("/lang", async (c) => {
    const input = await form(c);
    if (!isLang(input.lang)) {
      throw new AppError(400, "invalid_request", ["issue.oneOf", {
        field: { t: "field.lang" },
        values: "en, fr",
      }]);
    }
    setCookie(c, LANG_COOKIE, input.lang, {
      sameSite: "Lax",
      secure: config.secureCookies,
      path: "/",
      maxAge: 400 * 24 * 3600,
    });
    const user = await currentUser(c);
    if (user) await setUserLang(sql, user.id, input.lang);
    return c.redirect(safeNext(input.next), 303);
  });

  return app;
}
