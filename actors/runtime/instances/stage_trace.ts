/**
 * A trace of where a feed frame's time goes inside a host, stage by stage: NATS delivery (from
 * the producer's send, its envelope `ts`, to the host's callback), the edge (decode, checks, the
 * journal record's encoding), admission (mailbox, duplicate and bound checks, up to the pump),
 * the journal append, the kernel, the machine, the outputs' encoding and their publish. A host
 * given one (HostOptions.stageTrace) marks each stage as a frame passes; a host without one pays
 * a property load and a test per stage. `bench latency --trace-stages` turns it on and prints each
 * stage's p50 and p99.
 *
 * Only frames whose whole trip inside the host is synchronous are traced (a file or memory
 * journal; one instance per frame): a frame whose append waits on a promise, or that goes to
 * several instances, is left out, since its stages would interleave with other frames'. The NATS
 * stage compares the host's wall clock with the producer's, so it means something only when both
 * run on one machine and the producer stamps `ts` as it sends (the bench injector does).
 */

/** The stages, in the order a frame passes them. */
export const STAGES = [
  "nats",
  "edge",
  "admission",
  "journal",
  "kernel",
  "machine",
  "encoding",
  "publish",
] as const;

/** A stage's name. */
export type Stage = typeof STAGES[number];

/** A stage's index in STAGES, for `mark`. */
export const STAGE = {
  nats: 0,
  edge: 1,
  admission: 2,
  journal: 3,
  kernel: 4,
  machine: 5,
  encoding: 6,
  publish: 7,
} as const satisfies Record<Stage, number>;

/** A stage's percentiles over the frames traced, in microseconds. */
export interface StageFigures {
  stage: Stage | "host";
  p50_us: number;
  p99_us: number;
  mean_us: number;
}

/** Frames a trace keeps at most (a bound on its memory: 8 stages x 8 bytes each). */
export const STAGE_TRACE_FRAMES_MAX = 1 << 20;

/** Options of a StageTrace. */
export interface StageTraceOptions {
  /** Frames kept at most (default 100,000); those past it are not kept. */
  framesMax?: number;
  /** Which channels' frames are traced (default: all). */
  channels?: (channel: string) => boolean;
}

/** Durations of each stage for the frames traced, in a fixed buffer. */
export class StageTrace {
  readonly #rows: Float64Array;
  readonly #framesMax: number;
  readonly #channels: ((channel: string) => boolean) | undefined;
  #frames = 0;
  /** The frame being traced: its row's start, and the time of its last mark (ms). */
  #open = false;
  #last = 0;
  #arrivedUs = 0;
  readonly #current = new Float64Array(STAGES.length);

  constructor(options: StageTraceOptions = {}) {
    const framesMax = options.framesMax ?? 100_000;
    if (!(Number.isInteger(framesMax) && framesMax >= 1 && framesMax <= STAGE_TRACE_FRAMES_MAX)) {
      throw new RangeError(
        `StageTrace framesMax must be an integer in [1, ${STAGE_TRACE_FRAMES_MAX}], got ` +
          `${framesMax}`,
      );
    }
    this.#framesMax = framesMax;
    this.#channels = options.channels;
    this.#rows = new Float64Array(framesMax * STAGES.length);
  }

  /** Frames traced so far. */
  get frames(): number {
    return this.#frames;
  }

  /** Starts a frame that arrived at `arrivedUs` (this host's wall clock, µs since the epoch). */
  begin(arrivedUs: number): void {
    this.#current.fill(0);
    this.#arrivedUs = arrivedUs;
    this.#last = performance.now();
    this.#open = true;
  }

  /**
   * Says which channel the frame being traced is of and when it was sent (the producer's wall
   * clock, µs): its NATS stage. A channel the trace leaves out drops the frame.
   */
  sent(channel: string, sentUs: number): void {
    if (this.#channels !== undefined && !this.#channels(channel)) {
      this.#open = false;
      return;
    }
    this.#current[STAGE.nats] = Math.max(0, this.#arrivedUs - sentUs);
  }

  /** Ends stage `stage` of the frame being traced: the time since the previous mark is its. */
  mark(stage: number): void {
    if (!this.#open) return;
    const now = performance.now();
    this.#current[stage] = this.#current[stage]! + (now - this.#last) * 1000;
    this.#last = now;
  }

  /** Drops the frame being traced (its trip is not synchronous, or it has several targets). */
  drop(): void {
    this.#open = false;
  }

  /** Keeps the frame being traced, once all its stages are marked. */
  end(): void {
    if (!this.#open) return;
    this.#open = false;
    if (this.#frames >= this.#framesMax) return;
    this.#rows.set(this.#current, this.#frames * STAGES.length);
    this.#frames++;
  }

  /** Forgets the frames traced (a warm-up's). */
  clear(): void {
    this.#frames = 0;
    this.#open = false;
  }

  /** Each stage's p50, p99 and mean, then the host's whole share (every stage but NATS). */
  figures(): StageFigures[] {
    const n = this.#frames, width = STAGES.length;
    const column = new Float64Array(n);
    const out: StageFigures[] = [];
    const of = (stage: StageFigures["stage"]) => {
      const sorted = column.slice().sort();
      let sum = 0;
      for (let i = 0; i < n; i++) sum += column[i]!;
      out.push({
        stage,
        p50_us: quantile(sorted, 0.5),
        p99_us: quantile(sorted, 0.99),
        mean_us: n > 0 ? sum / n : NaN,
      });
    };
    for (let s = 0; s < width; s++) {
      for (let i = 0; i < n; i++) column[i] = this.#rows[i * width + s]!;
      of(STAGES[s]!);
    }
    for (let i = 0; i < n; i++) {
      let sum = 0;
      for (let s = 1; s < width; s++) sum += this.#rows[i * width + s]!;
      column[i] = sum;
    }
    of("host");
    return out;
  }
}

/** The `q` quantile of sorted values (nearest rank); NaN for none. */
function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
