/**
 * Native histograms in a remote write request: troupe watches float samples, and takes a classic
 * histogram through its `_count`, `_sum` and `_bucket` series, but not a native histogram's
 * buckets. Prometheus sends native histograms only when its `remote_write` entry sets
 * `send_native_histograms: true`; they are refused by name, in the answer, so that the 2xx a
 * sender reads always means every sample was kept.
 */
import {
  type Label,
  seriesLabels,
  type WriteRequestColumns,
} from "../../protocol/prometheus/mod.ts";

/** The answer's reason for a request's native histograms, or undefined when it has none. */
export function nativeHistogramRefusal(cols: WriteRequestColumns): string | undefined {
  if (cols.histograms === 0) return undefined;
  const i = cols.histogramSeries;
  let named = `timeseries[${i}]`;
  try {
    named += ` ${seriesName(seriesLabels(cols, i))}`;
  } catch {
    // Labels that cannot be read are that series' own refusal; the index still names it.
  }
  return `${cols.histograms} native histogram samples (the first in ${named}), which troupe ` +
    `does not take: set send_native_histograms: false in Prometheus's remote_write, and its ` +
    `classic _count, _sum and _bucket series are taken`;
}

/** `name{label="value",...}` of a series' labels. */
function seriesName(labels: readonly Label[]): string {
  const name = labels.find((l) => l.name === "__name__")?.value ?? "";
  const rest = labels.filter((l) => l.name !== "__name__").map((l) => `${l.name}="${l.value}"`);
  return `${name}{${rest.join(",")}}`;
}
