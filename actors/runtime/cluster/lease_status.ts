/**
 * Who holds what in the lease bucket, at one look: the live hosts with the partitions each holds,
 * every partition's lease, and the incident stage's. `troupe status --json` prints it; whoever
 * watches a leased cluster from code reads the same object.
 */
import type { HeldStageLease, LeaseView } from "./lease_bucket.ts";

/** The cluster's leases at one look (`troupe status --json`). */
export interface LeaseStatus {
  ttl_ms: number;
  hosts: Array<{
    host: string;
    started_ms: number;
    renewed_ms: number;
    http_port?: number;
    partitions: number[];
  }>;
  partitions: Array<{ partition: number; owner: string; epoch: number; renewed_ms: number }>;
  incident_stage: { owner: string; epoch: number; renewed_ms: number } | null;
}

/** The status of `view` (partitions in order), with the stage's lease when one is held. */
export function leaseStatus(view: LeaseView, ttlMs: number, stage?: HeldStageLease): LeaseStatus {
  const leases = [...view.leases.values()].map((h) => h.lease).sort((a, b) =>
    a.partition - b.partition
  );
  return {
    ttl_ms: ttlMs,
    hosts: view.hosts.map((h) => ({
      host: h.host,
      started_ms: h.startedMs,
      renewed_ms: h.renewedMs,
      ...(h.httpPort === undefined ? {} : { http_port: h.httpPort }),
      partitions: leases.filter((l) => l.owner === h.host).map((l) => l.partition),
    })),
    partitions: leases.map((l) => ({
      partition: l.partition,
      owner: l.owner,
      epoch: l.epoch,
      renewed_ms: l.renewedMs,
    })),
    incident_stage: stage === undefined
      ? null
      : { owner: stage.lease.owner, epoch: stage.lease.epoch, renewed_ms: stage.lease.renewedMs },
  };
}
