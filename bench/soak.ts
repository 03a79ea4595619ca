/**
 * `troupe bench soak`: an hour of faults compressed into a few minutes. A real nats-server with
 * JetStream, a real host in a child process (JetStream input, file journal fsynced every 20 ms,
 * file snapshots, `stats` with one output per frame), and a publisher that sends frames on
 * `--channels` channels at `--rate` frames per second with JetStream acknowledgements (and message
 * ids, so a publish retried across a restart is stored once). On a schedule, the host is killed
 * with SIGKILL and started again, and the nats-server is restarted on its port and store.
 *
 * Compaction deletes journal segments every snapshot covers, from the middle of the journal too,
 * so the bench hard-links each segment into an archive as it appears (_segment_archive.ts). At the
 * end the host applies what was acknowledged, reports each stats instance's count of samples, and
 * is stopped cleanly; then the archived journal is read: each instance's positions must run from
 * its first record (init) without a gap, and every acknowledged frame must be journaled once
 * (records a rebuild voided not counted), and each count must be the samples of the frames
 * acknowledged on its channel. The figures are `lost` (acknowledged frames not journaled),
 * `doubled` (frames journaled twice for one instance), `unaccounted` (journal positions missing
 * from the archive), `applied_not_once` (frames' worth of samples by which the final counts differ
 * from the acknowledged frames) and `stall_s_max`, the longest time the host published nothing
 * while frames it had not answered were acknowledged (kills and restarts included: what a consumer
 * of its outputs sees). The bar is 0, 0, 0, 0 and at most 5 s. There is no baseline.
 */
import { join } from "node:path";
import process from "node:process";
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import {
  ensureFeedStream,
  FileJournal,
  type JournalRecord,
  NatsServer,
  VoidedPositions,
} from "../actors/runtime/mod.ts";
import { decodeEnvelope, decodeInputRecord, feedSubject, outPattern } from "../protocol/mod.ts";
import { type BenchContext, type Benchmark, type BenchRow, row } from "./_bench.ts";
import { type OptionTable, readOptions } from "./_option_table.ts";
import { ChildScript } from "./_child_script.ts";
import { tempDir } from "./_temp_dir.ts";
import { sleep } from "./_sleep.ts";
import { requireNatsServer } from "./_bench_nats.ts";
import { pacedFrames } from "./_paced_frames.ts";
import { SegmentArchive } from "./_segment_archive.ts";

const NAME = "soak";
const BATCH = 10;
/** How long a host started (again) may take to recover and say it is ready. */
const HOST_READY_MS_MAX = 180_000;

interface SoakSettings {
  minutes: number;
  channels: number;
  rate: number;
  killEveryS: number;
  restartEveryS: number;
}

const OPTIONS = {
  minutes: { help: "how long to run", default: 3, number: { min: 0.2, max: 600 } },
  channels: {
    help: "channels, one stats instance each",
    default: 20,
    number: { min: 1, max: 1000, integer: true },
  },
  rate: {
    help: "frames per second over all channels",
    default: 400,
    number: { min: 1, max: 100_000 },
  },
  "kill-every": {
    help: "seconds between host kills (SIGKILL)",
    arg: "S",
    default: 40,
    number: { min: 5, max: 36_000 },
  },
  "restart-every": {
    help: "seconds between nats-server restarts",
    arg: "S",
    default: 55,
    number: { min: 5, max: 36_000 },
  },
} satisfies OptionTable;

export const benchmark: Benchmark = {
  name: NAME,
  summary:
    "host kills and nats-server restarts on a schedule for a few minutes: inputs lost, doubled, " +
    "longest stall (bar 0, 0, <= 5 s)",
  options: OPTIONS,
  async run(args: string[], ctx: BenchContext): Promise<BenchRow[]> {
    const o = readOptions(args, OPTIONS);
    const s: SoakSettings = {
      minutes: o.minutes,
      channels: o.channels,
      rate: o.rate,
      killEveryS: o["kill-every"],
      restartEveryS: o["restart-every"],
    };
    requireNatsServer(NAME);
    const r = await soak(s, ctx);
    ctx.log(
      `${NAME}: ${r.acked} frames acknowledged, ${r.kills} host kills, ${r.restarts} ` +
        `nats-server restarts; ` +
        `lost ${r.lost}, doubled ${r.doubled}, unaccounted ${r.unaccounted}, applied not once ` +
        `${r.appliedNotOnce}, longest stall ${r.stallS.toFixed(2)} s (${r.segments} journal ` +
        `segments archived, ${r.compacted} of them deleted by compaction)`,
    );
    const fig = (metric: string, unit: string, troupe: number) =>
      row({ bench: NAME, metric, unit, troupe, baseline: null, better: "lower" });
    return [
      fig("lost", "frames", r.lost),
      fig("doubled", "frames", r.doubled),
      fig("unaccounted", "positions", r.unaccounted),
      fig("applied_not_once", "frames", r.appliedNotOnce),
      fig("stall_s_max", "s", r.stallS),
    ];
  },
};

interface SoakResult {
  acked: number;
  lost: number;
  doubled: number;
  unaccounted: number;
  appliedNotOnce: number;
  segments: number;
  compacted: number;
  stallS: number;
  kills: number;
  restarts: number;
}

/** The run: a server, a host, a publisher, the schedule; then the journal's account. */
async function soak(s: SoakSettings, ctx: BenchContext): Promise<SoakResult> {
  const dir = tempDir("troupe-bench-soak-");
  let nats = await NatsServer.start({ storeDir: join(dir.path, "js") });
  const first = nats;
  const hostConfig = soakHostConfig(nats.url, join(dir.path, "host"));
  const startHost = async () => {
    const h = ChildScript.start("bench/_soak_host.ts", [JSON.stringify(hostConfig)], ctx.log);
    // Recovery after a kill takes seconds on an idle machine and tens of them on a loaded one.
    await h.next(HOST_READY_MS_MAX);
    return h;
  };
  const pub = await connect({
    servers: nats.url,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 100,
  });
  const watch = new Watch();
  const archive = new SegmentArchive(join(dir.path, "host", "journal"), join(dir.path, "archive"));
  let host: ChildScript | undefined;
  try {
    await ensureFeedStream(pub);
    watch.listen(pub);
    host = await startHost();
    const publisher = new Publisher(jetstream(pub), s.channels, () => watch.acked());
    const endMs = Date.now() + s.minutes * 60_000;
    const sending = publisher.run(s.rate, endMs);
    let nextKill = Date.now() + s.killEveryS * 1000;
    let nextRestart = Date.now() + s.restartEveryS * 1000;
    let kills = 0, restarts = 0;
    while (Date.now() < endMs) {
      await sleep(100);
      watch.sample();
      archive.sweep();
      if (Date.now() >= nextKill) {
        ctx.log(`${NAME}: kill -9 the host (${++kills})`);
        await host.kill();
        host = await startHost();
        nextKill += s.killEveryS * 1000;
      }
      if (Date.now() >= nextRestart) {
        ctx.log(`${NAME}: restart nats-server (${++restarts})`);
        await nats.stop();
        nats = await NatsServer.start(first.options);
        nextRestart += s.restartEveryS * 1000;
      }
    }
    await sending;
    // Let the host apply every frame acknowledged (the last kill may be recent), then stop it.
    const counts = await caughtUp(host, publisher.seqs, () => {
      watch.sample();
      archive.sweep();
    }, ctx);
    process.kill(host.pid!, "SIGTERM");
    await host.wait(20_000);
    host = undefined;
    archive.sweep();
    return {
      acked: publisher.acked,
      ...await account(archive.dir, publisher.seqs),
      appliedNotOnce: appliedNotOnce(counts, publisher.seqs),
      segments: archive.segments,
      compacted: archive.compacted(),
      stallS: watch.stallMs / 1000,
      kills,
      restarts,
    };
  } finally {
    await host?.kill();
    await pub.close().catch(() => {});
    await nats.stop();
    dir.remove();
  }
}

/** The host's configuration: JetStream input, a file journal fsynced every 20 ms, stats. */
function soakHostConfig(nats: string, dataDir: string) {
  return {
    host_id: "soak",
    nats,
    data_dir: dataDir,
    input: "jetstream",
    journal: { kind: "file", fsync: "interval", fsync_interval_ms: 20 },
    snapshots: { every_inputs: 200 },
    actors: { stats: { every_samples: BATCH } },
  };
}

/** Frames' worth of samples by which each channel's final count differs from its acknowledged. */
function appliedNotOnce(
  counts: Readonly<Record<string, number>>,
  seqs: ReadonlyMap<string, number[]>,
): number {
  let frames = 0;
  for (const [channel, acked] of seqs) {
    frames += Math.abs((counts[channel] ?? 0) - acked.length * BATCH) / BATCH;
  }
  return frames;
}

/**
 * Asks the host for its progress until it has applied every acknowledged frame (or 60 s passed);
 * returns each stats instance's final count of samples, by channel.
 */
async function caughtUp(
  host: ChildScript,
  seqs: ReadonlyMap<string, number[]>,
  tick: () => void,
  ctx: BenchContext,
): Promise<Record<string, number>> {
  const lastSeq = Math.max(0, ...[...seqs.values()].map((q) => q.at(-1) ?? 0));
  const drainEnd = Date.now() + 60_000;
  for (;;) {
    host.send("progress");
    const progress = await host.next(10_000) as { srcPos: number; counts: Record<string, number> };
    tick();
    // Every channel's instance has counted its acknowledged frames (or more: doubled).
    const counted = [...seqs].every(([c, acked]) =>
      (progress.counts[c] ?? 0) >= acked.length * BATCH
    );
    if (progress.srcPos >= lastSeq && counted) return progress.counts;
    if (Date.now() > drainEnd) {
      ctx.log(`${NAME}: the host reached sequence ${progress.srcPos} of ${lastSeq} in 60 s`);
      return progress.counts;
    }
    await sleep(200);
  }
}

/** Publishes frames round-robin over the channels, each acknowledged by JetStream. */
class Publisher {
  readonly #js: JetStreamClient;
  readonly #channels: number;
  readonly #onAck: () => void;
  acked = 0;
  /** The stream sequences acknowledged, by channel. */
  readonly seqs = new Map<string, number[]>();

  constructor(js: JetStreamClient, channels: number, onAck: () => void) {
    this.#js = js;
    this.#channels = channels;
    this.#onAck = onAck;
    for (let c = 0; c < channels; c++) this.seqs.set(`s${c}`, []);
  }

  async run(rate: number, endMs: number): Promise<void> {
    const feed = { rate, channels: this.#channels, prefix: "s", src: "soak", batch: BATCH };
    for await (const { channel, id, data } of pacedFrames(feed, () => Date.now() < endMs)) {
      // Retried across a restart; the message id keeps it stored once.
      for (;;) {
        try {
          const ack = await this.#js.publish(feedSubject("soak", channel), data, {
            msgID: id,
            timeout: 2000,
          });
          // A duplicate: an earlier attempt was stored but its acknowledgement lost.
          this.seqs.get(channel)!.push(ack.seq);
          this.acked++;
          this.#onAck();
          break;
        } catch {
          if (Date.now() > endMs + 30_000) throw new Error(`cannot publish ${id}: NATS is away`);
          await sleep(100);
        }
      }
    }
  }
}

/**
 * Follows the host's outputs: the frames it answered (by the output's cause, the frame's id), and
 * its longest silence while a frame acknowledged after its last output waited.
 */
class Watch {
  readonly #ids = new Set<string>();
  #lastOutputMs = Date.now();
  /** When the first frame acknowledged after the last output was, while one waits. */
  #waitingSinceMs: number | undefined;
  stallMs = 0;

  get answered(): number {
    return this.#ids.size;
  }

  get lastOutputMs(): number {
    return this.#lastOutputMs;
  }

  listen(nc: NatsConnection): void {
    nc.subscribe(outPattern("stats"), {
      callback: (_err, m) => {
        let cause: string | undefined;
        try {
          cause = decodeEnvelope(m.data).cause;
        } catch {
          return;
        }
        if (cause !== undefined && !this.#ids.has(cause)) {
          this.#ids.add(cause);
          this.#lastOutputMs = Date.now();
          this.#waitingSinceMs = undefined;
        }
      },
    });
  }

  /** A frame was acknowledged. */
  acked(): void {
    this.#waitingSinceMs ??= Date.now();
  }

  /** Called every 100 ms. */
  sample(): void {
    if (this.#waitingSinceMs === undefined) return;
    const silent = Date.now() - this.#waitingSinceMs;
    if (silent > this.stallMs) this.stallMs = silent;
  }
}

/**
 * Reads the archived journal: acknowledged frames missing from it, frames journaled twice, and
 * positions missing between an instance's first record and its last.
 */
async function account(
  journalDir: string,
  seqs: ReadonlyMap<string, number[]>,
): Promise<{ lost: number; doubled: number; unaccounted: number }> {
  const journal = await FileJournal.open(journalDir, { fsync: "never" });
  let lost = 0, doubled = 0, unaccounted = 0;
  try {
    for (const [channel, acked] of seqs) {
      const stream = `stats/${channel}`;
      const seen = new Map<number, number>();
      const records: JournalRecord[] = [];
      for await (const rec of journal.read(stream, 0)) {
        records.push({ ...rec, data: rec.data.slice() });
      }
      // Every segment is archived, so positions run from 1 (init) to the last without a gap.
      let expected = 1;
      for (const rec of records) {
        if (rec.pos > expected) unaccounted += rec.pos - expected;
        expected = rec.pos + 1;
      }
      if (records.length > 0 && decodeInputRecord(records[0]!.data).kind !== "init") {
        throw new Error(`the archived journal of ${stream} does not begin with init`);
      }
      // Records a rebuild voided were never applied: they are not counted (see recovery.ts).
      const voided = VoidedPositions.of(records);
      for (const rec of records) {
        const r = decodeInputRecord(rec.data);
        if (r.kind === "frame" && !voided.has(rec.pos)) {
          seen.set(r.srcPos, (seen.get(r.srcPos) ?? 0) + 1);
        }
      }
      for (const seq of acked) if (!seen.has(seq)) lost++;
      for (const n of seen.values()) if (n > 1) doubled += n - 1;
    }
  } finally {
    await journal.close();
  }
  return { lost, doubled, unaccounted };
}
