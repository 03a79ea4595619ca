/**
 * `troupe bench kernel-bytes`: what a channel's kernel states hold in memory, by kind, against
 * what their snapshots hold. `--channels` channels of the kinds a channel has by default (stats,
 * anomaly, collapse, bars), each fed `--samples` samples, one a frame, 15 s apart, of the
 * remote-write bench's series (a slow wave, each channel at its own phase), every step handed the
 * last result of its kind to reuse as the runtime does (actor_instance.ts). Then the typed arrays
 * the states reach, each buffer counted once (one the states share, such as a scratch, is divided
 * among them), per channel. The baseline is the bytes `save` gives, a snapshot's kernel part: what
 * a state laid out as it saves would hold. The JS objects around the arrays are not counted (a
 * heap snapshot's business); nothing is timed.
 */
import { ACTOR_KINDS } from "../actors/mod.ts";
import type { Kernel, SampleFrame } from "../protocol/mod.ts";
import { type BenchContext, type Benchmark, type BenchRow, row } from "./_bench.ts";
import { type OptionTable, readOptions } from "./_option_table.ts";
import { frameSample } from "./_channel_bytes_feed.ts";

const NAME = "kernel-bytes";
/** The kinds each channel has by default (`coherence` runs per group of channels). */
const KINDS = ["stats", "anomaly", "collapse", "bars"] as const;

const OPTIONS = {
  channels: {
    help: "channels measured together",
    default: 1000,
    number: { min: 1, max: 100_000, integer: true },
  },
  samples: {
    help: "samples fed to each channel, one a frame, 15 s apart (240: an hour)",
    default: 240,
    number: { min: 0, max: 100_000, integer: true },
  },
} satisfies OptionTable;

/** Channel `c`'s sample `i`, one a frame, as `bench remote-write` sends series `c`. */
function frameOf(c: number, i: number): SampleFrame {
  const { t, v } = frameSample(c, i);
  return { channel: `c${c}`, seq0: i, t: new Float64Array([t]), v: new Float64Array([v]) };
}

/** Adds the buffers of the typed arrays reachable from `value` to `buffers`. */
function collectBuffers(value: unknown, buffers: Set<ArrayBufferLike>, seen: Set<object>): void {
  if (value === null || typeof value !== "object" || seen.has(value)) return;
  seen.add(value);
  if (ArrayBuffer.isView(value)) {
    buffers.add(value.buffer);
    return;
  }
  for (const inner of Object.values(value)) collectBuffers(inner, buffers, seen);
}

/** Bytes per channel: held in memory by the states' arrays, and saved. */
export interface KindBytes {
  held: number;
  saved: number;
}

/** The states of `kind` for `channels` channels after `samples` samples, and their bytes. */
export function kindBytes(kind: string, channels: number, samples: number): KindBytes {
  const def = ACTOR_KINDS[kind]!;
  const kernel = def.kernel as Kernel<unknown, unknown, unknown>;
  const states = Array.from(
    { length: channels },
    (_, c) => kernel.init(def.defaultConfig, `c${c}`),
  );
  let spent: unknown;
  for (let i = 0; i < samples; i++) {
    for (let c = 0; c < channels; c++) spent = kernel.step(states[c], frameOf(c, i), spent);
  }
  const buffers = new Set<ArrayBufferLike>();
  collectBuffers(states, buffers, new Set());
  let held = 0, saved = 0;
  for (const buffer of buffers) held += buffer.byteLength;
  for (const state of states) saved += kernel.save(state).byteLength;
  return { held: held / channels, saved: saved / channels };
}

export const benchmark: Benchmark = {
  name: NAME,
  summary: "a channel's kernel states' bytes in memory by kind, against the bytes they save",
  options: OPTIONS,
  run(args: string[], ctx: BenchContext): Promise<BenchRow[]> {
    const { channels, samples } = readOptions(args, OPTIONS);
    const rows: BenchRow[] = [];
    let held = 0, saved = 0;
    for (const kind of KINDS) {
      const bytes = kindBytes(kind, channels, samples);
      held += bytes.held;
      saved += bytes.saved;
      ctx.log(
        `${NAME}: ${kind}: ${Math.round(bytes.held)} bytes a channel in memory, ` +
          `${Math.round(bytes.saved)} saved (${channels} channels, ${samples} samples each)`,
      );
      rows.push(row({
        bench: NAME,
        metric: `${kind}_bytes_per_channel`,
        unit: "bytes",
        troupe: bytes.held,
        baseline: bytes.saved,
        better: "lower",
      }));
    }
    rows.push(row({
      bench: NAME,
      metric: "kernel_bytes_per_channel",
      unit: "bytes",
      troupe: held,
      baseline: saved,
      better: "lower",
    }));
    return Promise.resolve(rows);
  },
};
