/**
 * The lease of a cluster-wide stage, as kept in the lease bucket `troupe_leases` (key
 * `stage.<name>`, e.g. `stage.incidents`): which host runs the stage, under which epoch, and when
 * it last renewed the lease. It is claimed, renewed and released as a partition's lease is (a
 * compare-and-set at the key's revision, the bucket's `max_age` its time to live), so exactly one
 * host of a leased cluster runs a stage that must see every finding (the incident stage).
 */
import { checkLeaseTenure, leaseFieldError, type LeaseTenure } from "./_lease_tenure.ts";
import { decodeVersionedMap, encodeValue } from "./envelope.ts";
import { isValidName } from "./subjects.ts";

/** The stage lease encoding's version. */
export const STAGE_LEASE_VERSION = 1;

/** The incident stage's name: key `stage.incidents`. */
export const INCIDENT_STAGE_NAME = "incidents";

/** A stage's lease: its owner is the host running it. */
export interface StageLease extends LeaseTenure {
  /** The stage's name (`incidents`). */
  stage: string;
}

/** The lease bucket key of stage `name`: `stage.<name>`. */
export function stageLeaseKey(name: string): string {
  if (!isValidName(name)) {
    throw leaseFieldError("stage", "a name (A-Z a-z 0-9 _ -)", name, "stage lease");
  }
  return `stage.${name}`;
}

/** Encodes a lease as one msgpack map `{ v, stage, owner, epoch, renewed_ms }`. */
export function encodeStageLease(lease: StageLease): Uint8Array {
  checkStageLease(lease);
  return encodeValue({
    v: STAGE_LEASE_VERSION,
    stage: lease.stage,
    owner: lease.owner,
    epoch: lease.epoch,
    renewed_ms: lease.renewedMs,
  });
}

/** Decodes a lease; throws a ProtocolError naming the field and the value. `where`: the key. */
export function decodeStageLease(bytes: Uint8Array, where = "stage lease"): StageLease {
  const o = decodeVersionedMap(bytes, where, STAGE_LEASE_VERSION);
  const lease = {
    stage: o.stage,
    owner: o.owner,
    epoch: o.epoch,
    renewedMs: o.renewed_ms,
  } as StageLease;
  checkStageLease(lease, where);
  return lease;
}

function checkStageLease(lease: StageLease, where = "stage lease"): void {
  if (!isValidName(lease.stage)) {
    throw leaseFieldError("stage", "a name (A-Z a-z 0-9 _ -)", lease.stage, where);
  }
  checkLeaseTenure(lease, where);
}
