/**
 * The faults a simulation injects: the kinds a run is asked for (parsed once, by whoever reads
 * the request: the command line, a benchmark, a test) and the run's fault parameters, drawn from
 * its seed (how often hosts crash, how lossy the network is, how often kernels throw).
 */
import { Prng } from "./prng/mod.ts";
import { type NetworkFaults, QUIET_NETWORK } from "./sim_bus.ts";

/** The faults a set turns on or off, one flag each (each a kind of its own too). */
export const FAULT_FLAGS = [
  "network",
  "crash",
  "disk",
  "actor",
  "duplicate",
  "damage",
  "pause",
  "skew",
  "cut",
] as const;
export type FaultFlag = (typeof FAULT_FLAGS)[number];

/**
 * The fault kinds a run can inject: `network` (delays, drops, duplicates, reorderings,
 * partitions), `crash` (hosts dropped without stopping, restarted on the same disk, power loss of
 * every host, clean stop-and-restart), `disk` (crashes that also lose the journal's unsynced tail),
 * `actor` (actor kernels that throw now and then, once per input: a bug restarts an actor, not the
 * host), `duplicate` (the feed log holds byte-for-byte copies of frames it already holds: the same
 * envelope id at a new sequence, a producer's retry; a copy of one of the last few frames, within
 * every instance's window of recent ids, or of a frame far back, past it), `damage` (crashes that
 * also damage one journal record of the crashed host between intact ones: bytes flipped inside a
 * segment; the restarted host rebuilds what it lost from the feed log, in order). `duplicate`
 * and `damage` are asked for by name (`all,duplicate,damage`); `none` is a quiet run. A run takes
 * one kind or a comma list (`network,actor`).
 *
 * `pause`, `skew` and `cut` run the cluster as `troupe run --partitions auto` does: partitions
 * held by lease, recovered by whoever holds them from a journal every machine reads
 * (_sim_leased_cluster.ts); `pause` stops a machine's process, mostly for longer than a lease
 * (a GC pause, SIGSTOP); `skew` sets every machine's wall clock off and its monotonic clock fast
 * or slow (within the fence's margin); `cut` cuts a machine off from NATS (it can neither renew
 * nor append). `lease` is every fault a leased cluster takes: network, crash, actor, pause, skew
 * and cut. In a leased cluster `crash` kills machines (others take their partitions over when
 * the leases expire).
 *
 * `disk` and `damage` are faults of a host's own file journal, which a leased cluster does not
 * have; a set with both them and lease faults is mixed: each seed chooses its cluster's shape
 * from the seed (`seedShape`), leased with the lease faults or static with disk and damage, half
 * and half. `all` is such a set: network, crash, disk, actor, pause, skew and cut.
 */
export const FAULT_KINDS = ["none", ...FAULT_FLAGS, "lease", "all"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Which faults a run injects, resolved. */
export type FaultSet = Record<FaultFlag, boolean>;

/** What each kind (but `none`) turns on: a disk or damage fault is a crash too. */
const KIND_FLAGS: Record<Exclude<FaultKind, "none">, readonly FaultFlag[]> = {
  network: ["network"],
  crash: ["crash"],
  disk: ["crash", "disk"],
  actor: ["actor"],
  duplicate: ["duplicate"],
  damage: ["crash", "damage"],
  pause: ["pause"],
  skew: ["skew"],
  cut: ["cut"],
  lease: ["network", "crash", "actor", "pause", "skew", "cut"],
  all: ["network", "crash", "disk", "actor", "pause", "skew", "cut"],
};

/** Whether `set` runs the cluster by lease. */
export function leased(set: FaultSet): boolean {
  return set.pause || set.skew || set.cut;
}

/** Whether `set` is mixed: lease faults and a host's own file journal's, one shape a seed. */
export function mixed(set: FaultSet): boolean {
  return leased(set) && (set.disk || set.damage);
}

/** The shape of a seed's cluster: partitions held by lease, or split among static hosts. */
export type ClusterShape = "leased" | "static";

/**
 * The faults seed `seed` runs under `set`, and its cluster's shape. A mixed set's seed chooses
 * from the seed, half and half: leased (disk and damage off) or static (pause, skew and cut
 * off). The draw is from a generator of its own, so every other fork of the seed keeps its
 * stream.
 */
export function seedShape(seed: number, set: FaultSet): { set: FaultSet; shape: ClusterShape } {
  if (!mixed(set)) return { set, shape: leased(set) ? "leased" : "static" };
  if (new Prng(seed).fork("shape").next() < 0.5) {
    return { set: { ...set, disk: false, damage: false }, shape: "leased" };
  }
  return { set: { ...set, pause: false, skew: false, cut: false }, shape: "static" };
}

/** A fault specification, parsed: what `parseFaults` gives and a simulation takes. */
export interface FaultSpec {
  set: FaultSet;
  /** The canonical spelling (`all`, `network,disk`, `none`). */
  name: string;
}

/**
 * Parses a fault kind or a comma list of them into a FaultSet and its canonical spelling. Throws a
 * RangeError naming the unknown kind.
 */
export function parseFaults(spec: string): FaultSpec {
  const set = Object.fromEntries(FAULT_FLAGS.map((f) => [f, false])) as FaultSet;
  const parts = spec.split(",").map((p) => p.trim());
  for (const part of parts) {
    if (!(FAULT_KINDS as readonly string[]).includes(part)) {
      throw new RangeError(
        `Unknown fault kind "${part}" in "${spec}"; kinds are ${
          FAULT_KINDS.join(", ")
        } (or a comma list)`,
      );
    }
    if (part === "none" && parts.length > 1) {
      throw new RangeError(`Fault kind "none" cannot be combined with others, got "${spec}"`);
    }
    if (part !== "none") {
      for (const f of KIND_FLAGS[part as Exclude<FaultKind, "none">]) set[f] = true;
    }
  }
  return { set, name: faultsName(set) };
}

/** The canonical spelling of `set`. */
function faultsName(set: FaultSet): string {
  const names: string[] = [];
  const lease = set.network && set.crash && set.actor && set.pause && set.skew && set.cut;
  if (lease) names.push(set.disk ? "all" : "lease");
  else {
    if (set.network) names.push("network");
    if (set.disk) names.push("disk");
    else if (set.crash && !set.damage) names.push("crash");
    if (set.actor) names.push("actor");
  }
  if (set.duplicate) names.push("duplicate");
  if (set.damage) names.push("damage");
  if (!lease) {
    if (set.pause) names.push("pause");
    if (set.skew) names.push("skew");
    if (set.cut) names.push("cut");
  }
  return names.length ? names.join(",") : "none";
}

/**
 * Checks that `spec` is a FaultSpec as `parseFaults` makes one (its name the canonical spelling
 * of its set), and returns it. Throws a RangeError naming what is wrong.
 */
export function checkFaults(spec: FaultSpec): FaultSpec {
  const set = spec?.set;
  if (
    typeof set !== "object" || set === null || FAULT_FLAGS.some((f) => typeof set[f] !== "boolean")
  ) {
    throw new RangeError(
      `Simulation option "faults" must be parsed by parseFaults(), got ${JSON.stringify(spec)}`,
    );
  }
  if (set.damage && !set.crash) {
    throw new RangeError(
      `Simulation option "faults": damage faults are crashes too, got crash false`,
    );
  }
  if (set.disk && !set.crash) {
    throw new RangeError(
      `Simulation option "faults": disk faults are crashes too, got crash false`,
    );
  }
  if (spec.name !== faultsName(set)) {
    throw new RangeError(
      `Simulation option "faults" is named "${spec.name}", but its set spells "${faultsName(set)}"`,
    );
  }
  return spec;
}

/** A run's fault parameters, drawn from its seed. */
export interface FaultParams {
  snapshotEveryInputs: number;
  snapshotEveryMs: number;
  network: NetworkFaults;
  crashMeanS: number;
  downMaxS: number;
  partitionMeanS: number;
  partitionMaxS: number;
  loseSnapshotsP: number;
  actorFailP: number;
}

/**
 * Draws a run's fault parameters from `params` (the run's "params" fork). The draws and their
 * order are part of what a seed means: reorder them and every seed's trace changes.
 */
export function drawFaultParams(params: Prng, set: FaultSet): FaultParams {
  const latencyMin = 20 + params.int(200);
  return {
    snapshotEveryInputs: 4 + params.int(200),
    snapshotEveryMs: 200 + params.int(5000),
    network: set.network
      ? {
        dropP: params.uniform(0, 0.05),
        dupP: params.uniform(0, 0.05),
        reorderP: params.uniform(0, 0.05),
        reorderDelayUs: 100 + params.int(20_000),
        latencyUsMin: latencyMin,
        latencyUsMax: latencyMin + params.int(5000),
      }
      : QUIET_NETWORK,
    crashMeanS: 1 + params.uniform(0, 6),
    downMaxS: params.uniform(0, 3),
    partitionMeanS: 1 + params.uniform(0, 6),
    partitionMaxS: params.uniform(0.05, 3),
    loseSnapshotsP: params.uniform(0, 0.2),
    actorFailP: params.uniform(0, 0.01),
  };
}

/** A leased run's lease parameters, drawn from its seed. */
export interface LeaseParams {
  /** The lease time to live (the bucket's max_age), ms. */
  ttlMs: number;
  /** Renewals every this many ms: a quarter of the TTL, as `troupe run` defaults to. */
  heartbeatMs: number;
  /** A cold start's wait for the machines started with it: a tenth of the TTL, as `troupe run`. */
  settleMs: number;
  /** One way of a request to NATS, µs. */
  latencyUs: number;
  /** The most a machine's monotonic clock runs fast or slow (0.1: by a tenth). */
  driftMax: number;
  /** Mean seconds between a machine's pauses, and between its cuts. */
  faultMeanS: number;
}

/**
 * Draws a leased run's lease parameters from `rng` (the run's "lease" fork, made only for a
 * leased run, so that other runs keep their traces).
 */
export function drawLeaseParams(rng: Prng): LeaseParams {
  const ttlMs = 500 + rng.int(2500);
  return {
    ttlMs,
    heartbeatMs: Math.max(50, Math.floor(ttlMs / 4)),
    settleMs: Math.floor(ttlMs / 10),
    latencyUs: 100 + rng.int(5000),
    driftMax: 0.1,
    faultMeanS: 1 + rng.uniform(0, 4),
  };
}
