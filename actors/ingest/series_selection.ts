/**
 * Which series the receiver takes: those `match` selects (every one without it), less the
 * exporters' own instrumentation (the Go runtime's `go_*`, the process's `process_*`, the
 * metrics handler's `promhttp_*`, Prometheus's `scrape_*` and node exporter's collector timings
 * `node_scrape_collector_*`). Those describe the exporter, not the system it watches: they move
 * with every scrape and garbage collection, and a team pages on none of them. They are taken only
 * when a selector that selects the series names metrics (`{__name__=~"go_.*"}`): a selector of
 * `job` or `instance` alone does not ask for them.
 */
import type { Label, LabelSelector } from "../../protocol/prometheus/mod.ts";

/** The metric name prefixes of exporters' own instrumentation, not watched by default. */
export const EXPORTER_SELF_PREFIXES: readonly string[] = [
  "go_",
  "process_",
  "promhttp_",
  "scrape_",
  "node_scrape_collector_",
];

/** Whether `name` is an exporter's own instrumentation. */
export function isExporterSelfMetric(name: string): boolean {
  return EXPORTER_SELF_PREFIXES.some((p) => name.startsWith(p));
}

/** Whether the receiver takes a series with `labels` under `match`. */
export function selectsSeries(match: readonly LabelSelector[], labels: readonly Label[]): boolean {
  const name = labels.find((l) => l.name === "__name__")?.value ?? "";
  if (!isExporterSelfMetric(name)) {
    return match.length === 0 || match.some((s) => s.matches(labels));
  }
  return match.some((s) => s.matchers.some((m) => m.name === "__name__") && s.matches(labels));
}
