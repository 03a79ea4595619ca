/**
 * `troupe sim`: the deterministic simulator from the command line. Runs one seed or a range of
 * seeds of a whole cluster on virtual time under the chosen faults, checks the invariants, and
 * prints a summary; every failing seed comes with the exact command that reproduces it.
 * `--check-determinism` runs each seed twice and compares the traces. Exit 1 when any seed fails.
 */
import { closeSync, openSync, writeSync } from "node:fs";
import process from "node:process";
import { ACTOR_KINDS } from "../../actors/mod.ts";
import {
  FAULT_KINDS,
  type FaultSpec,
  parseFaults,
  type SimOptions,
  type SimResult,
  type SimStats,
  simulateOnThread,
} from "../../sim/mod.ts";
import { type HostKinds, kindsOption } from "../host_kinds.ts";
import {
  type Command,
  duration,
  EXIT_FAILURE,
  EXIT_OK,
  flag,
  given,
  num,
  type ParsedArgs,
  str,
  text,
  UsageError,
} from "../args.ts";

/** What one seed gave, with the determinism check's verdict when asked for. */
interface SeedOutcome {
  result: SimResult;
  /** Why the second run differed, when `--check-determinism` found it did. */
  nondeterministic: string | undefined;
}

export const command: Command = {
  name: "sim",
  summary: "deterministic simulation of a cluster under faults, checking its invariants",
  usage: "(--seed S | --seeds N [--from S0]) [--faults KIND] [--duration S] [--hosts N] " +
    "[--threads N] [--channels N] [--rate R] [--actors LIST] [--kinds MODULES] " +
    "[--check-determinism] [--trace FILE] [--json]",
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
  const outcomes: SeedOutcome[] = [];
  const progress = o.seeds.length > 1 ? new Progress(o.seeds.length) : undefined;
  let failed = 0;
  for (const seed of o.seeds) {
    const options: SimOptions = { ...o.base, seed, keepTrace: o.keepTrace };
    const result = await simulateOnThread(options);
    let nondeterministic: string | undefined;
    if (o.checkDeterminism) {
      const again = await simulateOnThread(options);
      if (again.traceHash !== result.traceHash) {
        nondeterministic = describeDivergence(result, again);
      }
    }
    const outcome = { result, nondeterministic };
    if (!passed(outcome)) failed++;
    outcomes.push(outcome);
    if (o.tracePath !== undefined) writeTrace(o.tracePath, result.trace);
    progress?.update(outcomes.length, failed);
  }
  progress?.done();
  const elapsedS = (performance.now() - started) / 1000;
  if (o.json) {
    console.log(JSON.stringify(summaryJson(o, outcomes, elapsedS), null, 2));
  } else {
    console.log(summaryText(o, outcomes, elapsedS));
  }
  return failed > 0 ? EXIT_FAILURE : EXIT_OK;
}

interface CliOptions {
  seeds: number[];
  base: Omit<SimOptions, "seed">;
  checkDeterminism: boolean;
  keepTrace: boolean;
  tracePath: string | undefined;
  json: boolean;
}

function readArgs(args: ParsedArgs, kinds: HostKinds): CliOptions {
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

function passed(o: SeedOutcome): boolean {
  return o.result.ok && o.nondeterministic === undefined;
}

/** Characters of trace written at a time: a long run's trace is never one string. */
const TRACE_WRITE_CHARS = 1 << 20;

/** Writes a trace's lines to `path`, each ended by a newline. */
function writeTrace(path: string, trace: readonly string[]): void {
  const fd = openSync(path, "w");
  try {
    let chunk = "";
    for (const line of trace) {
      chunk += line + "\n";
      if (chunk.length >= TRACE_WRITE_CHARS) {
        writeSync(fd, chunk);
        chunk = "";
      }
    }
    writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
}

/** Where two traces of one seed part. */
function describeDivergence(a: SimResult, b: SimResult): string {
  const n = Math.max(a.trace.length, b.trace.length);
  for (let i = 0; i < n; i++) {
    if (a.trace[i] !== b.trace[i]) {
      return `the two runs' traces differ (sha256 ${a.traceHash.slice(0, 12)} vs ${
        b.traceHash.slice(0, 12)
      }) first at line ${i + 1}: ${JSON.stringify(a.trace[i] ?? "(end)")} vs ${
        JSON.stringify(b.trace[i] ?? "(end)")
      }`;
    }
  }
  return `the two runs' traces differ (sha256 ${a.traceHash.slice(0, 12)} vs ${
    b.traceHash.slice(0, 12)
  })`;
}

function summaryText(o: CliOptions, outcomes: SeedOutcome[], elapsedS: number): string {
  const lines: string[] = [];
  const failures = outcomes.filter((x) => !passed(x));
  if (outcomes.length === 1) {
    const { result: r } = outcomes[0]!;
    const s = r.stats;
    lines.push(
      `troupe sim: seed ${r.seed}, faults ${r.faults}: ${passed(outcomes[0]!) ? "ok" : "FAILED"}`,
      `  ${r.virtualS.toFixed(1)} virtual s in ${(r.realMs / 1000).toFixed(2)} s (${
        speedFactor(r.virtualS / (r.realMs / 1000))
      }); ${s.frames} frames (${s.samples} samples) into ${s.instances} instances on ` +
        `${o.base.hosts} hosts`,
      `  faults: ${s.crashes} crashes, ${s.journalRecordsLost} journal records lost, ` +
        `${s.partitions} partitions; network: ${s.dropped} dropped, ${s.duplicated} duplicated, ` +
        `${s.reordered} reordered of ${s.delivered + s.dropped}`,
      `  outputs: ${s.outputsPublished} published, ${s.outputsExpected} expected; trace sha256 ` +
        `${r.traceHash}`,
    );
    if (s.journalRecordsDamaged > 0) {
      lines.push(
        `  journal damage: ${s.journalRecordsDamaged} records damaged between intact ones`,
      );
    }
    if (s.copies > 0) {
      lines.push(
        `  duplicate ids: ${s.copies} frames logged again, ${s.reapplied} inputs applied again ` +
          `past the id window`,
      );
    }
    if (s.pauses + s.cuts + s.takeovers > 0) lines.push(`  ${leaseLine(s)}`);
  } else {
    const virtualS = outcomes.reduce((a, x) => a + x.result.virtualS, 0);
    lines.push(
      `troupe sim: ${outcomes.length} seeds (${o.seeds[0]}..${
        o.seeds[o.seeds.length - 1]
      }), faults ${o.base.faults!.name}: ${
        outcomes.length - failures.length
      } passed, ${failures.length} failed` +
        ` (${virtualS.toFixed(0)} virtual s in ${elapsedS.toFixed(1)} s${
          o.checkDeterminism ? ", each run twice" : ""
        })`,
    );
    const sum = totals(outcomes);
    if (sum.pauses + sum.cuts + sum.takeovers > 0) {
      lines.push(`  ${sum.crashes} crashes; ${leaseLine(sum)}`);
    }
  }
  for (const f of failures.slice(0, 50)) {
    const r = f.result;
    lines.push(``, `seed ${r.seed} FAILED:`);
    for (const v of r.violations.slice(0, 10)) {
      lines.push(`  ${v.invariant} at ${(v.atUs / 1e6).toFixed(6)} s: ${v.message}`);
    }
    if (r.violations.length > 10) lines.push(`  ... and ${r.violations.length - 10} more`);
    if (f.nondeterministic) lines.push(`  nondeterministic: ${f.nondeterministic}`);
    lines.push(`  reproduce: ${r.command}${o.checkDeterminism ? " --check-determinism" : ""}`);
    const at = r.trace.findIndex((l) => l.includes(" VIOLATION "));
    const excerpt = at >= 0 ? r.trace.slice(Math.max(0, at - 15), at + 1) : r.excerpt;
    if (outcomes.length === 1 && excerpt.length > 0) {
      lines.push(
        at >= 0
          ? `  the trace up to the first violation (all of it: --trace FILE):`
          : `  the trace up to the first violation found as it happened (all of it: --trace FILE):`,
      );
      for (const l of excerpt) lines.push(`    ${l}`);
    }
  }
  if (failures.length > 50) lines.push(``, `... and ${failures.length - 50} more failing seeds`);
  return lines.join("\n");
}

/** The lease faults of a run (or of many, summed), in one line. */
function leaseLine(s: LeaseCounts): string {
  return `leases: ${s.pauses} pauses, ${s.cuts} cuts from NATS, ${s.takeovers} takeovers, ` +
    `${s.fencedWrites} writes fenced`;
}

type LeaseCounts = Pick<SimStats, "crashes" | "pauses" | "cuts" | "takeovers" | "fencedWrites">;

/** The crashes and lease faults of every seed, summed. */
function totals(outcomes: SeedOutcome[]): LeaseCounts {
  const sum: LeaseCounts = { crashes: 0, pauses: 0, cuts: 0, takeovers: 0, fencedWrites: 0 };
  for (const { result: { stats } } of outcomes) {
    for (const k of Object.keys(sum) as (keyof LeaseCounts)[]) sum[k] += stats[k];
  }
  return sum;
}

function summaryJson(o: CliOptions, outcomes: SeedOutcome[], elapsedS: number) {
  const failures = outcomes.filter((x) => !passed(x));
  const brief = (x: SeedOutcome) => ({
    seed: x.result.seed,
    ok: passed(x),
    violations: x.result.violations,
    nondeterministic: x.nondeterministic ?? null,
    command: x.result.command + (o.checkDeterminism ? " --check-determinism" : ""),
    traceHash: x.result.traceHash,
    virtualS: x.result.virtualS,
    realMs: x.result.realMs,
    onThread: x.result.onThread,
    stats: x.result.stats,
  });
  return {
    faults: o.base.faults!.name,
    durationS: o.base.durationS,
    hosts: o.base.hosts,
    seedsRun: outcomes.length,
    passed: outcomes.length - failures.length,
    failed: failures.length,
    elapsedS,
    totals: totals(outcomes),
    failures: failures.map(brief),
    ...(outcomes.length === 1 ? { result: brief(outcomes[0]!) } : {}),
  };
}

/** A progress bar on stderr: redrawn in place on a terminal, a line every 5% otherwise. */
class Progress {
  readonly #total: number;
  readonly #tty = process.stderr.isTTY === true;
  readonly #t0 = performance.now();
  #lastStep = -1;

  constructor(total: number) {
    this.#total = total;
  }

  update(done: number, failed: number): void {
    const elapsedS = (performance.now() - this.#t0) / 1000;
    const rate = done / Math.max(elapsedS, 1e-9);
    const eta = (this.#total - done) / Math.max(rate, 1e-9);
    const width = 30;
    const filled = Math.round((done / this.#total) * width);
    const text = `[${"#".repeat(filled)}${
      "-".repeat(width - filled)
    }] ${done}/${this.#total} seeds, ${failed} failed, ${rate.toFixed(1)} seeds/s, ETA ${
      eta.toFixed(0)
    } s`;
    if (this.#tty) {
      process.stderr.write(`\r${text}\x1b[K`);
      return;
    }
    const step = Math.floor((done / this.#total) * 20);
    if (step !== this.#lastStep || done === this.#total) {
      this.#lastStep = step;
      process.stderr.write(`${text}\n`);
    }
  }

  done(): void {
    if (this.#tty) process.stderr.write("\n");
  }
}

/** Virtual seconds per real second, as "12x" or "0.19x" (slower than real time is not "0x"). */
export function speedFactor(ratio: number): string {
  return `${ratio >= 10 ? ratio.toFixed(0) : ratio.toPrecision(2)}x`;
}
