/**
 * The lease of one partition, as kept in the NATS key-value bucket `troupe_leases` (key
 * `partition.<n>`): who owns it, under which epoch, and when the owner last renewed it. A claim
 * and every renewal are compare-and-set writes at the key's revision; the bucket's `max_age` is
 * the lease's time to live, so a key its owner stops renewing vanishes and the partition is free.
 * The epoch grows with every change of owner (a claim takes one above the bucket's last
 * revision), so a record written under an older epoch is told from the current owner's.
 */
import { decodeVersionedMap, encodeValue } from "./envelope.ts";
import { describeValue, ProtocolError } from "./protocol_error.ts";
import { isValidName } from "./subjects.ts";

/** The lease encoding's version. */
export const PARTITION_LEASE_VERSION = 1;

/** A partition's lease. */
export interface PartitionLease {
  partition: number;
  /** The owning host's id. */
  owner: string;
  /** Grows with every change of owner; the same through the owner's renewals. */
  epoch: number;
  /** The owner's wall clock at the last renewal, ms since the Unix epoch (for display only). */
  renewedMs: number;
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
  const bad = (field: string, want: string, value: unknown) =>
    new ProtocolError(
      typeof value === "number" || typeof value === "string" ? "value" : "field",
      `Cannot encode or decode ${where}: field "${field}" must be ${want}, got ${
        describeValue(value)
      }`,
      { field, value },
    );
  if (!Number.isSafeInteger(lease.partition) || lease.partition < 0) {
    throw bad("partition", "an integer >= 0", lease.partition);
  }
  if (!isValidName(lease.owner)) throw bad("owner", "a host id (A-Z a-z 0-9 _ -)", lease.owner);
  if (!Number.isSafeInteger(lease.epoch) || lease.epoch < 1) {
    throw bad("epoch", "an integer >= 1", lease.epoch);
  }
  if (!Number.isFinite(lease.renewedMs)) throw bad("renewed_ms", "a number", lease.renewedMs);
}
