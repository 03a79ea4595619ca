/**
 * `troupe bench channel-bytes`: what a channel costs a host's heap, by kind. One process an arm
 * (a fresh heap each): a host of one kind (stats, anomaly, collapse, bars), of the four a channel
 * has by default, and of every default kind (coherence too, one instance a group of channels), fed
 * `--channels` channels of the remote-write bench's series and names, `--samples` samples each,
 * one a frame `--step-s` apart (bench/_channel_bytes_host.ts). The figure is the heap and array
 * buffers a channel added, after forced collections; the baseline is what its kernel states save,
 * the numbers the kernels hold (the floor). What the process's resident memory adds over its heap
 * at scale is the remote-write bench's business, not measured here.
 */
import { ACTOR_KINDS } from "../actors/mod.ts";
import { type BenchContext, type Benchmark, type BenchRow, row } from "./_bench.ts";
import { ChildScript } from "./_child_script.ts";
import { type OptionTable, readOptions } from "./_option_table.ts";
import { tempDir } from "./_temp_dir.ts";

const NAME = "channel-bytes";
/** The kinds a channel has by default (`coherence` runs per group of channels). */
const PER_CHANNEL = ["stats", "anomaly", "collapse", "bars"] as const;

const OPTIONS = {
  channels: {
    help: "channels a host is fed",
    default: 1000,
    number: { min: 1, max: 100_000, integer: true },
  },
  samples: {
    help: "samples fed to each channel, one a frame (260 fill its windows of input ids)",
    default: 260,
    number: { min: 0, max: 100_000, integer: true },
  },
  "step-s": {
    help: "seconds between a channel's samples (as `bench remote-write --detect-interval-s`)",
    default: 15,
    number: { min: 1, max: 86_400, integer: true },
  },
} satisfies OptionTable;

/** What one arm's host measured. */
interface ArmBytes {
  /** Heap and array buffers a channel added. */
  held: number;
  /** Its instances' kernel states' saved bytes. */
  saved: number;
}

async function arm(
  kinds: readonly string[],
  channels: number,
  samples: number,
  stepS: number,
  ctx: BenchContext,
): Promise<ArmBytes> {
  const dir = tempDir("troupe-channel-bytes-");
  try {
    const child = ChildScript.start(
      "bench/_channel_bytes_host.ts",
      [kinds.join(","), String(channels), String(samples), dir.path, String(stepS)],
      ctx.log,
    );
    const m = await child.next(30 * 60_000);
    await child.wait();
    const { before, after, saved, admitted } = m as Record<string, number>;
    if (admitted !== channels) {
      throw new Error(`${NAME}: the host admitted ${admitted} of ${channels} channels`);
    }
    return { held: (after! - before!) / channels, saved: saved! / channels };
  } finally {
    dir.remove();
  }
}

export const benchmark: Benchmark = {
  name: NAME,
  summary: "a channel's heap in a host by kind, against the bytes its kernel states save",
  options: OPTIONS,
  async run(args: string[], ctx: BenchContext): Promise<BenchRow[]> {
    const { channels, samples, "step-s": stepS } = readOptions(args, OPTIONS);
    const arms: Array<[string, readonly string[]]> = [
      ...PER_CHANNEL.map((k): [string, readonly string[]] => [k, [k]]),
      ["per_channel_kinds", PER_CHANNEL],
      ["default_kinds", Object.keys(ACTOR_KINDS)],
    ];
    const rows: BenchRow[] = [];
    for (const [name, kinds] of arms) {
      const bytes = await arm(kinds, channels, samples, stepS, ctx);
      ctx.log(
        `${NAME}: ${kinds.join(", ")}: ${Math.round(bytes.held)} bytes a channel in the heap, ` +
          `${Math.round(bytes.saved)} saved (${channels} channels, ${samples} samples each, ` +
          `${stepS} s apart)`,
      );
      rows.push(row({
        bench: NAME,
        metric: `${name}_bytes_per_channel`,
        unit: "bytes",
        troupe: bytes.held,
        baseline: bytes.saved,
        better: "lower",
      }));
    }
    return rows;
  },
};
