/**
 * The `bars` actor: per channel, OHLCV bars per bar size (1s, 1m, 5m, 1h, 1d by default), the last
 * `history_bars` closed bars of each in typed-array rings (what scans read), and each closed bar
 * published as a `bar` event on `troupe.out.bars.<channel>`. A bar closes on data or on a clock
 * tick; see kernel.ts.
 *
 * Volume: a channel's bars count their samples (`count`, tick volume) and sum their values (`sum`);
 * a feed that sends traded sizes on `<SYM>_vol` gets bars of it whose `sum` is the traded volume.
 * Bars seeded from CSV history (`history_dir`) hold the file's volume as both `count` and `sum`.
 */
import type { FrameEmitsAt, HeldBytes } from "../../protocol/mod.ts";
import type { ActorDefinition } from "../runtime/mod.ts";
import { MACHINERY_BYTES } from "../kind/mod.ts";
import { type BarsConfig, barSizeName, defaultBarsConfig, parseBarsConfig } from "./config.ts";
import {
  barsKernel,
  barsRingBytes,
  type BarsState,
  CLOSED_FIELDS,
  type ClosedBars,
} from "./kernel.ts";
import { describeBars } from "./held_bars.ts";
import { type BarEmitted, type BarsClosedEvent, barsEmits, barsMachine } from "./machine.ts";
import { barsOfSeedBody } from "./bars_seed.ts";

export {
  BAR_SIZES_MAX,
  type BarsConfig,
  barSizeName,
  barSizeUs,
  defaultBarsConfig,
  HISTORY_BARS_MAX,
  parseBarsConfig,
} from "./config.ts";
export {
  barsKernel,
  barsRingBytes,
  type BarsState,
  CLOSED_FIELDS,
  type ClosedBars,
  type SeedBars,
} from "./kernel.ts";
export { type HeldBars, heldCount, heldMark, heldView, readHeld, sizeIndex } from "./held_bars.ts";
export { type CsvLineError, parseBarsCsv, parseCsvTime, type ParsedBarsCsv } from "./bars_csv.ts";
export { barsOfSeedBody, barsSeedBody } from "./bars_seed.ts";
export {
  type BarsHistoryReport,
  seedBarsHistory,
  type SeedHistoryOptions,
  type SeedTarget,
} from "./history_dir.ts";
export { type BarEmitted, type BarsClosedEvent, barsEmits, barsMachine } from "./machine.ts";

/** The machine event of the bars a frame or tick closed, or undefined when none closed. */
export function barsClosedEvent(closed: ClosedBars): BarsClosedEvent | undefined {
  if (closed.count === 0) return undefined;
  const bars: BarsClosedEvent["bars"] = [];
  const d = closed.data;
  for (let k = 0; k < closed.count; k++) {
    const b = k * CLOSED_FIELDS;
    const size = d[b]!, t = d[b + 1]!;
    bars.push({
      ts: t + size,
      bar: barSizeName(size),
      t,
      open: d[b + 2]!,
      high: d[b + 3]!,
      low: d[b + 4]!,
      close: d[b + 5]!,
      count: d[b + 6]!,
      sum: d[b + 7]!,
    });
  }
  return { type: "bars", bars };
}

/**
 * The closed bars of the last tick, done with once its event is made: the next tick's advance may
 * write into their buffer (Kernel.step's `reuse`), so a host's instances share one scratch.
 */
let spentTick: ClosedBars | undefined;

/** The event of the bars a clock tick at `ts` closes. */
function tickEvent(state: BarsState, ts: number): BarsClosedEvent | undefined {
  const closed = barsKernel.advance(state, ts, spentTick);
  spentTick = closed;
  return barsClosedEvent(closed);
}

/**
 * What a clock tick at `ts` closes, as the events the machine would emit for it, when in
 * `at.machineState` it would only emit them (see barsEmits); undefined, the state untouched,
 * elsewhere.
 */
function tickEmits(state: BarsState, ts: number, at: FrameEmitsAt): BarEmitted[] | undefined {
  if (at.machineState !== "live") return undefined;
  const event = tickEvent(state, ts);
  return event === undefined ? [] : barsEmits(at.key, event, at.machineState);
}

/**
 * What a bars instance holds once every ring is full: 500 one-day bars are a year and a half, and
 * snapshots keep them across restarts, so a limit that holds for a channel's life counts them
 * full; and each ring in seven columns, since a host cannot know a new channel will be sampled at
 * most once a second (whose one-second ring holds two: kernel.ts).
 */
export function barsHeldBytes(config: BarsConfig): HeldBytes {
  const ring = barsRingBytes(config.history_bars);
  return { perChannel: MACHINERY_BYTES.bars + config.bar_sizes.length * ring, fixed: 0 };
}

/** The bars actor kind. */
export const barsActor: ActorDefinition<BarsState, BarsConfig, ClosedBars> = {
  kind: "bars",
  version: 1,
  defaultConfig: defaultBarsConfig,
  parseConfig: parseBarsConfig,
  route: (channel) => [channel],
  // Candles and the scans over them are a market's; a host fed service metrics runs bars only
  // where it is asked to, and holds twice the channels for it (configuration.md).
  feeds: "markets",
  heldBytes: barsHeldBytes,
  kernel: barsKernel,
  describeState: describeBars,
  machine: barsMachine,
  frameEvent: (closed) => barsClosedEvent(closed),
  frameEmits: (closed, at) => {
    const event = barsClosedEvent(closed);
    return event === undefined ? undefined : barsEmits(at.key, event, at.machineState);
  },
  tickEvent,
  tickEmits,
  tickDue: (state) => barsKernel.tickDue(state),
  seed: (state, body) => void barsKernel.seed(state, barsOfSeedBody(body)),
};
