/**
 * The host's clock ticks: about every second, a `tick` input journaled and applied for each
 * instance of a kind that acts on time (its definition has `tickEvent`: the bars kind closes a quiet
 * channel's bar). A tick is an input like any other, so replay folds the same ticks and gets the
 * same bars. Its time is the host's clock (`now`), its timer the host's (`HostTimers`), so the
 * simulator's virtual time drives it too. An instance with inputs waiting gets no tick: it is
 * busy, the next tick will do, and a tick must never fill a mailbox.
 */
import { encodeEnvelope, sysSubject } from "../../protocol/mod.ts";
import type { HostTimers } from "./host_timers.ts";
import { encodeInputRecord, type InputRecord } from "./input_record.ts";
import type { Pending, Slot } from "./_slot.ts";

/** Milliseconds between ticks by default. */
export const TICK_EVERY_MS = 1000;

/** Options of a Ticker. */
export interface TickerOptions {
  hostId: string;
  timers: HostTimers;
  /** The host's clock, ms since the epoch. */
  now: () => number;
  /** The host's instances. */
  slots: () => Iterable<Slot>;
  /** Journals and applies an input to an instance (the host's mailbox). */
  enqueue: (slot: Slot, item: Pending) => void;
  everyMs?: number;
}

const TICK_SUBJECT = sysSubject("tick");

/** Ticks a host's time-driven instances. */
export class Ticker {
  readonly #o: TickerOptions;
  #timer: unknown;
  #running = false;

  constructor(options: TickerOptions) {
    this.#o = options;
  }

  /** Starts ticking (the first tick one period from now). */
  start(): void {
    this.#running = true;
    const every = this.#o.everyMs ?? TICK_EVERY_MS;
    const loop = () => {
      this.tick();
      if (this.#running) this.#timer = this.#o.timers.setTimeout(loop, every);
    };
    this.#timer = this.#o.timers.setTimeout(loop, every);
  }

  /** Stops ticking. */
  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) this.#o.timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** One tick now, to every running, idle instance of a time-driven kind; returns how many. */
  tick(): number {
    const ts = Math.round(this.#o.now() * 1000);
    let record: InputRecord | undefined, bytes: Uint8Array | undefined, n = 0;
    for (const slot of this.#o.slots()) {
      if (!slot.def.tickEvent || slot.status !== "running" || !slot.inst) continue;
      if (slot.mailbox.length > slot.head) continue;
      if (!record) {
        const id = `${this.#o.hostId}:tick:${ts}`;
        const payload = encodeEnvelope({ id, type: "tick", src: this.#o.hostId, ts, body: null });
        record = { kind: "tick", srcPos: 0, subject: TICK_SUBJECT, payload };
        bytes = encodeInputRecord(record);
      }
      const arrivedMs = performance.now();
      this.#o.enqueue(slot, { record, bytes: bytes!, decoded: undefined, arrivedMs });
      n++;
    }
    return n;
  }
}
