/**
 * The lease of one partition, as kept in the NATS key-value bucket `troupe_leases` (key
 * `partition.<n>`): who owns it, under which epoch, and when the owner last renewed it. A claim
 * and every renewal are compare-and-set writes at the key's revision; the bucket's `max_age` is
 * the lease's time to live, so a key its owner stops renewing vanishes and the partition is free.
 * The epoch grows with every change of owner (a claim takes one above the bucket's last
 * revision), so a record written under an older epoch is told from the current owner's.
 */
import { checkLeaseTenure, leaseFieldError, type LeaseTenure } from "./_lease_tenure.ts";
import { decodeVersionedMap, encodeValue } from "./envelope.ts";

/** The lease encoding's version. */
export const PARTITION_LEASE_VERSION = 1;

/** A partition's lease. */
export interface PartitionLease extends LeaseTenure {
  partition: number;
}

/** Encodes a lease as one msgpack map `{ v, partition, owner, epoch, renewed_ms }`. */
export function encodePartitionLease(lease: PartitionLease): Uint8Array {
  checkLease(lease);
  return encodeValue({
    v: PARTITION_LEASE_VERSION,
    partition: lease.partition,
    owner: lease.owner,
    epoch: lease.epoch,
    renewed_ms: lease.renewedMs,
  });
}

/** Decodes a lease; throws a ProtocolError naming the field and the value. `where`: the key. */
export function decodePartitionLease(bytes: Uint8Array, where = "lease"): PartitionLease {
  const o = decodeVersionedMap(bytes, where, PARTITION_LEASE_VERSION);
  const lease = {
    partition: o.partition,
    owner: o.owner,
    epoch: o.epoch,
    renewedMs: o.renewed_ms,
  } as PartitionLease;
  checkLease(lease, where);
  return lease;
}

function checkLease(lease: PartitionLease, where = "lease"): void {
  if (!Number.isSafeInteger(lease.partition) || lease.partition < 0) {
    throw leaseFieldError("partition", "an integer >= 0", lease.partition, where);
  }
  checkLeaseTenure(lease, where);
}
