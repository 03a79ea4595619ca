/** `troupe sim`'s options read and checked: the seeds, the faults, the simulated cluster. */
import { type FaultSpec, parseFaults, type SimOptions } from "../sim/mod.ts";
import type { HostKinds } from "../actors/cluster/mod.ts";
import { duration, flag, given, num, type ParsedArgs, str, text, UsageError } from "./args.ts";

/** What `troupe sim` is asked to run. */
export interface CliOptions {
  seeds: number[];
  base: Omit<SimOptions, "seed">;
  checkDeterminism: boolean;
  keepTrace: boolean;
  tracePath: string | undefined;
  json: boolean;
}

/** The options of `args`, each checked: a bad one is a UsageError naming it and its value. */
export function readArgs(args: ParsedArgs, kinds: HostKinds): CliOptions {
  const hasSeed = given(args, "seed");
  const hasSeeds = given(args, "seeds");
  if (hasSeed && hasSeeds) throw new UsageError("Give --seed or --seeds, not both");
  if (!hasSeeds && given(args, "from")) {
    throw new UsageError("Option --from goes with --seeds");
  }
  let seeds: number[];
  if (hasSeeds) {
    const n = num(args, "seeds");
    // The last seed must be a safe integer too: a bound known once --seeds is read.
    const from = num(args, "from", { max: Number.MAX_SAFE_INTEGER - n });
    seeds = Array.from({ length: n }, (_, i) => from + i);
  } else {
    seeds = [num(args, "seed")];
  }
  let faults: FaultSpec;
  try {
    faults = parseFaults(text(args, "faults"));
  } catch (err) {
    throw new UsageError(`Option --faults: ${(err as Error).message}`);
  }
  const tracePath = str(args, "trace");
  if (tracePath !== undefined && seeds.length > 1) {
    throw new UsageError("Option --trace goes with --seed (one seed)");
  }
  const checkDeterminism = flag(args, "check-determinism");
  const actorList = str(args, "actors");
  const registry = kinds.registry;
  const actors = actorList === undefined
    ? (kinds.modules.length > 0 ? Object.values(registry) : undefined)
    : actorList.split(",").map((k) => {
      const def = registry[k.trim()];
      if (!def) {
        throw new UsageError(
          `Option --actors names unknown kind "${k}"; known kinds: ${
            Object.keys(registry).join(", ")
          }`,
        );
      }
      return def;
    });
  return {
    seeds,
    base: {
      faults,
      durationS: duration(args, "duration"),
      hosts: num(args, "hosts"),
      hostThreads: num(args, "threads"),
      channels: num(args, "channels"),
      rate: num(args, "rate"),
      snapshotMinInputs: num(args, "snapshot-min-inputs"),
      ...(actors === undefined ? {} : { actors }),
      ...(kinds.modules.length > 0 ? { kindModules: kinds.modules.map((m) => m.spec) } : {}),
    },
    checkDeterminism,
    // The lines are needed to name where two runs diverge and to write them out; what led to a
    // single seed's first violation is kept either way (a run's lines grow with its duration).
    keepTrace: checkDeterminism || tracePath !== undefined,
    tracePath,
    json: flag(args, "json"),
  };
}
