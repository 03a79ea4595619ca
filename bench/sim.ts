/**
 * `troupe bench sim`: how fast the deterministic simulator runs a cluster, in simulated seconds
 * per real second. One seeded run of `troupe sim`: 3 hosts (12 partitions), a market feed of
 * 10,000 samples per second over 20 channels in frames of 100 samples, the `stats` kind (so that
 * the figure is the simulator's and the host's cost, not a heavy kernel's), faults `all`. The
 * clock runs over the whole run: generating the feed, the fault-free reference it is checked
 * against, the simulation with its per-event checks, the drain and the final checks; the
 * simulated time counted is the feed's duration (the drain's virtual time is not credited). The
 * runs go on the simulator's own thread, as `troupe sim` runs them (simulateOnThread: a young
 * generation sized for the simulator, not the `troupe` command's for a host), and the feed, the
 * reference and the recovery checks' replays are computed on a worker thread while the run goes
 * (the simulator's default; `TROUPE_SIM_THREADS=0` keeps both in process), so the CPU figure
 * counts every thread.
 * Two rows. `sim_speedup`, the bar (>= 100; there is no baseline), is the simulator's speed in a
 * process that has been simulating for a while, as in a `troupe sim --seeds` batch: after a short
 * warm-up (`--warmup` simulated seconds of the next seed), the run is measured once
 * (`sim_speedup_first_run`: a fresh process's first full run, no bar), then `--warm-runs` full runs
 * of the following seeds go unmeasured, and then the same run is measured again. The first full
 * run in a process still pays for much of V8's compiling (on its helper threads and in the main
 * one), which a batch pays once. Both rows move by tens of percent between minutes on one machine.
 *
 * The run is 300 simulated seconds by default: a throughput figure over a run long enough to be
 * one. Users see the warm figure: `troupe sim --seeds 200` runs one process for minutes; one
 * `troupe sim` run sees the first.
 */
import process from "node:process";
import { parseFaults, type SimResult, simulateOnThread } from "../sim/mod.ts";
import { type BenchContext, type Benchmark, type BenchRow, row } from "./_bench.ts";
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
  "warm-runs": {
    help: "full runs of other seeds between the first measured run and the second",
    arg: "N",
    default: 2,
    number: { min: 0, integer: true },
  },
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
    await simulateOnThread({ ...options, seed: options.seed + 1, durationS: warmupS });
    ctx.log(
      `sim: ${options.durationS} simulated s, ${options.hosts} hosts, ${options.rate} samples/s ` +
        `over ${options.channels} channels in frames of ${options.batch}, faults ` +
        `${faults.name}, actors ${values.actors}`,
    );
    const first = await measuredRun(options, ctx);
    ctx.log(`sim: first run: ${first.toFixed(1)}x`);
    const warmRuns = values["warm-runs"];
    for (let i = 1; i <= warmRuns; i++) {
      ctx.log(`sim: warm run ${i} of ${warmRuns} (seed ${seed + i}, not measured)`);
      const r = await simulateOnThread({ ...options, seed: seed + i });
      if (!r.ok) throw failed(r);
    }
    const warm = await measuredRun(options, ctx);
    ctx.log(`sim: after ${warmRuns} warm runs: ${warm.toFixed(1)}x`);
    return [
      row({
        bench: "sim",
        metric: "sim_speedup",
        unit: "x",
        troupe: warm,
        baseline: null,
        better: "higher",
      }),
      row({
        bench: "sim",
        metric: "sim_speedup_first_run",
        unit: "x",
        troupe: first,
        baseline: null,
        better: "higher",
      }),
    ];
  },
};

/** The simulation `options` describes, timed; returns its speed-up (simulated s per real s). */
async function measuredRun(
  options: Parameters<typeof simulateOnThread>[0] & { durationS: number },
  ctx: BenchContext,
): Promise<number> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await simulateOnThread(options);
  const realS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  if (!r.ok) throw failed(r);
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
    } s drain) in ${realS.toFixed(2)} s ${
      r.onThread ? "on the simulator's thread" : "in process"
    } (${cpuS.toFixed(2)} s of CPU: ${
      (options.durationS / cpuS).toFixed(0)
    } simulated s per CPU s); ${s.events} events, ${s.frames} frames, ${s.crashes} crashes, ` +
      `${s.partitions} partitions, ${s.dropped} messages dropped`,
  );
  return options.durationS / realS;
}

/** The error of a run that failed its invariants. */
function failed(r: SimResult): Error {
  return new Error(
    `the simulation failed its invariants, so its speed means nothing: ${
      r.violations[0]?.invariant
    }: ${r.violations[0]?.message} (reproduce: ${r.command})`,
  );
}
