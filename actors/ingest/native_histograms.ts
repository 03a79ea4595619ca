/**
 * Native histograms in a remote write request: troupe watches float samples, and takes a classic
 * histogram through its `_count`, `_sum` and `_bucket` series, but not a native histogram's
 * buckets. Prometheus sends native histograms only when its `remote_write` entry sets
 * `send_native_histograms: true`; they are refused by name, in the answer, so that the 2xx a
 * sender reads always means every sample was kept.
 */
import type { WriteRequestColumns } from "../../protocol/prometheus/mod.ts";
import { type IncomingSeries, seriesText } from "./series_samples.ts";

/**
 * The answer's reason for a request's native histograms (`series` names their first series), or
 * undefined when it has none.
 */
export function nativeHistogramRefusal(
  cols: WriteRequestColumns,
  series: IncomingSeries,
): string | undefined {
  if (cols.histograms === 0) return undefined;
  return `${cols.histograms} native histogram samples (the first in ` +
    `${seriesText(series, cols.histogramSeries)}), which troupe does not take: set ` +
    `send_native_histograms: false in Prometheus's remote_write, and its classic _count, _sum ` +
    `and _bucket series are taken`;
}
