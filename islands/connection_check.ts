// Which path this browser's media takes to LiveKit, or why none works. Signalling is checked
// with livekit-client's ConnectionCheck; each media path is then tried for real: a Room joins
// a throwaway room, publishes a silent track, and the selected ICE candidate pair says how the
// media goes (direct over UDP or TCP, or relayed by TURN over UDP or TLS). Used by the
// connection test page and, loaded on demand, by pre-join.
import { CheckStatus, ConnectionCheck, Room, Track } from "livekit-client";
import { silentTrack } from "./silent_track.ts";
import { api, ApiError, messageOf, withDeadline } from "./api.ts";
import { t } from "../i18n/t.ts";

export type Mode = "automatic" | "relay-udp" | "relay-tls";

export interface Path {
  /** host, srflx, prflx or relay (the browser's side of the selected pair). */
  type: string;
  protocol: string;
  relayProtocol?: string;
  /** The TURN server's URL, for relayed paths. */
  url?: string;
  /** The server's side of the pair. */
  remote: string;
}

export interface Attempt {
  mode: Mode;
  ok: boolean;
  path?: Path;
  ms: number;
  error?: string;
  /** ICE servers the browser could not use (URL, code, text). */
  iceErrors: string[];
}

export interface CheckReport {
  at: string;
  url: string;
  signalling: { ok: boolean; logs: string[]; error?: string };
  attempts: Attempt[];
}

interface CheckToken {
  token: string;
  url: string;
  room_name: string;
}

/** What a path is, in words. */
export function describePath(path: Path | undefined): string {
  if (!path) return t("net.path.none");
  if (path.type === "relay") {
    const how = path.relayProtocol === "tls" ? "TLS" : (path.relayProtocol ?? "udp").toUpperCase();
    const port = /:(\d+)/.exec(path.url?.replace(/^turns?:/, "") ?? "")?.[1];
    return port ? t("net.path.relayPort", { how, port }) : t("net.path.relay", { how });
  }
  return t("net.path.direct", { how: path.protocol.toUpperCase() });
}

const MODES: Mode[] = ["automatic", "relay-udp", "relay-tls"];

/** How long the app may take to hand out the check's token before it counts as unreachable. */
const GRANT_MS = 10_000;

/** The ICE servers a mode may use: all of LiveKit's, or one kind of TURN URL alone. */
function filterServers(mode: Mode, servers: RTCIceServer[] = []): RTCIceServer[] {
  if (mode === "automatic") return servers;
  const keep = (u: string) =>
    mode === "relay-tls"
      ? u.startsWith("turns:")
      : u.startsWith("turn:") && !/transport=tcp/.test(u);
  return servers.map((s) => ({ ...s, urls: ([] as string[]).concat(s.urls).filter(keep) }))
    .filter((s) => s.urls.length > 0);
}

/**
 * Runs `fn` while every RTCPeerConnection the page makes is given `mode`'s ICE servers (and
 * relay-only for the relay modes), is kept so its statistics can be read, and reports the
 * ICE servers it could not use to `onIceError`.
 */
async function withPeerConnections<T>(
  mode: Mode,
  onIceError: (e: RTCPeerConnectionIceErrorEvent) => void,
  fn: (pcs: RTCPeerConnection[]) => Promise<T>,
): Promise<T> {
  const Native = globalThis.RTCPeerConnection;
  const pcs: RTCPeerConnection[] = [];
  const adjust = (config?: RTCConfiguration): RTCConfiguration | undefined =>
    mode === "automatic" ? config : {
      ...config,
      iceTransportPolicy: "relay",
      iceServers: filterServers(mode, config?.iceServers),
    };
  globalThis.RTCPeerConnection = class extends Native {
    constructor(config?: RTCConfiguration) {
      super(adjust(config));
      pcs.push(this);
      this.addEventListener(
        "icecandidateerror",
        (e) => onIceError(e as RTCPeerConnectionIceErrorEvent),
      );
    }
    override setConfiguration(config?: RTCConfiguration) {
      super.setConfiguration(adjust(config));
    }
  } as typeof RTCPeerConnection;
  try {
    return await fn(pcs);
  } finally {
    globalThis.RTCPeerConnection = Native;
  }
}

/** The selected pair of the first connected peer connection that has one. */
async function selectedPath(pcs: RTCPeerConnection[]): Promise<Path | undefined> {
  for (const pc of pcs) {
    if (pc.connectionState !== "connected") continue;
    const stats = await pc.getStats();
    let found: Path | undefined;
    stats.forEach((s) => {
      if (found || s.type !== "transport" || !s.selectedCandidatePairId) return;
      const pair = stats.get(s.selectedCandidatePairId);
      const local = pair && stats.get(pair.localCandidateId);
      const remote = pair && stats.get(pair.remoteCandidateId);
      if (!local) return;
      found = {
        type: local.candidateType,
        protocol: local.protocol,
        relayProtocol: local.relayProtocol,
        url: local.url,
        remote: remote ? `${remote.address ?? remote.ip}:${remote.port} (${remote.protocol})` : "?",
      };
    });
    if (found) return found;
  }
  return undefined;
}

/** One path: join, publish, wait for a connected pair; at most `timeoutMs`. */
async function tryMode(grant: CheckToken, mode: Mode, timeoutMs: number): Promise<Attempt> {
  const started = performance.now();
  const iceErrors: string[] = [];
  const onIceError = (ev: RTCPeerConnectionIceErrorEvent) => {
    const line = `${ev.url} ${ev.errorCode} ${ev.errorText}`.trim();
    if (!iceErrors.includes(line) && iceErrors.length < 10) iceErrors.push(line);
  };
  return await withPeerConnections(mode, onIceError, async (pcs) => {
    const room = new Room();
    const silent = silentTrack();
    try {
      const deadline = started + timeoutMs;
      await room.connect(grant.url, grant.token, {
        autoSubscribe: false,
        peerConnectionTimeout: timeoutMs,
        maxRetries: 0,
      });
      // As a microphone: the only source the test's token may publish.
      await room.localParticipant.publishTrack(silent.track, {
        source: Track.Source.Microphone,
      });
      let path: Path | undefined;
      while (!(path = await selectedPath(pcs)) && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
      }
      if (!path) throw new Error("no media connection within the time allowed");
      return { mode, ok: true, path, ms: Math.round(performance.now() - started), iceErrors };
    } catch (err) {
      return {
        mode,
        ok: false,
        ms: Math.round(performance.now() - started),
        error: messageOf(err),
        iceErrors,
      };
    } finally {
      await room.disconnect().catch(() => {});
      silent.close();
    }
  });
}

/**
 * The whole check: signalling, then each mode (`modes`, all by default) in turn. `progress`
 * hears each step as it ends.
 */
export async function runCheck(
  options: { modes?: Mode[]; timeoutMs?: number; progress?: (r: CheckReport) => void } = {},
): Promise<CheckReport> {
  const report: CheckReport = {
    at: new Date().toISOString(),
    url: "",
    signalling: { ok: false, logs: [] },
    attempts: [],
  };
  const newGrant = () => api<CheckToken>("POST", "/api/livekit/connection-check", {});
  let grant: CheckToken;
  try {
    // A network that drops everything to the server answers nothing, not even an error.
    grant = await withDeadline(newGrant(), GRANT_MS, t("net.appSilent", { s: GRANT_MS / 1000 }));
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) throw err;
    report.url = location.origin;
    report.signalling = { ok: false, logs: [], error: messageOf(err) };
    options.progress?.(structuredClone(report));
    return report;
  }
  report.url = grant.url;
  const ws = await new ConnectionCheck(grant.url, grant.token).checkWebsocket();
  const reached = ws.status === CheckStatus.SUCCESS;
  report.signalling = {
    ok: reached,
    logs: ws.logs.map((l) => `${l.level}: ${l.message}`),
    ...(reached ? {} : { error: ws.logs.at(-1)?.message ?? "failed" }),
  };
  options.progress?.(structuredClone(report));
  if (!report.signalling.ok) return report;
  const modes = options.modes ?? MODES;
  for (const [n, mode] of modes.entries()) {
    // Each attempt joins with a fresh token: the room of the previous one may be closing.
    const next = n === 0 ? grant : await newGrant();
    report.attempts.push(await tryMode(next, mode, options.timeoutMs ?? 12_000));
    options.progress?.(structuredClone(report));
  }
  return report;
}

/**
 * The conclusion for a person: how their calls will go, or what blocks them; and, when calls
 * work here but the relay over TLS does not, a warning for the administrator (people on
 * networks that let only web traffic out would not get through).
 */
export function verdict(report: CheckReport): { ok: boolean; text: string; warning?: string } {
  const result = conclusion(report);
  const tls = report.attempts.find((a) => a.mode === "relay-tls");
  if (result.ok && tls && !tls.ok) {
    return { ...result, warning: t("net.tlsWarning") };
  }
  return result;
}

function conclusion(report: CheckReport): { ok: boolean; text: string } {
  if (!report.signalling.ok) {
    return {
      ok: false,
      text: t("net.unreachable", {
        url: report.url,
        error: report.signalling.error ?? t("net.noAnswer"),
      }),
    };
  }
  const auto = report.attempts.find((a) => a.mode === "automatic");
  if (auto?.ok) {
    return { ok: true, text: t("net.connect", { path: describePath(auto.path) }) };
  }
  const relayed = report.attempts.filter((a) => a.mode !== "automatic" && a.ok);
  if (relayed.length > 0) {
    return { ok: true, text: t("net.relayOnly", { path: describePath(relayed[0].path) }) };
  }
  if (report.attempts.length === 0) return { ok: false, text: t("net.notYet") };
  return { ok: false, text: t("net.noPath") };
}

/** The report as text to paste in a message to the administrator. */
export function reportText(report: CheckReport, userAgent: string): string {
  const lines = [
    t("net.r.title", { at: report.at }),
    t("net.r.page", { url: location.origin }),
    t("net.r.browser", { agent: userAgent }),
    t("net.r.server", { url: report.url }),
    t("net.r.signalling", {
      result: report.signalling.ok
        ? t("net.r.ok")
        : t("net.r.failed", { error: report.signalling.error ?? "" }),
    }),
    ...report.signalling.logs.map((l) => `  ${l}`),
  ];
  for (const a of report.attempts) {
    lines.push(t("net.r.attempt", {
      mode: a.mode,
      result: a.ok
        ? t("net.r.okPath", { path: describePath(a.path), remote: a.path?.remote ?? "" })
        : t("net.r.failed", { error: a.error ?? "" }),
      ms: a.ms,
    }));
    for (const e of a.iceErrors) lines.push(`  ${t("net.r.ice", { error: e })}`);
  }
  const v = verdict(report);
  lines.push(t("net.r.verdict", { text: v.text }));
  if (v.warning) lines.push(t("net.r.warning", { text: v.warning }));
  return lines.join("\n");
}
