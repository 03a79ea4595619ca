/**
 * `troupe bench recovery`: how fast a host serves again after a restart. A real host running
 * `stats` on `--channels` channels (in-process bus, file journal with fsync every 100 ms,
 * snapshots packed many to a file as a launched host keeps them) is fed `--samples` samples in
 * frames of `--batch`, then stopped (it snapshots every instance as it stops). The figure is the
 * time from opening the journal and the snapshot store to the first output of a new frame:
 * journal open (which scans its active segment), snapshot loads, the replay of whatever the
 * snapshots do not cover, subscription, and one frame through. It is measured with the
 * snapshots, and again with an empty snapshot store, so that the whole journal is replayed. The
 * baseline is the time to read the same journal once (`FileJournal.readAll` over every record,
 * the journal already open). Each figure is the median of `--runs` restarts; the files are in the
 * page cache, as they are after a process restart on the same machine.
 */
import { join } from "node:path";
import { FileJournal, Host, InProcessBus, PackedSnapshotStore } from "../actors/runtime/mod.ts";
import { statsActor } from "../actors/stats/mod.ts";
import { decodeEnvelope, encodeFrame, feedSubject, outSubject } from "../protocol/mod.ts";
import { Prng } from "../sim/mod.ts";
import { type BenchContext, type Benchmark, type BenchRow, nowMs, row } from "./_bench.ts";
import { type OptionTable, readOptions } from "./_option_table.ts";
import { tempDir } from "./_temp_dir.ts";
import { median } from "./_median.ts";
import { human } from "./_human.ts";

const NAME = "recovery";
const FEED = "rec";

/** Settings of a run. */
interface RecoverySettings {
  samples: number;
  channels: number;
  batch: number;
  runs: number;
}

const OPTIONS = {
  samples: {
    help: "samples in the journal",
    default: 1_000_000,
    number: { min: 1, max: 1e9, integer: true },
  },
  channels: {
    help: "channels, one stats instance each",
    default: 100,
    number: { min: 1, max: 100_000, integer: true },
  },
  batch: {
    help: "samples per frame",
    default: 100,
    number: { min: 1, max: 65_536, integer: true },
  },
  runs: {
    help: "restarts per figure; the median is reported",
    default: 3,
    number: { min: 1, max: 50, integer: true },
  },
} satisfies OptionTable;

export const benchmark: Benchmark = {
  name: NAME,
  summary:
    "time for a restarted host to serve again (journal of 1M samples over 100 channels, with " +
    "and without snapshots), against reading the journal once",
  options: OPTIONS,
  async run(args: string[], ctx: BenchContext): Promise<BenchRow[]> {
    const s: RecoverySettings = readOptions(args, OPTIONS);
    const dir = tempDir("troupe-bench-recovery-");
    try {
      const journalDir = join(dir.path, "journal");
      const snapshotDir = join(dir.path, "snapshots");
      const frames = await build(journalDir, snapshotDir, s, ctx);
      const read: number[] = [], withSnapshots: number[] = [], without: number[] = [];
      for (let r = 0; r < s.runs; r++) {
        read.push(await readOnce(journalDir, ctx));
        withSnapshots.push(await restart(journalDir, snapshotDir, s, frames + r * 2, ctx));
        const empty = join(dir.path, `empty-snapshots-${r}`);
        without.push(await restart(journalDir, empty, s, frames + r * 2 + 1, ctx));
      }
      const ms = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(", ");
      ctx.log(
        `${NAME}: read the journal once: ${ms(read)} ms; restart with snapshots: ${
          ms(withSnapshots)
        } ms; without: ${ms(without)} ms`,
      );
      const baseline = median(read) / 1000;
      return [
        row({
          bench: NAME,
          metric: "recovery_s",
          unit: "s",
          troupe: median(withSnapshots) / 1000,
          baseline,
          better: "lower",
        }),
        row({
          bench: NAME,
          metric: "recovery_s_no_snapshots",
          unit: "s",
          troupe: median(without) / 1000,
          baseline,
          better: "lower",
        }),
      ];
    } finally {
      dir.remove();
    }
  },
};

/** Options of every host here: `stats` with an output every frame, so a new frame answers. */
function hostOptions(
  s: RecoverySettings,
  journal: FileJournal,
  snapshots: PackedSnapshotStore,
  ctx: BenchContext,
) {
  return {
    hostId: "bench-host",
    bus: new InProcessBus(),
    actors: [statsActor],
    config: { stats: { every_samples: s.batch } },
    journal,
    snapshots,
    // A host admits 1,000 channels unless told more.
    limits: { channelsMax: Math.max(s.channels, 1000) },
    log: (m: string) => ctx.log(`host: ${m}`),
  };
}

function openJournal(dir: string): Promise<FileJournal> {
  return FileJournal.open(dir, { fsync: "interval", fsyncIntervalMs: 100 });
}

/** The frame number `f` (round-robin over the channels), encoded. */
function frameBytes(f: number, s: RecoverySettings, values: Float64Array): Uint8Array {
  const c = f % s.channels;
  const k = Math.floor(f / s.channels);
  const t = new Float64Array(s.batch);
  const t0 = 1_700_000_000_000_000 + k * s.batch * 1000;
  for (let i = 0; i < s.batch; i++) t[i] = t0 + i * 1000;
  const at = (f * s.batch) % (values.length - s.batch);
  const v = values.subarray(at, at + s.batch);
  return encodeFrame({ channel: `r${c}`, seq0: k * s.batch, t, v }, {
    id: `rec:${f}`,
    src: "bench",
  });
}

/** Feeds a host until its journal holds `samples` samples; stops it. Returns the frame count. */
async function build(
  journalDir: string,
  snapshotDir: string,
  s: RecoverySettings,
  ctx: BenchContext,
): Promise<number> {
  const prng = new Prng(11);
  const values = new Float64Array(Math.max(1 << 16, s.batch * 4));
  for (let i = 0, x = 100; i < values.length; i++) values[i] = x += prng.normal();
  const journal = await openJournal(journalDir);
  const snapshots = await PackedSnapshotStore.open(snapshotDir);
  const options = hostOptions(s, journal, snapshots, ctx);
  const host = new Host(options);
  await host.start();
  const frames = Math.ceil(s.samples / s.batch);
  const t0 = nowMs();
  for (let f = 0; f < frames; f++) {
    options.bus.publish(feedSubject(FEED, `r${f % s.channels}`), frameBytes(f, s, values));
    if (f % 1000 === 999) await options.bus.flush();
  }
  await options.bus.flush();
  const applied = host.applied.get("stats") ?? 0;
  if (applied !== frames) {
    throw new Error(`${NAME}: the host applied ${applied} of ${frames} frames while building`);
  }
  await host.stop();
  await journal.close();
  await snapshots.close();
  const stats = await statsOf(journalDir);
  ctx.log(
    `${NAME}: built a journal of ${frames} frames, ${
      human(frames * s.batch)
    } samples over ${s.channels} channels (${
      (stats.bytes / (1 << 20)).toFixed(1)
    } MiB, ${stats.records} records) in ${((nowMs() - t0) / 1000).toFixed(1)} s`,
  );
  return frames;
}

async function statsOf(journalDir: string) {
  const journal = await openJournal(journalDir);
  const stats = journal.stats();
  await journal.close();
  return stats;
}

/** Milliseconds to read every record of the journal once (opened beforehand, untimed). */
async function readOnce(journalDir: string, ctx: BenchContext): Promise<number> {
  const journal = await openJournal(journalDir);
  let records = 0, bytes = 0;
  const t0 = nowMs();
  for await (const rec of journal.readAll()) {
    records++;
    bytes += rec.data.byteLength;
  }
  const ms = nowMs() - t0;
  await journal.close();
  if (records === 0) throw new Error(`${NAME}: the journal in ${journalDir} holds no record`);
  ctx.log(`${NAME}: read ${records} records (${human(bytes)} B) in ${ms.toFixed(0)} ms`);
  return ms;
}

/**
 * Milliseconds from opening the journal and the snapshot store to the output of one new frame
 * (number `f`) through a restarted host; the host is stopped afterwards (untimed).
 */
async function restart(
  journalDir: string,
  snapshotDir: string,
  s: RecoverySettings,
  f: number,
  ctx: BenchContext,
): Promise<number> {
  const values = new Float64Array(Math.max(1 << 16, s.batch * 4)).fill(100);
  const frame = frameBytes(f, s, values);
  const channel = `r${f % s.channels}`;
  const t0 = nowMs();
  const journal = await openJournal(journalDir);
  const snapshots = await PackedSnapshotStore.open(snapshotDir);
  const options = hostOptions(s, journal, snapshots, ctx);
  const host = new Host(options);
  await host.start();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const answered = new Promise<void>((resolve, reject) => {
    options.bus.subscribe(outSubject("stats", channel), (msg) => {
      if (decodeEnvelope(msg.data).cause === `rec:${f}`) resolve();
    });
    timer = setTimeout(
      () => reject(new Error(`${NAME}: the restarted host did not answer a frame within 60 s`)),
      60_000,
    );
  });
  options.bus.publish(feedSubject(FEED, channel), frame);
  await answered.finally(() => clearTimeout(timer));
  const ms = nowMs() - t0;
  await host.stop();
  await journal.close();
  await snapshots.close();
  return ms;
}
