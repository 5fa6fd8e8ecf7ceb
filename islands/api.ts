// The islands' HTTP client: JSON in, JSON out, errors as ApiError with the server's message.
import type { ErrorJson } from "../protocol/api.ts";
import { t } from "../i18n/t.ts";

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

/** Calls the app's API with the session cookie; throws ApiError on any non-2xx answer. */
export async function api<T>(
  method: string,
  path: string,
  body?: unknown,
  extraHeaders: Record<string, string> = {},
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: body === undefined
        ? extraHeaders
        : { "Content-Type": "application/json", ...extraHeaders },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "offline", t("api.offline"));
  }
  if (res.status === 204) return undefined as T;
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const err = (data as ErrorJson | null)?.error;
    throw new ApiError(
      res.status,
      err?.code ?? "http_error",
      err?.message ?? t("api.status", { status: res.status }),
    );
  }
  return data as T;
}

/** Sends the browser to the sign-in page, coming back here afterwards. */
export function signInAgain(): void {
  location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
}

/** What to tell a person about a failure: the server's or the browser's own message. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** `work`, or an Error with `message` once `ms` have passed without it settling. */
export function withDeadline<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    work,
    new Promise<T>((_, reject) => timer = setTimeout(() => reject(new Error(message)), ms)),
  ]).finally(() => clearTimeout(timer));
}
