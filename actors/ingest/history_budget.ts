/**
 * The history samples a receiver may still journal: a bucket that fills at a steady rate up to a
 * burst. Every history sample is one more input for the hosts to apply on top of the live feed,
 * so a fleet's first start (every series new at once) must not hand them days of work; what the
 * bucket holds is shared among a request's new series, each its window or an equal share of what
 * is left, down to the fewest points worth reading, and past that the first series get those
 * fewest and the rest none (they warm up on their live samples). The receiver is the system's
 * door, not an actor: its clock is the process's own.
 */

/** What a request's new series may read: points each, and how many of them (the first). */
export interface HistoryAllotment {
  /** Points each series may read (its whole window, or fewer). */
  each: number;
  /** Series that may read (the first of the request's); the rest get no history. */
  series: number;
}

/** History samples a receiver may journal, refilled over time. */
export class HistoryBudget {
  /** Samples a second the bucket fills by. */
  readonly perS: number;
  /** Samples it holds at most. */
  readonly burst: number;
  readonly #now: () => number;
  #level: number;
  #at: number;

  constructor(perS: number, burst: number, now: () => number = () => performance.now()) {
    this.perS = perS;
    this.burst = burst;
    this.#now = now;
    this.#level = burst;
    this.#at = now();
  }

  /** Samples the bucket holds now. */
  level(): number {
    const t = this.#now();
    this.#level = Math.min(this.burst, this.#level + ((t - this.#at) / 1000) * this.perS);
    this.#at = t;
    return this.#level;
  }

  /**
   * Takes what `n` new series of `points` points each may read, each at least `least` points
   * (or its whole window, when shorter), from what the bucket holds.
   */
  allot(n: number, points: number, least: number): HistoryAllotment {
    const level = this.level();
    if (n <= 0 || points <= 0 || level < 1) return { each: 0, series: 0 };
    const fewest = Math.min(least, points);
    let each = Math.min(points, Math.floor(level / n)), series = n;
    if (each < fewest) {
      each = fewest;
      series = Math.min(n, Math.floor(level / fewest));
    }
    if (series <= 0) return { each: 0, series: 0 };
    this.#level -= each * series;
    return { each, series };
  }

  /**
   * Settles what was taken with what was read: gives back samples not read (a series the API has
   * fewer points of, or none), or takes those read past the allotment (a window's both ends).
   */
  settle(samples: number): void {
    this.#level = Math.min(this.burst, this.#level + samples);
  }
}

/** Interval between two lines saying what the budget cut, ms: at most one a minute. */
const LINE_INTERVAL_MS = 60_000;

/** What one request's history read was cut to. */
export interface BudgetCut {
  shortened: number;
  skipped: number;
  each: number;
}

/**
 * What the budget cut, summed between lines: at a fleet's first start every request cuts, and
 * one line a minute says it all.
 */
export class BudgetCutLog {
  #shortened = 0;
  #skipped = 0;
  #fewest = Infinity;
  #saidAt = -Infinity;

  /** Adds a request's cut; the line to say, when one is due. */
  add(
    cut: BudgetCut,
    settings: { samplesPerS: number; burstSamples: number },
    now: number,
  ): string | undefined {
    if (cut.shortened === 0 && cut.skipped === 0) return undefined;
    this.#shortened += cut.shortened;
    this.#skipped += cut.skipped;
    if (cut.shortened > 0) this.#fewest = Math.min(this.#fewest, cut.each);
    if (now - this.#saidAt < LINE_INTERVAL_MS) return undefined;
    const parts: string[] = [];
    if (this.#shortened > 0) {
      parts.push(
        `${this.#shortened} new series read with fewer points than the window (down to ` +
          `${this.#fewest})`,
      );
    }
    if (this.#skipped > 0) {
      parts.push(`${this.#skipped} given none (they warm up on their live samples)`);
    }
    const line = `troupe: history budget spent (history_samples_per_s ${settings.samplesPerS}, ` +
      `history_burst_samples ${settings.burstSamples}) since the last such line: ` +
      parts.join(", ");
    this.#shortened = this.#skipped = 0;
    this.#fewest = Infinity;
    this.#saidAt = now;
    return line;
  }
}
