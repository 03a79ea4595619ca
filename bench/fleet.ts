/**
 * `troupe bench fleet`: scale out by partition, measured. The detector run of `bench
 * remote-write` (the default kinds, each channel a sample every `--interval-s`, in requests of
 * 2,000 series whose scrapes are spread over the interval) against `--hosts` leased `troupe run
 * --partitions auto` hosts sharing `--partitions` partitions on one nats-server with JetStream,
 * the requests spread over their receivers as a load balancer in front of them would
 * (`--balance`), and against one such host in the same run: the baseline. `--runs` runs of both
 * arms, their order alternated. Rows (troupe: the fleet; baseline: one host; medians over the
 * runs, the counts of what was lost summed): samples acknowledged a second, `detect_lag_ms_p99`,
 * every host's resident memory summed and its growth per 1,000 channels, the largest host's (a
 * host's share), CPU µs a channel's sample summed over the hosts' processes and nats-server's,
 * the request's, the feed stream's and the journal stream's bytes a sample, every sample not
 * acknowledged or not answered by its channel's anomaly output (of the measured rounds, and of
 * the first round, which makes the channels), the partitions claimed again after the share
 * settled (a lease lost while the hosts worked), and the hosts' stop after the rounds (SIGTERM to
 * exit, the slowest host's; the hosts not handed off within the time `troupe run` allows; the
 * writes, a snapshot or a purge, their leases' fences refused as they stopped), and their start
 * again after it, all at once on their data directories (`host_start_s`: until the shares settled,
 * the instances were back, and a round sent then was answered on every channel; the channels whose
 * sample of that round was not, `start_samples_unanswered`). On one
 * machine the fleet cannot take less CPU in total than one host: what it shows is each host's
 * share, what the partitioning costs, and that nothing is lost. Each arm's log line gives the load
 * average as it ran.
 */
import { BenchOptionError } from "./_bench_option_error.ts";
import { type BenchContext, type Benchmark, type BenchRow, row } from "./_bench.ts";
import { type OptionTable, type OptionValues, readOptions } from "./_option_table.ts";
import { fleetArm, type FleetArmFigures } from "./_fleet_arm.ts";
import { median } from "./_median.ts";
import { requireNatsServer } from "./_bench_nats.ts";
import { tempDir } from "./_temp_dir.ts";

const NAME = "fleet";

const OPTIONS = {
  hosts: {
    help: "leased hosts of the fleet arm (the baseline arm runs one)",
    default: 3,
    number: { min: 2, max: 16, integer: true },
  },
  channels: {
    help: "active channels, each a sample every interval",
    default: 3000,
    number: { min: 1, max: 100_000, integer: true },
  },
  partitions: {
    help: "partitions.count of every host (at least --hosts)",
    default: 12,
    number: { min: 1, max: 4096, integer: true },
  },
  seconds: {
    help: "seconds of measured rounds in each arm, after the round that makes the channels",
    default: 60,
    number: { min: 1, max: 3600 },
  },
  "interval-s": {
    help: "seconds between a channel's samples (Prometheus's scrape interval)",
    default: 15,
    number: { min: 1, max: 600, integer: true },
  },
  runs: {
    help: "runs of both arms, the fleet first in odd runs and the single host first in even ones",
    default: 2,
    number: { min: 1, max: 10, integer: true },
  },
  "start-spread-s": {
    help: "seconds between the hosts' starts after their stop (0: all at once, as after a " +
      "restart of the whole fleet; more, as an orchestrator starting them one after another)",
    default: 0,
    number: { min: 0, max: 60 },
  },
  "snapshot-min-inputs": {
    help: "snapshots.min_inputs of every host: inputs an instance takes before a periodic " +
      "round snapshots it (0: not set, the hosts' own)",
    default: 0,
    number: { min: 0, max: 1_000_000, integer: true },
  },
  balance: {
    help: "how the load balancer picks a request's receiver: round-robin (the next one, as " +
      "nginx's upstream does unconfigured) or by-target (a target's requests always to one)",
    oneOf: ["round-robin", "by-target"] as const,
    default: "round-robin",
  },
} satisfies OptionTable;

type Options = OptionValues<typeof OPTIONS>;

export const benchmark: Benchmark = {
  name: NAME,
  summary: "N leased hosts against 1 on remote write with the detectors a host runs " +
    "unconfigured: samples/s, detect lag, memory and CPU per host and summed, nothing lost",
  options: OPTIONS,
  async run(args: string[], ctx: BenchContext): Promise<BenchRow[]> {
    const o = readOptions(args, OPTIONS);
    if (o.partitions < o.hosts) {
      throw new BenchOptionError(
        `Option --partitions must be at least --hosts (${o.hosts}): each host holds one or ` +
          `more, got ${o.partitions}`,
      );
    }
    requireNatsServer(NAME);
    const dir = tempDir("troupe-bench-fleet-");
    const arms: Record<"fleet" | "one", FleetArmFigures[]> = { fleet: [], one: [] };
    try {
      for (let r = 0; r < o.runs; r++) {
        const order = r % 2 === 0 ? [o.hosts, 1] : [1, o.hosts];
        for (const hosts of order) {
          ctx.log(`${NAME}: run ${r + 1}: ${hosts} host(s), ${o.channels} channels`);
          const f = await fleetArm({
            ...o,
            hosts,
            intervalS: o["interval-s"],
            startSpreadS: o["start-spread-s"],
            snapshotMinInputs: o["snapshot-min-inputs"] || undefined,
            dir: dir.path,
            log: ctx.log,
          });
          (hosts === 1 ? arms.one : arms.fleet).push(f);
          ctx.log(armLine(r + 1, f, o));
        }
      }
      return fleetRows(arms.fleet, arms.one);
    } finally {
      dir.remove();
    }
  },
};

/** An arm's figures in words, with the load average as it ran, for the bench's log. */
function armLine(run: number, f: FleetArmFigures, o: Options): string {
  const rss = f.rssMb.map((x) => x.toFixed(0)).join(" + ");
  const shares = Object.values(f.shares).map((p) => p.length).join("/");
  return `${NAME}: run ${run}: ${f.hosts} host(s) (partitions ${shares} of ${o.partitions}, ` +
    `${o.balance}), load average ${f.load[0].toFixed(1)} to ${f.load[1].toFixed(1)}: ` +
    `${f.acked} of ${f.samples} samples acknowledged, ${f.answered} answered ` +
    `(first samples unanswered ${f.firstUnanswered} and late ${f.firstLate}, partitions ` +
    `claimed again ${f.reclaimed}), ` +
    `${Math.round(f.ackedPerS)} acknowledged/s; detect lag p99 ${Math.round(f.lagMsP99)} ms; ` +
    `RSS ${rss} MB (before the channels ${f.rss0Mb.map((x) => x.toFixed(0)).join(" + ")}); ` +
    `CPU a channel's sample: hosts ${f.hostCpuUsPerSample.toFixed(0)} us, nats-server ` +
    `${f.natsCpuUsPerSample.toFixed(0)} us; bytes a sample: request ` +
    `${f.wireBytesPerSample.toFixed(1)}, feed stream ${f.feedBytesPerSample.toFixed(1)}, ` +
    `journal stream ${f.journalBytesPerSample.toFixed(1)}; stopped in ` +
    `${f.stopS.map((s) => s.toFixed(1)).join(", ")} s (not handed off in time: ` +
    `${f.stopsUnclean}; writes refused by a lapsed lease as they stopped: ${f.fencedAtStop}); ` +
    `started again, ${
      o["start-spread-s"] > 0 ? `${o["start-spread-s"]} s apart` : "all at once"
    }, and a new round answered in ${f.start.answeredS.toFixed(1)} s ` +
    `(${f.start.unanswered} channels unanswered; partitions claimed ${f.start.claims} times)`;
}

/** One row of the benchmark: how it is read from an arm's figures. */
interface Figure {
  metric: string;
  unit: string;
  better: "higher" | "lower";
  of(f: FleetArmFigures): number;
  /** How the runs' figures combine: their median, or (for losses) their sum. */
  sum?: true;
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

/** The rows, each from an arm's figures. */
const FIGURES: readonly Figure[] = [
  { metric: "acked_samples_per_s", unit: "samples/s", better: "higher", of: (f) => f.ackedPerS },
  { metric: "detect_lag_ms_p99", unit: "ms", better: "lower", of: (f) => f.lagMsP99 },
  { metric: "rss_mb_summed", unit: "MB", better: "lower", of: (f) => sum(f.rssMb) },
  {
    metric: "rss_mb_per_1k_channels",
    unit: "MB",
    better: "lower",
    of: (f) => ((sum(f.rssMb) - sum(f.rss0Mb)) / f.channels) * 1000,
  },
  { metric: "rss_mb_host_max", unit: "MB", better: "lower", of: (f) => Math.max(...f.rssMb) },
  {
    metric: "host_cpu_us_per_sample",
    unit: "us",
    better: "lower",
    of: (f) => f.hostCpuUsPerSample,
  },
  {
    metric: "nats_cpu_us_per_sample",
    unit: "us",
    better: "lower",
    of: (f) => f.natsCpuUsPerSample,
  },
  {
    metric: "wire_bytes_per_sample",
    unit: "B",
    better: "lower",
    of: (f) => f.wireBytesPerSample,
  },
  {
    metric: "feed_bytes_per_sample",
    unit: "B",
    better: "lower",
    of: (f) => f.feedBytesPerSample,
  },
  {
    metric: "journal_bytes_per_sample",
    unit: "B",
    better: "lower",
    of: (f) => f.journalBytesPerSample,
  },
  {
    metric: "samples_unacknowledged",
    unit: "samples",
    better: "lower",
    of: (f) => f.samples - f.acked,
    sum: true,
  },
  {
    metric: "samples_unanswered",
    unit: "samples",
    better: "lower",
    of: (f) => f.samples - f.answered,
    sum: true,
  },
  {
    metric: "first_samples_unanswered",
    unit: "channels",
    better: "lower",
    of: (f) => f.firstUnanswered,
    sum: true,
  },
  {
    metric: "first_samples_late",
    unit: "channels",
    better: "lower",
    of: (f) => f.firstLate,
    sum: true,
  },
  { metric: "host_stop_s", unit: "s", better: "lower", of: (f) => Math.max(...f.stopS) },
  {
    metric: "hosts_not_handed_off",
    unit: "hosts",
    better: "lower",
    of: (f) => f.stopsUnclean,
    sum: true,
  },
  {
    metric: "stop_writes_fenced",
    unit: "writes",
    better: "lower",
    of: (f) => f.fencedAtStop,
    sum: true,
  },
  { metric: "host_start_s", unit: "s", better: "lower", of: (f) => f.start.answeredS },
  {
    metric: "start_samples_unanswered",
    unit: "channels",
    better: "lower",
    of: (f) => f.start.unanswered,
    sum: true,
  },
  {
    metric: "start_claims",
    unit: "partitions",
    better: "lower",
    of: (f) => f.start.claims,
  },
  {
    metric: "partitions_reclaimed",
    unit: "partitions",
    better: "lower",
    of: (f) => f.reclaimed,
    sum: true,
  },
];

/** The rows: the fleet's figure against the single host's, medians over the runs. */
function fleetRows(fleet: FleetArmFigures[], one: FleetArmFigures[]): BenchRow[] {
  return FIGURES.map((x) => {
    const combine = (fs: FleetArmFigures[]) => x.sum ? sum(fs.map(x.of)) : median(fs.map(x.of));
    return row({
      bench: NAME,
      metric: x.metric,
      unit: x.unit,
      troupe: round1(combine(fleet)),
      baseline: round1(combine(one)),
      better: x.better,
    });
  });
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
