/**
 * The census the page budget is counted over: which channels the cluster watches and how many
 * samples of them a day, read from the outputs of the actor kinds whose findings state a tail
 * probability (`troupe.out.<kind>.<channel>`: one columns frame per frame scored, its times one per
 * sample), so it is what those detectors actually score, on every host. Counted over a trailing
 * window of wall time beside the live sender (replay never sends, so nothing replayed depends on
 * it).
 */
import {
  type Bus,
  type BusSubscription,
  decodeColumns,
  findingActorOf,
  findingKinds,
  outPattern,
} from "../../protocol/mod.ts";
import { type Census, DAY_S } from "./page_budget.ts";

/** The trailing window counted, ms: ten minutes, many scrapes of a slow target (1 min) long. */
export const CENSUS_WINDOW_MS = 600_000;
/** One slot of the window, ms. */
const SLOT_MS = 10_000;
const SLOTS = CENSUS_WINDOW_MS / SLOT_MS;
/** Channels counted, at most (past it the rate is still counted, the channels capped). */
export const CENSUS_CHANNELS_MAX = 1_000_000;

/** Counts the channels and samples the anomaly detectors score. */
export class SampleCensus {
  readonly #now: () => number;
  readonly #slots = new Float64Array(SLOTS);
  readonly #lastSeen = new Map<string, number>();
  #slot = -1;
  #startedMs: number;
  #subs: BusSubscription[] = [];

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
    this.#startedMs = this.#now();
  }

  /** Counts the frames `bus` carries from the kinds whose findings state a tail, until stopped. */
  watch(bus: Bus): this {
    const actors = new Set<string>();
    for (const k of findingKinds()) {
      const actor = k.tail === undefined ? undefined : findingActorOf(k.type);
      if (actor !== undefined) actors.add(actor);
    }
    for (const actor of actors) {
      this.#subs.push(bus.subscribe(outPattern(actor), (m) => {
        let frame;
        try {
          frame = decodeColumns(m.data).frame;
        } catch {
          return; // an event, not a frame of scores
        }
        this.add(frame.channel, frame.t.length);
      }));
    }
    return this;
  }

  /** `samples` samples of `channel` scored now. */
  add(channel: string, samples: number): void {
    const now = this.#now();
    this.#advance(now);
    const i = this.#slot % SLOTS;
    this.#slots[i] = this.#slots[i]! + samples;
    if (this.#lastSeen.size < CENSUS_CHANNELS_MAX || this.#lastSeen.has(channel)) {
      this.#lastSeen.delete(channel);
      this.#lastSeen.set(channel, now);
    }
  }

  /** The census now: undefined before any sample was counted. */
  census(): Census | undefined {
    const now = this.#now();
    this.#advance(now);
    for (const [channel, at] of this.#lastSeen) {
      if (at >= now - CENSUS_WINDOW_MS) break; // oldest first: the rest are newer
      this.#lastSeen.delete(channel);
    }
    let samples = 0;
    for (const x of this.#slots) samples += x;
    if (samples === 0 || this.#lastSeen.size === 0) return undefined;
    const coveredS = Math.max(SLOT_MS, Math.min(CENSUS_WINDOW_MS, now - this.#startedMs)) / 1000;
    return { channels: this.#lastSeen.size, samples_per_day: (samples / coveredS) * DAY_S };
  }

  stop(): void {
    for (const sub of this.#subs) sub.unsubscribe();
  }

  #advance(now: number): void {
    const slot = Math.floor(now / SLOT_MS);
    if (this.#slot < 0) this.#slot = slot;
    for (let s = this.#slot + 1; s <= slot && s <= this.#slot + SLOTS; s++) {
      this.#slots[s % SLOTS] = 0;
    }
    if (slot > this.#slot) this.#slot = slot;
  }
}
