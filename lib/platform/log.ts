/** Structured logging: one JSON object per line. Never pass passwords, hashes or tokens. */
export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** A logger writing JSON lines through `write` (stderr for warnings and errors by default). */
export function createLogger(
  level: LogLevel,
  write: (level: LogLevel, line: string) => void = defaultWrite,
): Logger {
  const emit = (l: LogLevel) => (msg: string, fields?: LogFields) => {
    if (RANK[l] < RANK[level]) return;
    write(l, JSON.stringify({ time: new Date().toISOString(), level: l, msg, ...fields }));
  };
  return { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error") };
}

function defaultWrite(level: LogLevel, line: string) {
  if (RANK[level] >= RANK.warn) console.error(line);
  else console.log(line);
}

/** Fields describing an error for a log line, without its stack for expected failures. */
export function errorFields(err: unknown): LogFields {
  if (err instanceof Error) {
    return { error: err.name, detail: err.message, code: (err as { code?: unknown }).code };
  }
  return { error: String(err) };
}
