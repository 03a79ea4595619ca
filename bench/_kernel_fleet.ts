/**
 * A kernel at a fleet's shape: many channels, each stepped one sample at a time in turn, each step
 * handed the result before it (of another channel) to reuse, as a host fed by remote write steps
 * them (actor_instance.ts). A channel's state is then cold at every step, where a kernel's own
 * benchmark, one channel in frames of hundreds, keeps it in cache. The figure beside it is the same
 * work over a few channels at a time (`CACHED_CHANNELS`, fresh ones each time until as many
 * samples are stepped): the same young channels and samples, their states in cache.
 */
import type { Kernel, SampleFrame } from "../protocol/mod.ts";
import { type BenchContext, type BenchRow, row } from "./_bench.ts";
import { cpuMs } from "./_cpu_ms.ts";
import type { OptionTable } from "./_option_table.ts";

/** The option of a kernel's benchmark that times it at a fleet's shape. */
export const FLEET_OPTIONS = {
  channels: {
    help: "channels of the fleet's shape, each stepped a sample at a time in turn (0: skip it)",
    default: 20_000,
    number: { min: 0, integer: true },
  },
} satisfies OptionTable;

/** A fleet's rounds: untimed first (its channels' first samples), then timed (a dozen more). */
const FLEET_WARM_ROUNDS = 3;
const FLEET_ROUNDS = 12;

/** What a kernel's benchmark asks its fleet row with. */
export interface KernelFleetRowOptions<C> {
  /** The benchmark's name, and a name of the settings `config` holds (for its log line). */
  bench: string;
  settings: string;
  config: C;
  channels: number;
  /** Channel `c`'s `r`th sample is `values[(c * 7919 + r) % length]`. */
  values: Float64Array;
  repeat: number;
  ctx: BenchContext;
}

/**
 * The row `fleet_us_per_sample` of a kernel's benchmark: `kernel` at a fleet's shape, each channel
 * a stretch of the series, a sample a minute.
 */
export function kernelFleetRow<S, C, R>(
  kernel: Kernel<S, C, R>,
  o: KernelFleetRowOptions<C>,
): BenchRow {
  const values = o.values;
  const fleet = timeKernelFleet(kernel, {
    config: o.config,
    channels: o.channels,
    warmRounds: FLEET_WARM_ROUNDS,
    rounds: FLEET_ROUNDS,
    value: (c, r) => values[(c * 7919 + r) % values.length]!,
    intervalS: 60,
    repeat: o.repeat,
  });
  o.ctx.log(
    `${o.bench}: ${o.channels} channels stepped in turn (${o.settings}, ${FLEET_ROUNDS} samples ` +
      `each after ${FLEET_WARM_ROUNDS}): ${fleet.fleetUs.toFixed(2)} µs CPU a sample; ` +
      `${CACHED_CHANNELS} at a time (their states in cache) ${fleet.cachedUs.toFixed(2)} µs`,
  );
  return row({
    bench: o.bench,
    metric: "fleet_us_per_sample",
    unit: "µs",
    troupe: fleet.fleetUs,
    baseline: fleet.cachedUs,
    better: "lower",
    reference: `${CACHED_CHANNELS} channels in turn`,
  });
}

/** What a fleet timing is run with. */
export interface KernelFleetOptions<C> {
  /** The kernel's configuration, every channel's. */
  config: C;
  /** Channels stepped in turn. */
  channels: number;
  /** Untimed rounds first (every channel a sample each), then the timed ones. */
  warmRounds: number;
  rounds: number;
  /** The value of channel `c`'s `r`th sample. */
  value(c: number, r: number): number;
  /** Seconds between a channel's samples. */
  intervalS: number;
  /** Timed runs, each from fresh states; the fastest counts. */
  repeat: number;
}

/** CPU microseconds a sample: the fleet's, and the same work's with its states in cache. */
export interface KernelFleetTiming {
  fleetUs: number;
  cachedUs: number;
}

/** Channels stepped in turn whose states stay in cache (a few hundred KB of them at most). */
export const CACHED_CHANNELS = 16;

const T0_US = Date.UTC(2024, 2, 1) * 1000;

/**
 * Times `kernel` at a fleet's shape and over few channels at a time, in this process's CPU time:
 * the fastest of `repeat` runs of each (a run at this shape is short, and one collection more or
 * less in it moves its figure).
 */
export function timeKernelFleet<S, C, R>(
  kernel: Kernel<S, C, R>,
  o: KernelFleetOptions<C>,
): KernelFleetTiming {
  const run = new FleetRun(kernel, o);
  let fleetUs = Infinity, cachedUs = Infinity;
  for (let i = 0; i < o.repeat; i++) {
    fleetUs = Math.min(fleetUs, run.timed(0, o.channels));
    const small = Math.min(CACHED_CHANNELS, o.channels);
    let us = 0, groups = 0;
    for (let first = 0; first < o.channels; first += small, groups++) us += run.timed(first, small);
    cachedUs = Math.min(cachedUs, us / groups);
  }
  return { fleetUs, cachedUs };
}

/** Steps channels' one-sample frames in turn. */
class FleetRun<S, C, R> {
  readonly #kernel: Kernel<S, C, R>;
  readonly #o: KernelFleetOptions<C>;
  readonly #t = new Float64Array(1);
  readonly #v = new Float64Array(1);
  readonly #frame: SampleFrame = { channel: "fleet", seq0: 0, t: this.#t, v: this.#v };
  #spent: R | undefined;

  constructor(kernel: Kernel<S, C, R>, o: KernelFleetOptions<C>) {
    this.#kernel = kernel;
    this.#o = o;
  }

  /**
   * Fresh states for channels `first` to `first + count - 1`, stepped through the warm rounds,
   * then the timed ones: CPU µs a sample of those.
   */
  timed(first: number, count: number): number {
    const o = this.#o;
    const states = Array.from(
      { length: count },
      (_, c) => this.#kernel.init(o.config, `f${c}`),
    );
    for (let r = 0; r < o.warmRounds; r++) this.#round(states, first, r);
    const c0 = cpuMs();
    for (let r = o.warmRounds; r < o.warmRounds + o.rounds; r++) this.#round(states, first, r);
    return (cpuMs() - c0) * 1000 / (count * o.rounds);
  }

  #round(states: S[], first: number, r: number): void {
    const o = this.#o, kernel = this.#kernel, frame = this.#frame;
    this.#t[0] = T0_US + r * o.intervalS * 1e6;
    frame.seq0 = r;
    for (let c = 0; c < states.length; c++) {
      this.#v[0] = o.value(first + c, r);
      this.#spent = kernel.step(states[c]!, frame, this.#spent);
    }
  }
}
