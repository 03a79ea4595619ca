/**
 * What a lease in the bucket `troupe_leases` says besides what it leases (a partition, a stage):
 * who holds it, under which epoch, and when it was last renewed. Partition and stage leases are
 * claimed, renewed and released alike, so these fields are checked alike, and a bad field of
 * either is reported the same way.
 */
import { describeValue, ProtocolError } from "./protocol_error.ts";
import { isValidName } from "./subjects.ts";

/** The holder of a lease and its terms. */
export interface LeaseTenure {
  /** The owning host's id. */
  owner: string;
  /** Grows with every change of owner; the same through the owner's renewals. */
  epoch: number;
  /** The owner's wall clock at the last renewal, ms since the Unix epoch (for display only). */
  renewedMs: number;
}

/** Throws a ProtocolError naming `where`, the field and the value of a bad owner, epoch or time. */
export function checkLeaseTenure(lease: LeaseTenure, where: string): void {
  if (!isValidName(lease.owner)) {
    throw leaseFieldError("owner", "a host id (A-Z a-z 0-9 _ -)", lease.owner, where);
  }
  if (!Number.isSafeInteger(lease.epoch) || lease.epoch < 1) {
    throw leaseFieldError("epoch", "an integer >= 1", lease.epoch, where);
  }
  if (!Number.isFinite(lease.renewedMs)) {
    throw leaseFieldError("renewed_ms", "a number", lease.renewedMs, where);
  }
}

/** The ProtocolError of a lease's `field` whose `value` is not `want`, in `where` (its key). */
export function leaseFieldError(
  field: string,
  want: string,
  value: unknown,
  where: string,
): ProtocolError {
  return new ProtocolError(
    typeof value === "number" || typeof value === "string" ? "value" : "field",
    `Cannot encode or decode ${where}: field "${field}" must be ${want}, got ${
      describeValue(value)
    }`,
    { field, value },
  );
}
