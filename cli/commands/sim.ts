/**
 * `troupe sim`: the deterministic simulator from the command line. Runs one seed or a range of
 * seeds of a whole cluster on virtual time under the chosen faults, checks the invariants, and
 * prints a summary; every failing seed comes with the exact command that reproduces it.
 * `--check-determinism` runs each seed twice and compares the traces. Exit 1 when any seed fails.
 */
import { FAULT_KINDS, seedPassed, simSummary, simulateSeeds, writeTrace } from "../../sim/mod.ts";
import { kindsOption } from "../kinds_option.ts";
import { readArgs } from "../sim_options.ts";
import { summaryText } from "../sim_summary.ts";
import { SimProgress } from "../sim_progress.ts";
import { type Command, EXIT_FAILURE, EXIT_OK, type ParsedArgs, str } from "../args.ts";
import { ACTOR_KINDS } from "../../actors/mod.ts";

export const command: Command = {
  name: "sim",
  summary: "deterministic simulation of a cluster under faults, checking its invariants",
  usage: "(--seed S | --seeds N [--from S0]) [--faults KIND] [--duration S] [--hosts N] " +
    "[--threads N] [--channels N] [--rate R] [--actors LIST] [--kinds MODULES] " +
    "[--snapshot-min-inputs N] [--check-determinism] [--trace FILE] [--json]",
  options: {
    seed: {
      type: "string",
      arg: "S",
      help: "Run this one seed",
      default: 1,
      number: { min: 0, max: Number.MAX_SAFE_INTEGER, integer: true },
    },
    seeds: {
      type: "string",
      arg: "N",
      help: "Run N seeds: S0, S0+1, ... (with --from)",
      defaultText: "one, --seed",
      number: { min: 1, max: 1_000_000, integer: true },
    },
    from: {
      type: "string",
      arg: "S0",
      help: "First seed of --seeds",
      default: 1,
      number: { min: 0, integer: true },
    },
    faults: {
      type: "string",
      arg: "KIND",
      help: `Faults to inject: ${FAULT_KINDS.join("|")}, or a comma list`,
      default: "all",
    },
    duration: {
      type: "string",
      arg: "S",
      help: "Virtual seconds of feed per seed, or 5m, 1h",
      default: 10,
      duration: { positive: true, max: 86_400 },
    },
    hosts: {
      type: "string",
      arg: "N",
      help: "Hosts in the cluster",
      default: 3,
      number: { min: 1, max: 64, integer: true },
    },
    threads: {
      type: "string",
      arg: "N",
      help: "Threads each host runs its partitions on, as troupe run --threads N (partition p " +
        "to thread p mod N, at most one a partition; leased hosts run one)",
      default: 1,
      number: { min: 1, max: 64, integer: true },
    },
    channels: {
      type: "string",
      arg: "N",
      help: "Feed channels",
      default: 8,
      number: { min: 1, max: 10_000, integer: true },
    },
    rate: {
      type: "string",
      arg: "R",
      help: "Feed samples per virtual second",
      default: 2000,
      number: { min: 0, exclusiveMin: true, max: 10_000_000 },
    },
    actors: {
      type: "string",
      arg: "LIST",
      help: "Actor kinds the hosts run, comma-separated",
      defaultText: `all (${Object.keys(ACTOR_KINDS).join(",")})`,
    },
    kinds: {
      type: "string",
      arg: "MODULES",
      help:
        "Modules of your own kinds (paths or packages, comma-separated), run beside troupe's own",
      defaultText: "troupe's own kinds only",
    },
    "snapshot-min-inputs": {
      type: "string",
      arg: "N",
      help: "Inputs since an instance's last snapshot for its host's stop to snapshot it, as " +
        "snapshots.min_inputs (troupe run takes 5; at 1 a stop leaves no journal past any " +
        "snapshot)",
      default: 1,
      number: { min: 1, max: 1_000_000, integer: true },
    },
    "check-determinism": {
      type: "boolean",
      help: "Run every seed twice and fail it if the two traces differ",
    },
    trace: {
      type: "string",
      arg: "FILE",
      help: "Write the trace of --seed to FILE",
      defaultText: "none",
    },
    json: { type: "boolean", help: "Print the summary as JSON" },
  },
  details: `Faults:
  none     a quiet network, no crashes (the cluster must match the fault-free reference exactly)
  network  message delays, drops, duplicates, reorderings; hosts cut off for intervals
  crash    hosts crash (dropped without stopping) and restart on the same disk
  disk     crashes that also lose the journal's tail since the last fsync (and sometimes snapshots)
  actor    actor kernels throw now and then, once per input: the host must restart the instance,
           publish what the input produces and lose nothing
  all      all of the above together, and pause, skew and cut (below): each seed chooses its
           cluster's shape from the seed, leased (the lease faults, no disk) or static (disk, no
           lease faults); the trace's first line says which (shape=leased|static)
  duplicate  (by name) the feed log holds copies of earlier frames: the same id again
  damage   (by name) crashes that also damage one journal record between intact ones; the host
           rebuilds what it lost from the feed log, in order (e.g. --faults all,damage)
  pause, skew, cut  (by name) partitions held by lease, as troupe run --partitions auto: a
           machine paused past its lease (a GC pause, SIGSTOP), clocks skewed and drifting, a
           machine cut off from NATS; crashed machines' partitions are taken over
  lease    network, crash, actor, pause, skew and cut together (every seed leased); disk or
           damage with lease kinds is mixed, as in all
Invariants: no acknowledged input lost, no input applied twice, state after recovery equal to a
full replay of the journal, outputs equal to a fault-free run of the same inputs, no dead letters,
the cluster catches up once faults stop, and with leases at most one writer per partition (no
append or output from an epoch older than the newest claimed). The same seed gives the same
trace, byte for byte.
Examples:
  troupe sim --seed 42 --faults all --duration 30
  troupe sim --seeds 1000 --faults all --check-determinism
  troupe sim --seeds 1000 --faults lease
  troupe sim --seeds 200 --faults network,actor --actors stats`,
  run,
};

async function run(args: ParsedArgs): Promise<number> {
  const kinds = await kindsOption(str(args, "kinds"));
  const o = readArgs(args, kinds);
  const started = performance.now();
  const progress = o.seeds.length > 1 ? new SimProgress(o.seeds.length) : undefined;
  let failed = 0;
  const base = { ...o.base, keepTrace: o.keepTrace };
  const outcomes = await simulateSeeds(o.seeds, base, {
    checkDeterminism: o.checkDeterminism,
    onSeed: (outcome, done) => {
      if (!seedPassed(outcome)) failed++;
      if (o.tracePath !== undefined) writeTrace(o.tracePath, outcome.result.trace);
      progress?.update(done, failed);
    },
  });
  progress?.done();
  const elapsedS = (performance.now() - started) / 1000;
  if (o.json) {
    const summary = simSummary(outcomes, { base, checkDeterminism: o.checkDeterminism, elapsedS });
    console.log(JSON.stringify(summary, null, 2));
  } else {
    console.log(summaryText(o, outcomes, elapsedS));
  }
  return failed > 0 ? EXIT_FAILURE : EXIT_OK;
}
