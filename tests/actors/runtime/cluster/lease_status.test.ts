/**
 * leaseStatus() turns one look at the lease bucket into what `troupe status --json` prints: the
 * live hosts with the partitions each holds, the partitions in order, the incident stage's lease.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { leaseStatus, type LeaseView } from "../../../../actors/runtime/mod.ts";

const test = suite("lease status");

function held(partition: number, owner: string, epoch: number) {
  return { lease: { partition, owner, epoch, renewedMs: 1000 + partition }, revision: 1 };
}

test("leaseStatus() names each host's partitions, sorts the leases and keeps an orphan's", () => {
  const view: LeaseView = {
    leases: new Map([[2, held(2, "h-2", 3)], [0, held(0, "h-1", 1)], [1, held(1, "gone", 7)]]),
    hosts: [
      { host: "h-1", startedMs: 10, renewedMs: 20, httpPort: 9465 },
      { host: "h-2", startedMs: 11, renewedMs: 21 },
    ],
    damaged: [],
  };
  const stage = {
    lease: { stage: "incidents", owner: "h-2", epoch: 4, renewedMs: 30 },
    revision: 2,
  };
  assert.equal(leaseStatus(view, 5000, stage), {
    ttl_ms: 5000,
    hosts: [
      { host: "h-1", started_ms: 10, renewed_ms: 20, http_port: 9465, partitions: [0] },
      { host: "h-2", started_ms: 11, renewed_ms: 21, partitions: [2] },
    ],
    partitions: [
      { partition: 0, owner: "h-1", epoch: 1, renewed_ms: 1000 },
      { partition: 1, owner: "gone", epoch: 7, renewed_ms: 1001 },
      { partition: 2, owner: "h-2", epoch: 3, renewed_ms: 1002 },
    ],
    incident_stage: { owner: "h-2", epoch: 4, renewed_ms: 30 },
  });
});

test("leaseStatus() says null for the incident stage when no host holds its lease", () => {
  const view: LeaseView = { leases: new Map(), hosts: [], damaged: [] };
  assert.equal(leaseStatus(view, 3000), {
    ttl_ms: 3000,
    hosts: [],
    partitions: [],
    incident_stage: null,
  });
});

test.run();
