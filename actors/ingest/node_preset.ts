/**
 * The node exporter preset (`remote_write.preset: "node"`): of node exporter's own series (named
 * `node_*`), only the indicators an SRE pages on are watched; the rest of what it exports (the
 * hundreds of counters and gauges of sockets, softnet, interrupts, memory's many pools, every
 * network interface's flags) is left out, as its instrumentation already is.
 *
 * The list is the USE method's: for each resource of a host, its utilisation, saturation and
 * errors (B. Gregg, "Thinking Methodically about Performance", ACM Queue 10(12), 2012, and his
 * "USE Method: Linux Performance Checklist"), read from node exporter's names:
 *
 * - CPU: utilisation `node_cpu_seconds_total`, each mode but idle; saturation `node_load1` and
 *   CPU pressure (PSI).
 * - Memory: utilisation `node_memory_MemAvailable_bytes`; saturation major faults, swapping and
 *   memory pressure; errors OOM kills.
 * - Storage I/O: utilisation `node_disk_io_time_seconds_total`; saturation its weighted time (the
 *   queue) and I/O pressure.
 * - Storage capacity: `node_filesystem_avail_bytes` and `_files_free`; errors read-only and
 *   device errors.
 * - Network: utilisation bytes received and sent; saturation drops; errors errors.
 * - File descriptors: `node_filefd_allocated`.
 *
 * Idle CPU is the complement of the other modes and `node_load5`/`node_load15` are averages of
 * `node_load1`: watching them would count one move twice or three times, which the paging
 * method's group bound reads as independent evidence. Why fewer series page better: the budget's
 * threshold is log2 of the samples watched, and a group's members pay for the channels they could
 * have been chosen among (docs/methods/paging.md).
 *
 * A series the preset leaves out is still taken when a selector names its metric (`__name__`),
 * as the exporters' instrumentation is; series that are not node exporter's are not touched.
 */
import type { Label } from "../../protocol/prometheus/mod.ts";

/** The presets `remote_write.preset` takes; "none": every series but the instrumentation. */
export const SERIES_PRESETS = ["node", "none"] as const;

/** A preset's name. */
export type SeriesPreset = typeof SERIES_PRESETS[number];

/**
 * The preset a receiver takes when none is given: "node". It leaves out only node exporter's own
 * series that are not indicators (a team's application metrics and other exporters' series are
 * never touched), and a node exporter is what nearly every Prometheus scrapes; watching all of
 * its few hundred series pages on moves an on-call engineer does not act on and widens the budget
 * every page must pass (docs/methods/paging.md). "none" watches them all.
 */
export const DEFAULT_SERIES_PRESET: SeriesPreset = "node";

/** node exporter's metric names the node preset watches. */
export const NODE_PRESET_METRICS: ReadonlySet<string> = new Set([
  "node_cpu_seconds_total",
  "node_load1",
  "node_pressure_cpu_waiting_seconds_total",
  "node_memory_MemAvailable_bytes",
  "node_vmstat_pgmajfault",
  "node_vmstat_pswpin",
  "node_vmstat_pswpout",
  "node_vmstat_oom_kill",
  "node_pressure_memory_waiting_seconds_total",
  "node_pressure_memory_stalled_seconds_total",
  "node_disk_io_time_seconds_total",
  "node_disk_io_time_weighted_seconds_total",
  "node_pressure_io_waiting_seconds_total",
  "node_pressure_io_stalled_seconds_total",
  "node_filesystem_avail_bytes",
  "node_filesystem_files_free",
  "node_filesystem_readonly",
  "node_filesystem_device_error",
  "node_network_receive_bytes_total",
  "node_network_transmit_bytes_total",
  "node_network_receive_drop_total",
  "node_network_transmit_drop_total",
  "node_network_receive_errs_total",
  "node_network_transmit_errs_total",
  "node_filefd_allocated",
]);

/**
 * Whether `preset` leaves out the series named `name` with `labels`: under "node", a `node_*`
 * series that is not one of its indicators, or idle CPU.
 */
export function presetLeavesOut(
  preset: SeriesPreset | undefined,
  name: string,
  labels: readonly Label[],
): boolean {
  if (preset !== "node" || !name.startsWith("node_")) return false;
  if (!NODE_PRESET_METRICS.has(name)) return true;
  return name === "node_cpu_seconds_total" &&
    labels.some((l) => l.name === "mode" && l.value === "idle");
}
