/**
 * The options of a simulation run (see simulator.ts): what a caller may set, their defaults and
 * checks (`resolve`), and the command line that reproduces a run.
 */
import { ACTOR_KINDS } from "../actors/mod.ts";
import type { AnyActorDefinition } from "../actors/runtime/mod.ts";
import { checkFaults, type FaultSpec, parseFaults } from "./faults.ts";

/** Deliberate breakage, for tests that the checker catches it. */
export type Sabotage =
  | "apply_twice"
  | "corrupt_journal"
  | "lose_input"
  | "corrupt_output"
  | "apply_duplicate"
  | "drop_void"
  | "accept_damage"
  | "unfenced";

/** Options of a simulation run. */
export interface SimOptions {
  seed: number;
  /** The faults, as `parseFaults` gives them (see FAULT_KINDS). Default `parseFaults("all")`. */
  faults?: FaultSpec;
  /** Virtual seconds of feed. Default 10. */
  durationS?: number;
  /** Default 3. */
  hosts?: number;
  /**
   * The threads each host runs its partitions on, as `troupe run --threads N` (at most one per
   * partition it owns). Default 1. A leased cluster's hosts hold a partition each: one thread.
   */
  hostThreads?: number;
  /** Feed channels. Default 8. */
  channels?: number;
  /** Samples per second over all channels. Default 2000. */
  rate?: number;
  /** Samples per frame. Default 100. */
  batch?: number;
  /** Partitions the keys hash to. Default 12. */
  partitions?: number;
  /** Actor kinds the hosts run. Default: every kind troupe ships. */
  actors?: readonly AnyActorDefinition[];
  /**
   * The modules the user's kinds among `actors` came from, as the command line named them
   * (`--kinds`): the reproducing command names them again. Default none.
   */
  kindModules?: readonly string[];
  /** Per-kind configuration. Default: stats publishes every 500 samples. */
  config?: Record<string, unknown>;
  /** Keep the trace's lines (the hash is always computed). Default true. */
  keepTrace?: boolean;
  /** Virtual seconds the cluster has to catch up once faults stop. Default 120. */
  drainMaxS?: number;
  /**
   * Generate the feed and fold the fault-free reference on a worker thread, in parallel with the
   * run (the trace is the same either way). Default true; `TROUPE_SIM_THREADS=0` turns it off.
   */
  threads?: boolean;
  /**
   * Inputs since an instance's last snapshot for its host's stop to snapshot it
   * (`snapshots.min_inputs`). Default 1: a stop snapshots every instance with news, as the seeds'
   * pinned traces were made; `troupe run` takes 5, which leaves a stop inputs past snapshots that
   * the next start applies as each instance is restored (recovery/deferred_tails.ts).
   */
  snapshotMinInputs?: number;
  sabotage?: Sabotage;
}

/** The command line that reproduces a run of `options`. */
export function reproduceCommand(options: SimOptions): string {
  const o = resolve(options);
  const parts = [`troupe sim --seed ${o.seed} --faults ${o.faults.name} --duration ${o.durationS}`];
  if (o.hosts !== 3) parts.push(`--hosts ${o.hosts}`);
  if (o.hostThreads !== 1) parts.push(`--threads ${o.hostThreads}`);
  if (o.channels !== 8) parts.push(`--channels ${o.channels}`);
  if (o.rate !== 2000) parts.push(`--rate ${o.rate}`);
  if (o.snapshotMinInputs !== 1) parts.push(`--snapshot-min-inputs ${o.snapshotMinInputs}`);
  const all = Object.keys(ACTOR_KINDS).join(",");
  const kinds = o.actors.map((a) => a.kind).join(",");
  if (o.kindModules.length > 0) parts.push(`--kinds ${o.kindModules.join(",")}`);
  if (options.actors !== undefined && kinds !== all) parts.push(`--actors ${kinds}`);
  return parts.join(" ");
}

/** The options with their defaults filled in. */
export type Resolved = Required<Omit<SimOptions, "sabotage">> & { sabotage: Sabotage | undefined };

/** `options` with defaults filled in, checked: a RangeError names a bad one and its value. */
export function resolve(options: SimOptions): Resolved {
  const actors = options.actors ?? Object.values(ACTOR_KINDS);
  const config: Record<string, unknown> = options.config ??
    (actors.some((a) => a.kind === "stats") ? { stats: { every_samples: 500 } } : {});
  const o: Resolved = {
    seed: options.seed,
    faults: options.faults === undefined ? parseFaults("all") : checkFaults(options.faults),
    durationS: options.durationS ?? 10,
    hosts: options.hosts ?? 3,
    hostThreads: options.hostThreads ?? 1,
    channels: options.channels ?? 8,
    rate: options.rate ?? 2000,
    batch: options.batch ?? 100,
    partitions: options.partitions ?? 12,
    actors,
    kindModules: options.kindModules ?? [],
    config,
    keepTrace: options.keepTrace ?? true,
    drainMaxS: options.drainMaxS ?? 120,
    threads: options.threads ?? true,
    snapshotMinInputs: options.snapshotMinInputs ?? 1,
    sabotage: options.sabotage,
  };
  const int = (name: string, x: number, min: number, max: number) => {
    if (!Number.isInteger(x) || x < min || x > max) {
      throw new RangeError(
        `Simulation option "${name}" must be an integer from ${min} to ${max}, got ${x}`,
      );
    }
  };
  int("seed", o.seed, 0, Number.MAX_SAFE_INTEGER);
  int("hosts", o.hosts, 1, 64);
  int("hostThreads", o.hostThreads, 1, 64);
  int("channels", o.channels, 1, 10_000);
  int("batch", o.batch, 1, 65_536);
  int("partitions", o.partitions, 1, 4096);
  int("snapshotMinInputs", o.snapshotMinInputs, 1, 1_000_000);
  if (!(o.durationS > 0 && Number.isFinite(o.durationS))) {
    throw new RangeError(`Simulation option "durationS" must be > 0, got ${o.durationS}`);
  }
  if (!(o.rate > 0 && Number.isFinite(o.rate))) {
    throw new RangeError(`Simulation option "rate" must be > 0 samples/s, got ${o.rate}`);
  }
  if (o.actors.length === 0) throw new RangeError(`Simulation needs at least one actor kind`);
  return o;
}
