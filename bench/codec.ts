/**
 * `troupe bench codec`: the wire codec's speed. One round is `encodeFrame` then `decodeFrame` (with
 * its validation) of a sample frame; the figure is the frame's encoded bytes per second. The
 * baseline is a plain copy of the same bytes (`Uint8Array.prototype.slice`), the least any codec
 * must do. Measured for the throughput unit, a frame of `--samples` samples (default 500), and
 * for the latency unit, a frame of one sample. A third figure is a host's output at fleet size:
 * an anomaly columns message of one sample (`encodeColumns`) for a channel named as a metric
 * series is, its id, source and cause as a host makes them, over 1,000 channels in turn; its
 * baseline is `@msgpack/msgpack`'s `encode` of the same message as an object (_output_codec.ts).
 * Each figure is the best of several short timed runs (troupe and baseline interleaved), since
 * this machine is shared.
 */
import { decodeFrame, encodeFrame, type SampleFrame } from "../protocol/mod.ts";
import { Prng } from "../sim/mod.ts";
import { type BenchContext, type Benchmark, type BenchRow, nowMs, row } from "./_bench.ts";
import { readOptions } from "./_option_table.ts";
import { frameRunsOptions } from "./_frame_runs_options.ts";
import { human } from "./_human.ts";
import { outputMessages } from "./_output_codec.ts";

const NAME = "codec";

const OPTIONS = frameRunsOptions(200);

export const benchmark: Benchmark = {
  name: NAME,
  summary:
    "sample frame encode+decode bytes/s, against a plain copy of the same bytes (Uint8Array slice)",
  options: OPTIONS,
  run(args: string[], ctx: BenchContext): Promise<BenchRow[]> {
    const { samples, ms, runs } = readOptions(args, OPTIONS);
    const rows: BenchRow[] = [];
    for (const [n, metric] of [[samples, "bytes_per_s"], [1, "bytes_per_s_1_sample"]] as const) {
      const frame = makeFrame(n);
      const bytes = encodeFrame(frame, meta(0)).byteLength;
      let codec = 0, copy = 0;
      for (let r = 0; r < runs; r++) {
        codec = Math.max(codec, timeCodec(frame, ms) * bytes);
        copy = Math.max(copy, timeCopy(frame, ms) * bytes);
      }
      ctx.log(
        `${NAME}: frame of ${n} samples (${bytes} bytes): encode+decode ${human(codec)} B/s (${
          human(codec / bytes)
        } frames/s), copy ${human(copy)} B/s`,
      );
      rows.push(
        row({ bench: NAME, metric, unit: "B/s", troupe: codec, baseline: copy, better: "higher" }),
      );
    }
    const outputs = outputMessages();
    let troupe = 0, general = 0, copied = 0;
    for (let r = 0; r < runs; r++) {
      troupe = Math.max(troupe, outputs.timeTroupe(ms));
      general = Math.max(general, outputs.timeGeneral(ms));
      copied = Math.max(copied, outputs.timeCopied(ms));
    }
    ctx.log(
      `${NAME}: an output's columns message of one sample (${outputs.bytes} bytes): ` +
        `encodeColumns ${human(troupe)} messages/s, @msgpack/msgpack ${human(general)}, ` +
        `from its input's bytes (encodeOutputColumns) ${human(copied)}`,
    );
    rows.push(row({
      bench: NAME,
      metric: "output_messages_per_s",
      unit: "messages/s",
      troupe,
      baseline: general,
      better: "higher",
    }));
    rows.push(row({
      bench: NAME,
      metric: "output_messages_per_s_from_input",
      unit: "messages/s",
      troupe: copied,
      baseline: troupe,
      better: "higher",
      reference: "encodeColumns",
    }));
    return Promise.resolve(rows);
  },
};

/** A frame of `n` samples: times 1 ms apart, values a random walk. */
function makeFrame(n: number): SampleFrame {
  const prng = new Prng(7);
  const t = new Float64Array(n);
  const v = new Float64Array(n);
  const t0 = 1_700_000_000_000_000;
  for (let i = 0, x = 100; i < n; i++) {
    t[i] = t0 + i * 1000;
    x += prng.normal();
    v[i] = x;
  }
  return { channel: "BTC-USD", seq0: 0, t, v };
}

/** The identity of frame `i`, shaped like a real producer's. */
function meta(i: number) {
  return { id: `inj:BTC-USD:${1_000_000 + i}`, src: "injector" };
}

/** Written by the timed loops so that their work cannot be optimised away. */
let sink = 0;

/** Encode+decode rounds per second over `ms` milliseconds. */
function timeCodec(frame: SampleFrame, ms: number): number {
  let rounds = 0;
  const t0 = nowMs();
  let t = t0;
  while (t - t0 < ms) {
    for (let k = 0; k < 64; k++) {
      const decoded = decodeFrame(encodeFrame(frame, meta(rounds)));
      sink += decoded.frame.v[decoded.frame.v.length - 1]!;
      rounds++;
    }
    t = nowMs();
  }
  return (rounds * 1000) / (t - t0);
}

/** Copies per second of the frame's encoded bytes over `ms` milliseconds. */
function timeCopy(frame: SampleFrame, ms: number): number {
  const bytes = encodeFrame(frame, meta(0));
  let rounds = 0;
  const t0 = nowMs();
  let t = t0;
  while (t - t0 < ms) {
    for (let k = 0; k < 64; k++) {
      const copy = bytes.slice();
      sink += copy[copy.length - 1]!;
      rounds++;
    }
    t = nowMs();
  }
  return (rounds * 1000) / (t - t0);
}
