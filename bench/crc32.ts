/**
 * `troupe bench crc32`: the checksum of journal records, indexes and snapshots
 * (actors/runtime/journal/crc32.ts) over inputs of the sizes they come in: a journal record of a
 * fleet's host is 60-200 bytes, a snapshot a few KB. The figure is checksums per second of
 * troupe's `crc32` at each size, each over its own part of a 16 MiB buffer (as records lie in a
 * segment); the baseline is the runtime's zlib (`node:zlib` `crc32`, on a view of the same bytes),
 * which troupe's calls past `SHORT_BYTES`. Each figure is the best of several short timed runs,
 * troupe's and zlib's interleaved.
 */
import zlib from "node:zlib";
import { crc32 } from "../actors/runtime/journal/mod.ts";
import { Prng } from "../sim/mod.ts";
import { type BenchContext, type Benchmark, type BenchRow, nowMs, row } from "./_bench.ts";
import { readOptions } from "./_option_table.ts";
import { timedRunsOptions } from "./_frame_runs_options.ts";
import { human } from "./_human.ts";

const NAME = "crc32";

/** The sizes measured: short records, long records, an index row's worth, snapshots. */
const SIZES = [60, 120, 250, 1000, 4096] as const;

const OPTIONS = timedRunsOptions(150);

const zlibCrc32 = (zlib as unknown as { crc32: (data: Uint8Array, value?: number) => number })
  .crc32;

export const benchmark: Benchmark = {
  name: NAME,
  summary: "CRC-32 checksums/s at record and snapshot sizes, against the runtime's zlib.crc32",
  options: OPTIONS,
  run(args: string[], ctx: BenchContext): Promise<BenchRow[]> {
    const { ms, runs } = readOptions(args, OPTIONS);
    const buf = new Uint8Array(16 << 20);
    const prng = new Prng(5);
    for (let i = 0; i < buf.length; i++) buf[i] = prng.int(256);
    const rows: BenchRow[] = [];
    for (const size of SIZES) {
      let ours = 0, theirs = 0;
      for (let r = 0; r < runs; r++) {
        ours = Math.max(ours, timed(buf, size, ms, (at) => crc32(buf, at, at + size)));
        theirs = Math.max(
          theirs,
          timed(buf, size, ms, (at) => zlibCrc32(buf.subarray(at, at + size)) >>> 0),
        );
      }
      ctx.log(
        `${NAME}: ${size} bytes: troupe ${human(ours)} checksums/s (${
          (1e9 / ours).toFixed(0)
        } ns each), zlib ${human(theirs)} (${(1e9 / theirs).toFixed(0)} ns each)`,
      );
      rows.push(row({
        bench: NAME,
        metric: `checksums_per_s_${size}_bytes`,
        unit: "1/s",
        troupe: ours,
        baseline: theirs,
        better: "higher",
        reference: "node:zlib crc32",
      }));
    }
    return Promise.resolve(rows);
  },
};

/** Written by the timed loops so that their work cannot be optimised away. */
let sink = 0;

/** Checksums per second of `size`-byte pieces of `buf`, one after another, over `ms`. */
function timed(buf: Uint8Array, size: number, ms: number, sum: (at: number) => number): number {
  const last = buf.length - size;
  let done = 0, at = 0;
  const t0 = nowMs();
  let t = t0;
  while (t - t0 < ms) {
    for (let k = 0; k < 256; k++) {
      sink ^= sum(at);
      at += size;
      if (at > last) at = 0;
    }
    done += 256;
    t = nowMs();
  }
  return (done * 1000) / (t - t0);
}
