/**
 * /metrics of a host that shares partitions by lease: its ownership (partitions owned, each
 * lease's age and time left, claims, takeovers, releases, losses, writes fenced), its channels
 * against its limit (the process's, which its partitions share: their sums, in place of each
 * partition's), and the metrics of each partition it runs, aggregated into one exposition (each
 * partition's host label is `part-<n>`, so a series per partition).
 */
import { AggregatorRegistry, Registry } from "prom-client";
import {
  type ChannelFigures,
  type HostMetrics,
  registerChannelMetrics,
  scrapedCounter,
  scrapedGauge,
  scrapedLabelled,
  takeChannelSeries,
} from "../operations/mod.ts";
import type { AcknowledgedCounts } from "../transport/mod.ts";
import type { ChannelBook } from "../instances/mod.ts";
import type { PartitionLeases } from "./partition_leases.ts";

/** The metrics a leased host serves. */
export class LeaseMetrics {
  readonly registry = new Registry();
  readonly contentType = this.registry.contentType;
  readonly #partitions: () => Iterable<HostMetrics>;

  /**
   * `partitions`: the metrics of the partition hosts running; `findings`: what the host's
   * findings, sent until the findings stream acknowledges each, came to (NatsBus.acknowledged);
   * `channelsMax`: the host's channel limit.
   */
  constructor(
    hostId: string,
    leases: PartitionLeases,
    o: {
      partitions: () => Iterable<HostMetrics>;
      findings?: () => AcknowledgedCounts | undefined;
      channelsMax: number;
      /** The channels the partitions hold, each once (what `troupe_channels` says). */
      book?: ChannelBook;
    },
  ) {
    const { partitions, findings = () => undefined } = o;
    this.#partitions = partitions;
    this.registry.setDefaultLabels({ host: hostId });
    const registry = this.registry;
    registerChannelMetrics(registry, () => summedFigures(partitions(), o.channelsMax, o.book));
    scrapedGauge(registry, {
      name: "troupe_partitions_owned",
      help: "Partitions this host holds a lease on",
      read: () => leases.owned().length,
    });
    scrapedLabelled(registry, "gauge", {
      name: "troupe_lease_age_seconds",
      help: "Seconds since this host claimed the partition",
      label: "partition",
      read: () => leases.leases().map((l) => [l.partition, l.ageMs / 1000] as const),
    });
    scrapedLabelled(registry, "gauge", {
      name: "troupe_lease_left_seconds",
      help: "Seconds this host may still write the partition without another renewal",
      label: "partition",
      read: () => leases.leases().map((l) => [l.partition, l.leftMs / 1000] as const),
    });
    const counted = (name: string, help: string, read: () => number) =>
      scrapedCounter(registry, { name, help, read });
    counted("troupe_partition_claims_total", "Partitions claimed", () => leases.counts.claimed);
    counted(
      "troupe_partition_takeovers_total",
      "Partitions claimed after their holder's lease expired",
      () => leases.counts.takeovers,
    );
    counted(
      "troupe_partition_releases_total",
      "Partitions handed off",
      () => leases.counts.released,
    );
    counted(
      "troupe_partition_losses_total",
      "Leases lost (not renewed in time)",
      () => leases.counts.lost,
    );
    counted(
      "troupe_fenced_writes_total",
      "Journal appends, publishes and snapshots refused after a lease was lost",
      () => leases.refused(),
    );
    counted(
      "troupe_findings_acknowledged_total",
      "Findings the findings stream acknowledged",
      () => findings()?.acked ?? 0,
    );
    counted(
      "troupe_findings_resent_total",
      "Findings sent again for want of the findings stream's acknowledgement",
      () => findings()?.retries ?? 0,
    );
    counted(
      "troupe_findings_refused_total",
      "Findings not published because too many waited for the stream's acknowledgement",
      () => findings()?.refused ?? 0,
    );
    scrapedGauge(registry, {
      name: "troupe_findings_unacknowledged",
      help: "Findings queued or sent and not yet acknowledged by the findings stream",
      read: () => findings()?.waiting ?? 0,
    });
  }

  /** The exposition text: ownership, then every partition's metrics aggregated. */
  async text(): Promise<string> {
    const own = await this.registry.metrics();
    const parts = [...this.#partitions()];
    if (parts.length === 0) return own;
    const json = await Promise.all(parts.map((m) => m.registry.getMetricsAsJSON()));
    const merged = takeChannelSeries(await AggregatorRegistry.aggregate(json).metrics()).text;
    return `${own.trimEnd()}\n\n${merged}`;
  }
}

/**
 * The partitions' channels and refused frames summed, against the host's limit `max`: the
 * channels as `book` counts them (each once) when there is one.
 */
export function summedFigures(
  partitions: Iterable<HostMetrics>,
  max: number,
  book?: ChannelBook,
): ChannelFigures {
  let admitted = 0, refused = 0;
  for (const m of partitions) {
    const f = m.channelFigures();
    admitted += f?.admitted ?? 0;
    refused += f?.refused ?? 0;
  }
  return { admitted: book?.size ?? admitted, max, refused };
}
