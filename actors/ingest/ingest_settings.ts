/**
 * The settings of the metrics receiver (remote write and OTLP), as the `remote_write` block of a
 * host's config file gives them (snake_case, like the rest of the file), checked once: a bad
 * field stops startup with its path and value.
 */
import { checkToken, ConfigError } from "../../protocol/mod.ts";
import { type LabelSelector, parseLabelSelector } from "../../protocol/prometheus/mod.ts";
import { HISTORY_POINTS_LEAST, HISTORY_POINTS_MAX } from "./series_history.ts";
import { DEFAULT_SERIES_PRESET, SERIES_PRESETS, type SeriesPreset } from "./node_preset.ts";

/** The receiver's settings, checked. */
export interface IngestSettings {
  /** The port on 127.0.0.1 (0: a free one); `host` to listen elsewhere. */
  port: number;
  host: string;
  /** The feed the series become channels of: `troupe.feed.<feed>`. */
  feed: string;
  /** Selectors choosing the series taken; a series is taken when any matches (none: every one). */
  match: LabelSelector[];
  /** The preset narrowing an exporter's series to its indicators (node_preset.ts). */
  preset: SeriesPreset;
  /** Channels fed at most; a new series past it is refused (and counted). */
  channelsMax: number;
  /** A request body's bytes at most, compressed and decompressed. */
  bodyBytesMax: number;
  seriesPerRequestMax: number;
  samplesPerRequestMax: number;
  labelsPerSeriesMax: number;
  labelBytesMax: number;
  /** A bearer token, or a user and password for basic auth; neither: no authentication. */
  bearerToken: string | undefined;
  basicAuth: { username: string; password: string } | undefined;
  /** Milliseconds to wait for the feed stream to acknowledge a batch before answering 503. */
  ackTimeoutMs: number;
  /** Milliseconds a sample may be ahead of the receiver's clock; a later one is refused. */
  futureMsMax: number;
  /**
   * The team's Prometheus-compatible query API (`<url>/api/v1/query_range`), from which a new
   * series' recent past is read and journaled before its live samples; none: no history.
   */
  historyUrl: string | undefined;
  /** How far back a new series' history is read, ms. */
  historyWindowMs: number;
  /** The history's step (a point every step), ms. */
  historyStepMs: number;
  /** How long a request waits for its series' history, ms, before going on without it. */
  historyTimeoutMs: number;
  /** History reads in flight at once. */
  historyReadsMax: number;
  /** History samples journaled a second, on average, at most (history_budget.ts). */
  historySamplesPerS: number;
  /** History samples journaled at once at most: what the budget holds when full. */
  historyBurstSamples: number;
}

/** The settings with nothing given. */
export const INGEST_DEFAULTS: Omit<
  IngestSettings,
  "match" | "preset" | "bearerToken" | "basicAuth" | "historyUrl"
> = {
  port: 9201,
  host: "127.0.0.1",
  feed: "prom",
  // A host's own channel limit by default (`limits.channels_max`): the receiver refuses, with
  // an answer naming the series, what the host's edge would dead-letter.
  channelsMax: 1_000,
  bodyBytesMax: 8 << 20,
  seriesPerRequestMax: 10_000,
  samplesPerRequestMax: 100_000,
  labelsPerSeriesMax: 64,
  labelBytesMax: 2048,
  ackTimeoutMs: 5000,
  // Cortex's and Grafana Mimir's `creation_grace_period` (10 minutes): a sender's clock may run
  // a little ahead, but a sample further out would hold its series back until then (a channel's
  // time only goes forward), so it is refused.
  futureMsMax: 600_000,
  // A day: the anomaly detector's hour-of-day profile sees each hour once.
  historyWindowMs: 86_400_000,
  // Prometheus's example scrape interval (its getting-started prometheus.yml): a day of it is
  // 5,760 points, under the 11,000 a range query answers at most.
  historyStepMs: 15_000,
  // A third of Prometheus's remote_timeout (30 s), so a request held for history is answered
  // well before its sender gives up on it.
  historyTimeoutMs: 10_000,
  // No stated origin: a few, so a first request of many new series does not load the team's
  // query API with as many queries at once.
  historyReadsMax: 8,
  // The hosts apply history on top of the live feed: history at this rate and the live samples
  // of 100,000 channels together take under half of a 2-core host's time (its measured cost a
  // sample: docs/prometheus.md, "Budgeted").
  historySamplesPerS: 10_000,
  // Ten minutes of that rate: a whole node exporter's day (its 529 series at 5,760 points, 3.0
  // million samples) fits in it, so a first node gets its whole day at once.
  historyBurstSamples: 6_000_000,
};

const FIELDS: Record<string, keyof typeof INGEST_DEFAULTS> = {
  port: "port",
  channels_max: "channelsMax",
  body_bytes_max: "bodyBytesMax",
  series_per_request_max: "seriesPerRequestMax",
  samples_per_request_max: "samplesPerRequestMax",
  labels_per_series_max: "labelsPerSeriesMax",
  label_bytes_max: "labelBytesMax",
  ack_timeout_ms: "ackTimeoutMs",
  future_ms_max: "futureMsMax",
  history_window_ms: "historyWindowMs",
  history_step_ms: "historyStepMs",
  history_timeout_ms: "historyTimeoutMs",
  history_reads_max: "historyReadsMax",
  history_samples_per_s: "historySamplesPerS",
  history_burst_samples: "historyBurstSamples",
};

const KNOWN = new Set([
  ...Object.keys(FIELDS),
  "host",
  "feed",
  "match",
  "preset",
  "bearer_token",
  "basic_auth",
  "history_url",
]);

/** Reads the `remote_write` block at `path` (defaults under it: `defaults`). */
export function parseIngestSettings(
  raw: unknown,
  path = "remote_write",
  defaults: Partial<IngestSettings> = {},
): IngestSettings {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError(path, `${path} must be an object`, { value: raw });
  }
  const m = raw as Record<string, unknown>;
  for (const k of Object.keys(m)) {
    if (KNOWN.has(k)) continue;
    const known = [...KNOWN].join(", ");
    throw new ConfigError(`${path}.${k}`, `${path}.${k} is not a setting; known: ${known}`, {
      value: m[k],
    });
  }
  const out: IngestSettings = {
    ...INGEST_DEFAULTS,
    match: [],
    preset: DEFAULT_SERIES_PRESET,
    bearerToken: undefined,
    basicAuth: undefined,
    historyUrl: undefined,
    ...defaults,
  };
  readNumbers(m, path, out);
  out.host = readText(m, path, "host") ?? out.host;
  out.feed = readText(m, path, "feed") ?? out.feed;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(out.feed)) {
    throw new ConfigError(
      `${path}.feed`,
      `${path}.feed must be 1 to 64 of A-Z a-z 0-9 _ -, got ${JSON.stringify(out.feed)}`,
      { value: out.feed },
    );
  }
  if (m.bearer_token !== undefined) {
    out.bearerToken = checkToken(m.bearer_token, `${path}.bearer_token`);
  }
  if (m.basic_auth !== undefined) out.basicAuth = readBasicAuth(m.basic_auth, `${path}.basic_auth`);
  if (out.bearerToken !== undefined && out.basicAuth !== undefined) {
    throw new ConfigError(
      `${path}.basic_auth`,
      `${path} takes bearer_token or basic_auth, not both`,
    );
  }
  if (m.match !== undefined) out.match = readMatch(m.match, `${path}.match`);
  if (m.preset !== undefined) out.preset = readPreset(m.preset, `${path}.preset`);
  if (m.history_url !== undefined) {
    out.historyUrl = checkHistoryUrl(m.history_url, `${path}.history_url`);
  }
  const points = out.historyWindowMs / out.historyStepMs;
  if (points > HISTORY_POINTS_MAX) {
    throw new ConfigError(
      `${path}.history_window_ms`,
      `${path}.history_window_ms (${out.historyWindowMs}) over history_step_ms ` +
        `(${out.historyStepMs}) is ${Math.ceil(points)} points, over the ${HISTORY_POINTS_MAX} ` +
        `a range query answers: a longer step or a shorter window`,
      { value: out.historyWindowMs },
    );
  }
  const fewest = Math.min(HISTORY_POINTS_LEAST, Math.floor(points));
  if (out.historyBurstSamples < fewest) {
    throw new ConfigError(
      `${path}.history_burst_samples`,
      `${path}.history_burst_samples (${out.historyBurstSamples}) is under the ${fewest} ` +
        `points a series' history is read with at fewest: no series would get any`,
      { value: out.historyBurstSamples },
    );
  }
  return out;
}

/** A history URL, checked: http or https, without a query; returned without a trailing slash. */
export function checkHistoryUrl(raw: unknown, where: string): string {
  let url: URL | undefined;
  try {
    url = typeof raw === "string" ? new URL(raw) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || !/^https?:$/.test(url.protocol) || url.search !== "") {
    throw new ConfigError(
      where,
      `${where} must be an http(s) URL without a query, such as "http://prometheus:9090", got ` +
        JSON.stringify(raw),
      { value: raw },
    );
  }
  return String(raw).replace(/\/+$/, "");
}

function readNumbers(m: Record<string, unknown>, path: string, out: IngestSettings): void {
  for (const [k, field] of Object.entries(FIELDS)) {
    const v = m[k];
    if (v === undefined) continue;
    const min = k === "port" ? 0 : 1;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || (k === "port" && v > 65535)) {
      throw new ConfigError(
        `${path}.${k}`,
        `${path}.${k} must be a whole number >= ${min}, got ${JSON.stringify(v)}`,
        { value: v },
      );
    }
    (out as unknown as Record<string, number>)[field] = v;
  }
}

function readText(m: Record<string, unknown>, path: string, k: string): string | undefined {
  const v = m[k];
  if (v === undefined) return undefined;
  if (typeof v !== "string" || v === "") {
    throw new ConfigError(
      `${path}.${k}`,
      `${path}.${k} must be a non-empty string, got ${JSON.stringify(v)}`,
      { value: v },
    );
  }
  return v;
}

function readBasicAuth(raw: unknown, where: string): { username: string; password: string } {
  const b = raw as Record<string, unknown> | null;
  if (
    b === null || typeof b !== "object" || typeof b.username !== "string" ||
    typeof b.password !== "string"
  ) {
    throw new ConfigError(where, `${where} must be { "username": "...", "password": "..." }`, {
      value: raw,
    });
  }
  return { username: b.username, password: b.password };
}

/** A preset's name, checked against those there are. */
export function readPreset(raw: unknown, where: string): SeriesPreset {
  const known = SERIES_PRESETS as readonly unknown[];
  if (!known.includes(raw)) {
    throw new ConfigError(
      where,
      `${where} must be one of ${SERIES_PRESETS.map((p) => JSON.stringify(p)).join(", ")}, got ` +
        JSON.stringify(raw),
      { value: raw },
    );
  }
  return raw as SeriesPreset;
}

function readMatch(raw: unknown, where: string): LabelSelector[] {
  const list = typeof raw === "string" ? [raw] : raw;
  if (!Array.isArray(list)) {
    throw new ConfigError(where, `${where} must be a selector or a list of them`, { value: raw });
  }
  return list.map((s, i) => {
    try {
      return parseLabelSelector(String(s));
    } catch (err) {
      throw new ConfigError(`${where}[${i}]`, `${where}[${i}]: ${(err as Error).message}`, {
        value: s,
        cause: err,
      });
    }
  });
}
