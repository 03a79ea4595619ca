/**
 * A Snapshotter for tests of when it takes and saves: over a memory journal and the given store,
 * its log quiet, its clock at 0, never closing; `options` over those.
 */
import { MemoryJournal, MemorySnapshotStore } from "../../actors/runtime/mod.ts";
import { HostMetrics } from "../../actors/runtime/operations/host_metrics.ts";
import { Snapshotter, type SnapshotterOptions } from "../../actors/runtime/recovery/snapshotter.ts";

export function memorySnapshotter(
  store = new MemorySnapshotStore(),
  options: Partial<SnapshotterOptions> = {},
): Snapshotter {
  return new Snapshotter({
    journal: new MemoryJournal(),
    store,
    metrics: new HostMetrics({ host: "h" }),
    log: () => {},
    now: () => 0,
    closing: () => false,
    ...options,
  });
}
