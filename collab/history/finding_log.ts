/**
 * The findings of every channel since the collab server started, bounded: what a history answer
 * lists beside the samples of its range. Findings are few (an incident makes one event), so they
 * are kept in memory as they pass on the bus, at most `findings_max` (the oldest go first); what
 * came before the server started, or was evicted, is not known, and an answer says from when its
 * findings are known (`since_us`), so that a page never shows "no findings" for a time it cannot
 * know about.
 */
import {
  type Bus,
  type BusSubscription,
  findingKindOf,
  findingKinds,
  type HistoryFinding,
} from "../../protocol/mod.ts";
import { findingsOf, findingSourcePatterns } from "../findings/mod.ts";

/**
 * Whether findings of `kind` belong to one channel (and so to its history): the declared kinds
 * whose findings name a `channel`, not a group or a pair.
 */
function isOfOneChannel(kind: string): boolean {
  const spec = findingKindOf(kind);
  return spec !== undefined && (spec.channelField ?? "channel") === "channel";
}

/** A finding kept, with its channel. */
interface Kept extends HistoryFinding {
  channel: string;
}

/** Options of a FindingLog. */
export interface FindingLogOptions {
  /** Findings kept at most: 65,536. */
  findings_max?: number;
  /** Microseconds since the epoch. */
  nowUs(): number;
}

/** A bounded log of the channels' findings, fed from the bus. */
export class FindingLog {
  readonly findings_max: number;
  #nowUs: () => number;
  #kept: (Kept | undefined)[];
  #head = 0;
  #size = 0;
  #startedUs: number;
  #subs: BusSubscription[] = [];

  constructor(options: FindingLogOptions) {
    this.findings_max = options.findings_max ?? 65_536;
    if (!Number.isSafeInteger(this.findings_max) || this.findings_max < 1) {
      throw new RangeError(
        `FindingLog findings_max must be a positive integer, got ${this.findings_max}`,
      );
    }
    this.#nowUs = options.nowUs;
    this.#kept = new Array(this.findings_max);
    this.#startedUs = options.nowUs();
  }

  /** Starts keeping the findings published on `bus`. */
  follow(bus: Bus): this {
    const kinds = findingKinds().map((k) => k.type).filter(isOfOneChannel);
    for (const subject of findingSourcePatterns(kinds)) {
      this.#subs.push(bus.subscribe(subject, (m) => this.add(m.subject, m.data)));
    }
    return this;
  }

  /** Keeps the findings of one message (none for data, or for what cannot be decoded). */
  add(subject: string, data: Uint8Array): void {
    for (const f of findingsOf(subject, data, this.#nowUs())) {
      if (!isOfOneChannel(f.kind)) continue;
      const kept: Kept = {
        channel: f.channel,
        kind: f.kind,
        ts_us: f.ts_us,
        what: f.what,
        severity: f.severity,
      };
      if (this.#size === this.findings_max) {
        this.#startedUs = Math.max(this.#startedUs, this.#kept[this.#head]!.ts_us);
        this.#head = (this.#head + 1) % this.findings_max;
        this.#size--;
      }
      this.#kept[(this.#head + this.#size) % this.findings_max] = kept;
      this.#size++;
    }
  }

  /** From when the log knows the findings (µs): its start, or the newest it evicted. */
  get since_us(): number {
    return this.#startedUs;
  }

  /** The findings of `channel` with t0 <= ts < t1, oldest first, at most `max` (the newest). */
  range(channel: string, t0_us: number, t1_us: number, max: number): HistoryFinding[] {
    const out: HistoryFinding[] = [];
    for (let i = 0; i < this.#size; i++) {
      const f = this.#kept[(this.#head + i) % this.findings_max]!;
      if (f.channel !== channel || f.ts_us < t0_us || f.ts_us >= t1_us) continue;
      out.push({ kind: f.kind, ts_us: f.ts_us, what: f.what, severity: f.severity });
    }
    out.sort((a, b) => a.ts_us - b.ts_us);
    return out.length > max ? out.slice(out.length - max) : out;
  }

  /** Stops following the bus. */
  close(): void {
    for (const s of this.#subs) s.unsubscribe();
    this.#subs = [];
  }
}
