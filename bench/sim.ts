/**
 * `troupe bench sim`: how fast the deterministic simulator runs a cluster, in simulated seconds
 * per real second. One seeded run of `troupe sim`: 3 hosts (12 partitions), a market feed of
 * 10,000 samples per second over 20 channels in frames of 100 samples, the `stats` kind (so that
 * the figure is the simulator's and the host's cost, not a heavy kernel's), faults `all`. The
 * clock runs over the whole run: generating the feed, the fault-free reference it is checked
 * against, the simulation with its per-event checks, the drain and the final checks; the
 * simulated time counted is the feed's duration (the drain's virtual time is not credited). The
 * feed, the reference and the recovery checks' replays are computed on a worker thread while the
 * run goes (the simulator's default; `TROUPE_SIM_THREADS=0` keeps them in process), so the CPU
 * figure counts both threads.
 * A warm-up run of a few simulated seconds goes first (`--warmup`; V8 still compiles much of the
 * hot code during a run that follows a short warm-up, on the same two cores). There is no
 * baseline: the bar is an absolute speed-up (>= 100).
 *
 * The run is 300 simulated seconds by default (about 2.5 s of wall clock here): a throughput
 * figure over a run long enough to be one. At 60 s (0.8 s of wall clock) the figure was mostly
 * what V8 spends once after the short warm-up: in that run about 1 s of the process's 1.6 s of
 * CPU went to compiling (TurboFan, on background threads, in both isolates) and to collecting,
 * and on two cores the run is bound by the process's CPU, not by the simulation. Users see the
 * longer figure: `troupe sim --seeds 200` runs one process for minutes.
 */
import process from "node:process";
import { parseFaults, simulate } from "../sim/mod.ts";
import { type Benchmark, type BenchRow, row } from "./_bench.ts";
import { actorKind } from "./_bench_options.ts";
import { type OptionTable, readOptions } from "./_option_table.ts";

/** A number > 0 (a whole one where `integer`). */
const positive = (integer: boolean) => ({ min: 0, exclusiveMin: true, integer });

const OPTIONS = {
  seconds: { help: "simulated seconds of feed", arg: "S", default: 300, number: positive(false) },
  rate: { help: "samples per simulated second", default: 10_000, number: positive(false) },
  channels: { help: "feed channels", default: 20, number: positive(true) },
  batch: { help: "samples per frame, as the feeds send", default: 100, number: positive(true) },
  hosts: { help: "hosts", default: 3, number: positive(true) },
  faults: {
    help: "none|network|crash|disk|actor|all or a comma list",
    arg: "KIND",
    default: "all",
  },
  actors: { help: "actor kinds, comma-separated", arg: "LIST", default: "stats" },
  seed: { help: "the run's seed", arg: "S", default: 1, number: positive(true) },
  warmup: {
    help: "simulated seconds of the warm-up run before it",
    arg: "S",
    default: 5,
    number: positive(false),
  },
} satisfies OptionTable;

export const benchmark: Benchmark = {
  name: "sim",
  summary:
    "simulated seconds per real second of troupe sim: 3 hosts, 10k samples/s, faults all (no " +
    "baseline)",
  options: OPTIONS,
  async run(args, ctx): Promise<BenchRow[]> {
    const values = readOptions(args, OPTIONS);
    const faults = parseFaults(values.faults);
    const actors = values.actors.split(",").map((k) => actorKind(k.trim()));
    const { seed, seconds: durationS, rate, channels, batch, hosts, warmup: warmupS } = values;
    const options = {
      seed,
      faults,
      durationS,
      rate,
      channels,
      batch,
      hosts,
      actors,
      keepTrace: false,
    };
    ctx.log(`sim: warm-up (${warmupS} simulated s)`);
    await simulate({ ...options, seed: options.seed + 1, durationS: warmupS });
    ctx.log(
      `sim: ${options.durationS} simulated s, ${options.hosts} hosts, ${options.rate} samples/s ` +
        `over ${options.channels} channels in frames of ${options.batch}, faults ` +
        `${faults.name}, actors ${values.actors}`,
    );
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const r = await simulate(options);
    const realS = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuS = (cpu.user + cpu.system) / 1e6;
    if (!r.ok) {
      throw new Error(
        `the simulation failed its invariants, so its speed means nothing: ${
          r.violations[0]?.invariant
        }: ${r.violations[0]?.message} (reproduce: ${r.command})`,
      );
    }
    const s = r.stats;
    const ph = r.phasesMs;
    ctx.log(
      `sim: real time: run ${ph.run.toFixed(0)} ms, drain and final checks ${
        ph.drain.toFixed(0)
      } ms; within them, getting the feed ${ph.feed.toFixed(0)} ms, the fault-free reference ${
        ph.reference.toFixed(0)
      } ms and the recovery checks' verdicts ${ph.checks.toFixed(0)} ms (${
        r.threaded ? "computed on a worker thread" : "computed in process"
      })`,
    );
    ctx.log(
      `sim: ${options.durationS} simulated s (+${
        (r.virtualS - options.durationS).toFixed(1)
      } s drain) in ${realS.toFixed(2)} s (${cpuS.toFixed(2)} s of CPU: ${
        (options.durationS / cpuS).toFixed(0)
      } simulated s per CPU s); ${s.events} events, ${s.frames} frames, ${s.crashes} crashes, ` +
        `${s.partitions} partitions, ${s.dropped} messages dropped`,
    );
    return [
      row({
        bench: "sim",
        metric: "sim_speedup",
        unit: "x",
        troupe: options.durationS / realS,
        baseline: null,
        better: "higher",
      }),
    ];
  },
};
