/**
 * A channel's unit, read from its name: troupe puts the unit last in a name (`latency_ms`,
 * `frame_bytes`), and so do the feeds. The metrics feed's channels are `<service>-<metric>`, whose
 * metrics `cpu` and `memory` are percentages, `latency_ms` milliseconds, `requests` and `errors`
 * counts per interval; any other channel whose name ends in `_<unit>` (a CSV injected as
 * `disk_latency_ms.csv`, whose channel is its file's name) has that unit. A name says its unit
 * once and every message of the channel, old recordings included, carries the name: no field on
 * the wire, nothing to keep in step. A market symbol has none (a price's currency is not in its
 * name), and neither has a name that ends in no known unit: the empty string, shown as nothing.
 *
 * A Prometheus series' channel ends in its metric name, whose suffix names its base unit by
 * Prometheus's naming conventions (`_bytes`, `_seconds`, `_ratio`, ...); a counter (`_total`)
 * arrives as its per-second rate, so its unit is the unit before `_total` per second:
 * `node_network_receive_bytes_total` is in B/s, `node_cpu_seconds_total` in s/s (seconds busy a
 * second), `http_requests_total` in /s.
 */

/** The units of the metrics feed's metrics (the part of a channel's name after its last `-`). */
export const METRIC_UNITS: ReadonlyMap<string, string> = new Map([
  ["cpu", "%"],
  ["memory", "%"],
  ["requests", "req"],
  ["errors", "errors"],
]);

/** The units a name may end in after `_`, as written in the name, and as shown. */
export const NAME_SUFFIX_UNITS: ReadonlyMap<string, string> = new Map([
  ["ns", "ns"],
  ["us", "µs"],
  ["ms", "ms"],
  ["s", "s"],
  ["seconds", "s"],
  ["pct", "%"],
  ["percent", "%"],
  ["bytes", "B"],
  ["kb", "KB"],
  ["mb", "MB"],
  ["gb", "GB"],
  ["hz", "Hz"],
  ["rps", "req/s"],
  ["count", "count"],
  ["celsius", "°C"],
  ["ratio", "ratio"],
  ["volts", "V"],
  ["amperes", "A"],
  ["joules", "J"],
  ["watts", "W"],
  ["meters", "m"],
  ["grams", "g"],
]);

/** The suffix of a Prometheus counter, which the receivers turn into its per-second rate. */
const COUNTER_SUFFIX = "_total";

/** The unit of `channel` as shown beside its values (`"ms"`, `"%"`), or `""` for none. */
export function channelUnit(channel: string): string {
  const metric = channel.slice(channel.lastIndexOf("-") + 1);
  const known = METRIC_UNITS.get(metric);
  if (known !== undefined) return known;
  if (metric.endsWith(COUNTER_SUFFIX) && metric.length > COUNTER_SUFFIX.length) {
    return `${suffixUnit(metric.slice(0, -COUNTER_SUFFIX.length))}/s`;
  }
  return suffixUnit(metric);
}

/** The unit `metric`'s last `_` part names, or `""`. */
function suffixUnit(metric: string): string {
  const cut = metric.lastIndexOf("_");
  if (cut < 0) return "";
  return NAME_SUFFIX_UNITS.get(metric.slice(cut + 1)) ?? "";
}

/** `text` (a value as written) followed by `unit`: `412 ms`, `37.5%`; `text` alone for none. */
export function withUnit(text: string, unit: string): string {
  if (unit === "") return text;
  return unit === "%" ? `${text}%` : `${text} ${unit}`;
}
