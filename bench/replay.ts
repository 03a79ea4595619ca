/**
 * `troupe bench replay`: the throughput of `troupe replay` at maximum speed. A recording of
 * `--channels` channels of the synthetic market feed (frames of `--batch` samples) is written to
 * a temporary file, then replayed through fresh actors of the kinds `stats`, `anomaly` and
 * `collapse` (those registered), in process: samples per second, from opening the file to the
 * hosts stopped. The replay runs as `troupe replay` would on this machine: a recording this size
 * goes to worker threads, one per core up to 4 (`--threads N` to choose; 1 is a single host in
 * the bench's own thread), and the log line says how many ran. Both sides are warmed up with
 * one unmeasured round over the whole recording, then measured over `--rounds` (3) and the median
 * of each reported; the replay keeps its worker threads, warm, for the next in the same process. A
 * one-shot `troupe replay` starts its threads cold: each pays the compilation of the kernels again.
 *
 * The baseline, measured in the same run, is the least any replay must do, on one thread: read the
 * same file, decode each frame and step the same kernels over it in a bare loop (no bus, no
 * journal, no machines, no outputs). A second pair of rows does the same for `stats` alone, the
 * cheapest kernel, where the replay machinery's own cost shows.
 */
import { ACTOR_KINDS } from "../actors/mod.ts";
import {
  type AnyActorDefinition,
  areaPrefix,
  decodeFrame,
  encodeFrame,
  feedSubject,
} from "../protocol/mod.ts";
import {
  createMarketFeed,
  defaultReplayThreads,
  RecordingReader,
  RecordingWriter,
  replay,
  THREADS_MAX,
} from "../sim/mod.ts";
import { type BenchContext, type Benchmark, type BenchRow, nowMs, row } from "./_bench.ts";
import { BenchOptionError } from "./_bench_option_error.ts";
import { type OptionTable, readOptions } from "./_option_table.ts";
import { statSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./_temp_dir.ts";
import { median } from "./_median.ts";
import { human } from "./_human.ts";

const FEED_PREFIX = areaPrefix("feed");

const NAME = "replay";
const DEFAULT_KINDS = ["stats", "anomaly", "collapse"];

const OPTIONS = {
  channels: {
    help: "channels in the recording",
    default: 100,
    number: { min: 1, max: 10_000, integer: true },
  },
  samples: { help: "samples per channel", default: 10_000, number: { min: 1, integer: true } },
  batch: {
    help: "samples per frame",
    default: 500,
    number: { min: 1, max: 65_536, integer: true },
  },
  kinds: {
    help: "actor kinds, comma-separated",
    defaultText: `${DEFAULT_KINDS.join(",")}, those registered`,
    arg: "LIST",
  },
  // Three rounds: on a shared machine one round swings by 10-20%, and the first after the
  // warm-up still pays compilations on V8's background threads (~0.3 s of CPU on two cores).
  rounds: {
    help: "troupe/baseline rounds; the median of each is reported",
    default: 3,
    number: { min: 1, max: 20, integer: true },
  },
  threads: {
    help: "worker threads of the replay",
    defaultText: "as troupe replay: one per core, up to 4",
    number: { min: 1, max: THREADS_MAX, integer: true },
  },
} satisfies OptionTable;

export const benchmark: Benchmark = {
  name: NAME,
  summary:
    "samples/s of troupe replay at max speed through stats, anomaly and collapse, against the " +
    "same kernels over the same recording in a bare loop",
  options: OPTIONS,
  async run(args: string[], ctx: BenchContext): Promise<BenchRow[]> {
    const o = readOptions(args, OPTIONS);
    const { channels, samples: perChannel, batch, rounds, threads: threadsAsked } = o;
    const kinds = o.kinds === undefined
      ? DEFAULT_KINDS.filter((k) => Object.hasOwn(ACTOR_KINDS, k))
      : o.kinds.split(",").map((k) => k.trim());
    for (const k of kinds) {
      if (!Object.hasOwn(ACTOR_KINDS, k)) {
        throw new BenchOptionError(
          `Option --kinds names an unknown kind "${k}"; known: ${
            Object.keys(ACTOR_KINDS).join(", ")
          }`,
        );
      }
    }

    const dir = tempDir("troupe-bench-replay-");
    try {
      const path = join(dir.path, "bench.rec");
      const total = writeRecording(path, { channels, perChannel, batch, kinds });
      const threads = threadsAsked ?? defaultReplayThreads(statSync(path).size);
      ctx.log(
        `replay: recording of ${channels} channels, ${human(total)} samples in frames of ${batch}` +
          ` (${kinds.join(", ")}); troupe on ${
            threads === 1 ? "1 thread (its host in this one)" : `${threads} worker threads`
          }, the bare loop on 1`,
      );
      // Warm both paths up with one unmeasured round over the whole recording: the replay's
      // threads are fresh isolates, and a short prefix leaves them compiling (and growing their
      // heaps) through the measured run, ~1 s of CPU more than a warm one; the bare loop warms
      // the bench's own thread in every round.
      await bareLoop(path, kinds);
      await replay(path, { actors: kinds, threads });
      const rows: BenchRow[] = [];
      const sets: Array<[string, string[]]> = [["samples_per_s", kinds]];
      if (kinds.join() !== "stats" && kinds.includes("stats")) {
        sets.push(["samples_per_s_stats_only", ["stats"]]);
      }
      for (const [metric, set] of sets) {
        const troupe: number[] = [], base: number[] = [];
        const n = rounds;
        for (let r = 0; r < n; r++) {
          const b = await bareLoop(path, set);
          base.push(b.samples / b.seconds);
          const t0 = nowMs();
          const res = await replay(path, { actors: set, threads });
          const seconds = (nowMs() - t0) / 1000;
          if (res.samples !== b.samples) {
            throw new Error(`replay applied ${res.samples} samples, the bare loop ${b.samples}`);
          }
          troupe.push(res.samples / seconds);
          ctx.log(
            `replay: ${set.join(",")}: troupe ${human(troupe[r]!)} samples/s ` +
              `(${res.outputs} outputs, ${Math.max(1, res.threads)} thread${
                res.threads > 1 ? "s" : ""
              }), bare loop ${human(base[r]!)} samples/s (1 thread)`,
          );
        }
        rows.push(
          row({
            bench: NAME,
            metric,
            unit: "samples/s",
            troupe: median(troupe),
            baseline: median(base),
            better: "higher",
          }),
        );
      }
      return rows;
    } finally {
      dir.remove();
    }
  },
};

/** Writes a feed-only recording of the market feed; returns the samples written. */
function writeRecording(
  path: string,
  o: { channels: number; perChannel: number; batch: number; kinds: string[] },
): number {
  const feed = createMarketFeed({ symbols: o.channels, volume: false, seed: 1, batch: o.batch });
  const w = RecordingWriter.create(path, {
    source: "troupe bench replay",
    config: { actors: Object.fromEntries(o.kinds.map((k) => [k, {}])) },
    seed: 1,
  });
  let t = 1_704_067_200_000_000;
  let samples = 0;
  for (let done = 0; done < o.perChannel; done += o.batch) {
    for (const f of feed.next()) {
      const n = Math.min(o.batch, o.perChannel - done);
      const frame = n === f.v.length
        ? f
        : { channel: f.channel, seq0: f.seq0, t: f.t.subarray(0, n), v: f.v.subarray(0, n) };
      const data = encodeFrame(frame, { id: `bench:${f.channel}:${f.seq0}`, src: "bench" });
      w.append(feedSubject("market", f.channel), t += 100, data);
      samples += n;
    }
  }
  w.close();
  return samples;
}

/** The baseline: read the recording, decode each frame, step every kind's kernel over it. */
async function bareLoop(
  path: string,
  kinds: string[],
): Promise<{ samples: number; seconds: number }> {
  const t0 = nowMs();
  const defs: AnyActorDefinition[] = kinds.map((k) => ACTOR_KINDS[k]!);
  const states = defs.map(() => new Map<string, unknown>());
  const reader = await RecordingReader.open(path);
  let samples = 0;
  for await (const batch of reader.batches()) {
    for (const m of batch) {
      if (!m.subject.startsWith(FEED_PREFIX)) continue;
      const { frame } = decodeFrame(m.data);
      samples += frame.v.length;
      for (let k = 0; k < defs.length; k++) {
        const def = defs[k]!;
        const byKey = states[k]!;
        for (const key of def.route(frame.channel, def.defaultConfig)) {
          let state = byKey.get(key);
          if (state === undefined) byKey.set(key, state = def.kernel.init(def.defaultConfig, key));
          def.kernel.step(state, frame);
        }
      }
    }
  }
  return { samples, seconds: (nowMs() - t0) / 1000 };
}
