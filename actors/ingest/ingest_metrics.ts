/**
 * The receiver's metrics, on its own `/metrics`: requests by API and answer, samples by what
 * became of them, unmatched series, channels fed and refused for the limit, refused credentials;
 * and the scores back out, each watched channel's latest anomaly score and open incidents, so a
 * team can alert on them from its own Prometheus.
 */
import { Counter, Gauge, type Metric, Registry } from "prom-client";

/**
 * A gauge whose series carry labels that differ from one to the next (each channel's own source
 * labels), which prom-client's Gauge, fixed to its label names, cannot hold: its values are set
 * whole at each scrape.
 */
export class LabelledGauge {
  readonly name: string;
  readonly help: string;
  /** The series now: each its labels and value. */
  values: Array<{ labels: Record<string, string>; value: number }> = [];

  constructor(registry: Registry, name: string, help: string) {
    this.name = name;
    this.help = help;
    registry.registerMetric(this as unknown as Metric);
  }

  /** What the registry prints (prom-client's metric shape). */
  get() {
    return {
      name: this.name,
      help: this.help,
      type: "gauge",
      aggregator: "sum",
      values: this.values.map((v) => ({ labels: { ...v.labels }, value: v.value })),
    };
  }
}

/** The receiver's metrics. */
export class IngestMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter<"api" | "code">({
    name: "troupe_ingest_requests_total",
    help: "Metrics requests received, by API (remote_write, otlp) and HTTP status",
    labelNames: ["api", "code"],
    registers: [this.registry],
  });
  readonly samples = new Counter<"api" | "outcome">({
    name: "troupe_ingest_samples_total",
    help: "Samples received, by what became of them: journaled, unmatched (dropped at the edge), " +
      "refused (limits, values not finite, times out of range or too far ahead, labels not " +
      "UTF-8), out_of_order (duplicates included), native_histogram (not taken, refused by name)",
    labelNames: ["api", "outcome"],
    registers: [this.registry],
  });
  readonly channels = new Gauge({
    name: "troupe_ingest_channels",
    help: "Channels the receiver feeds (series taken)",
    registers: [this.registry],
  });
  readonly channelsRefused = new Counter({
    name: "troupe_ingest_channels_refused_total",
    help: "Series refused because they would be a new channel past the receiver's limit",
    registers: [this.registry],
  });
  readonly unauthorized = new Counter<"api">({
    name: "troupe_ingest_unauthorized_total",
    help: "Requests refused with 401 for missing or wrong credentials",
    labelNames: ["api"],
    registers: [this.registry],
  });
  readonly journalFailures = new Counter<"api">({
    name: "troupe_ingest_journal_failures_total",
    help: "Requests answered 503 because the feed stream did not acknowledge their samples",
    labelNames: ["api"],
    registers: [this.registry],
  });
  readonly partialSuccess = new Counter<"api">({
    name: "troupe_ingest_partial_success_total",
    help: "OTLP requests answered 200 with a partial success: some of their data points not kept " +
      "(refused, unmatched)",
    labelNames: ["api"],
    registers: [this.registry],
  });
  readonly rejectedPoints = new Counter<"api">({
    name: "troupe_ingest_rejected_points_total",
    help: "Data points an OTLP partial success said were not kept (its rejected_data_points)",
    labelNames: ["api"],
    registers: [this.registry],
  });
  readonly labelFailures = new Counter({
    name: "troupe_ingest_channel_labels_failures_total",
    help: "Writes of a new channel's source labels (for its alerts) that failed; each is tried " +
      "again with the next request",
    registers: [this.registry],
  });
  readonly historySamples = new Counter({
    name: "troupe_ingest_history_samples_total",
    help: "Samples of new series' history (read from history_url) journaled before their live ones",
    registers: [this.registry],
  });
  readonly historyFailures = new Counter<"reason">({
    name: "troupe_ingest_history_failures_total",
    help: "New series whose history read failed, by reason (down, timeout, status, garbage, " +
      "selector); each warms up on its live samples",
    labelNames: ["reason"],
    registers: [this.registry],
  });
  readonly historyQueries = new Counter({
    name: "troupe_ingest_history_queries_total",
    help: "Queries sent to history_url's query_range for new series' history (a scrape " +
      "target's series are read together)",
    registers: [this.registry],
  });
  /** What the history budget holds now, read at each scrape (unset: no history URL). */
  historyBudgetLevel: (() => number) | undefined;
  readonly historyBudgetSamples: Gauge = new Gauge({
    name: "troupe_ingest_history_budget_samples",
    help: "History samples the budget holds now (history_burst_samples at most; 0 without " +
      "history_url)",
    registers: [this.registry],
    collect: () => {
      this.historyBudgetSamples.set(Math.max(0, Math.floor(this.historyBudgetLevel?.() ?? 0)));
    },
  });
  readonly historyBudget = new Counter<"outcome">({
    name: "troupe_ingest_history_budget_series_total",
    help: "New series whose history the budget (history_samples_per_s) cut, by outcome: " +
      "shortened (fewer points than the window) or none (warmed up on live samples)",
    labelNames: ["outcome"],
    registers: [this.registry],
  });
  readonly anomalyScore = new LabelledGauge(
    this.registry,
    "troupe_anomaly_score",
    "Each watched channel's highest anomaly score since the last scrape, in [0, 1], with its " +
      "source series' labels (__name__ as metric)",
  );
  readonly openIncidents = new Gauge<"channel">({
    name: "troupe_open_incidents",
    help: "Each watched channel's open anomaly incidents (1 from an anomaly until its stale " +
      "marker or its return to normal)",
    labelNames: ["channel"],
    registers: [this.registry],
  });
}
