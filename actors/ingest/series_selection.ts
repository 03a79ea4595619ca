/**
 * Which series the receiver takes: those `match` selects (every one without it), less the
 * exporters' own instrumentation (the Go runtime's `go_*`, the process's `process_*`, the
 * metrics handler's `promhttp_*`, Prometheus's `scrape_*` and node exporter's collector timings
 * `node_scrape_collector_*`). Those describe the exporter, not the system it watches: they move
 * with every scrape and garbage collection, and a team pages on none of them. They are taken only
 * when a selector that selects the series names metrics (`{__name__=~"go_.*"}`): a selector of
 * `job` or `instance` alone does not ask for them. A preset (node_preset.ts) leaves out more of an
 * exporter's series by the same rule.
 */
import type { Label, LabelSelector } from "../../protocol/prometheus/mod.ts";
import { presetLeavesOut, type SeriesPreset } from "./node_preset.ts";

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

/** What the receiver takes: its `match` selectors and its preset, if any. */
export interface SeriesSelection {
  readonly match: readonly LabelSelector[];
  readonly preset?: SeriesPreset | undefined;
}

/** Whether the receiver takes a series with `labels` under `selection`. */
export function selectsSeries(selection: SeriesSelection, labels: readonly Label[]): boolean {
  const { match, preset } = selection;
  const name = labels.find((l) => l.name === "__name__")?.value ?? "";
  if (!isExporterSelfMetric(name) && !presetLeavesOut(preset, name, labels)) {
    return match.length === 0 || match.some((s) => s.matches(labels));
  }
  return match.some((s) => s.matchers.some((m) => m.name === "__name__") && s.matches(labels));
}
