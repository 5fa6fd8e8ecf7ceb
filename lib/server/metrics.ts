// What this instance has done and holds, in Prometheus' text format (GET /metrics, for the
// machine's own monitoring: the tls profile's proxy never serves it). Counters and histograms
// live in memory from the start of the process; gauges are read when scraped. Every label set
// is bounded: routes are the app's route patterns, never raw paths.

type Labels = Record<string, string>;

/** One sample line: `name{labels} value`. */
const sample = (name: string, k: string, value: number) => `${name}${k ? `{${k}}` : ""} ${value}`;

const key = (labels: Labels) =>
  Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) =>
    `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`
  ).join(",");

/** Seconds: from a fast cached read to a slow transaction. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

class Counter {
  readonly values = new Map<string, number>();
  constructor(readonly name: string, readonly help: string) {}
  inc(labels: Labels = {}, by = 1) {
    const k = key(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  render(): string[] {
    const out = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [k, v] of this.values) out.push(sample(this.name, k, v));
    return out;
  }
}

class Histogram {
  readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(readonly name: string, readonly help: string, readonly buckets: number[]) {}
  observe(labels: Labels, value: number) {
    const k = key(labels);
    let s = this.series.get(k);
    if (!s) this.series.set(k, s = { counts: this.buckets.map(() => 0), sum: 0, count: 0 });
    this.buckets.forEach((b, i) => {
      if (value <= b) s.counts[i]++;
    });
    s.sum += value;
    s.count++;
  }
  render(): string[] {
    const out = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [k, s] of this.series) {
      const sep = k ? "," : "";
      this.buckets.forEach((b, i) =>
        out.push(`${this.name}_bucket{${k}${sep}le="${b}"} ${s.counts[i]}`)
      );
      out.push(`${this.name}_bucket{${k}${sep}le="+Inf"} ${s.count}`);
      out.push(sample(`${this.name}_sum`, k, s.sum), sample(`${this.name}_count`, k, s.count));
    }
    return out;
  }
}

interface Gauge {
  name: string;
  help: string;
  read: () => { labels: Labels; value: number }[];
}

export class Metrics {
  readonly rings = new Counter(
    "urbania_rings_total",
    "People rung (a new meeting's invitees and those invited later).",
  );
  readonly answers = new Counter(
    "urbania_ring_answers_total",
    "Calls answered, by answer (accepted, declined).",
  );
  readonly tokens = new Counter(
    "urbania_token_requests_total",
    "LiveKit tokens handed out, by who asked (member, guest).",
  );
  readonly webhooks = new Counter(
    "urbania_webhook_events_total",
    "LiveKit webhook events received and verified, by event.",
  );
  readonly requests = new Histogram(
    "urbania_http_request_duration_seconds",
    "Time to answer API requests, by method, route and status class.",
    LATENCY_BUCKETS,
  );
  readonly #gauges: Gauge[] = [];

  /** A value read at each scrape (open sockets, the pool). */
  gauge(name: string, help: string, read: Gauge["read"]) {
    this.#gauges.push({ name, help, read });
  }

  render(): string {
    const lines: string[] = [];
    for (const g of this.#gauges) {
      lines.push(`# HELP ${g.name} ${g.help}`, `# TYPE ${g.name} gauge`);
      for (const { labels, value } of g.read()) lines.push(sample(g.name, key(labels), value));
    }
    for (const c of [this.rings, this.answers, this.tokens, this.webhooks]) {
      lines.push(...c.render());
    }
    lines.push(...this.requests.render());
    return lines.join("\n") + "\n";
  }
}

/** Known webhook event kinds; anything else is counted as "other" (labels stay bounded). */
export const WEBHOOK_EVENTS = new Set([
  "room_started",
  "room_finished",
  "participant_joined",
  "participant_left",
  "participant_connection_aborted",
  "track_published",
  "track_unpublished",
  "egress_started",
  "egress_updated",
  "egress_ended",
  "ingress_started",
  "ingress_ended",
]);
