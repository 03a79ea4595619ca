/**
 * The host's clock ticks: `tick` inputs, journaled and applied like any input, to the instances of
 * kinds that act on time (their definition has `tickEvent`: the bars kind closes a quiet channel's
 * bar), so replaying the journal folds the same ticks and gets the same bars. Every period (about a
 * second, on the host's `HostTimers`, so the simulator's virtual time drives it too) the ticker
 * looks at each instance:
 *
 * - a kind with `tickDue` gets the tick it waits for, at the event time it names, once the
 *   instance has not changed for the quiet it names on the host's clock. The tick's time is event
 *   time, not the host's: data replayed fast, hours old, is never cut by the host's clock, and a
 *   channel that went quiet has its bar closed a bar and a grace later;
 * - a kind without it gets a tick every period, at the host's time;
 * - an instance with inputs waiting gets none (it is busy; a tick must never fill a mailbox);
 * - an instance whose tick is not due yet, or that waits for none, is passed over on one field
 *   (`ActorInstance.lookAfterMs`, set by the look that found so) until it applies an input.
 *
 * A period's look goes in slices of at most `TICKS_PER_SLICE_MAX` ticks sent (or
 * `LOOKS_PER_SLICE_MAX` instances looked at), each next slice on a zero-delay timer: a tick is
 * journaled and applied as it is sent, and thousands of quiet channels' bars fall due together
 * (a scrape's worth of channels), so a whole look in one go would hold the host's thread while
 * feed input waits behind it.
 *
 * What a slice sent is told on the bus in one message (`troupe.tick.<host>`,
 * protocol/tick_notice.ts): each tick, its instance, and the input it came after, so that a
 * recording holds the ticks and its replay applies them where the host did.
 */
import {
  type Bus,
  encodeEnvelope,
  encodeInputRecord,
  encodeTickNotices,
  type InputRecord,
  sysSubject,
  type TickNotice,
  tickSubject,
} from "../../../protocol/mod.ts";
import { errorLine, type HostTimers, type Pending, type Slot } from "../instances/mod.ts";

/** Milliseconds between looks when a host ticks (`troupe run`, `troupe up`). */
export const TICK_EVERY_MS = 1000;

/** Ticks a slice of a period's look sends at most. */
export const TICKS_PER_SLICE_MAX = 200;

/** Instances a slice of a period's look looks at at most. */
export const LOOKS_PER_SLICE_MAX = 5000;

/** Options of a Ticker. */
export interface TickerOptions {
  hostId: string;
  /** Where the ticks sent are told (none: not told). */
  bus?: Bus;
  timers: HostTimers;
  /** The host's clock, ms since the epoch. */
  now: () => number;
  /** The host's instances. */
  slots: () => Iterable<Slot>;
  /** Journals and applies an input to an instance (the host's mailbox). */
  enqueue: (slot: Slot, item: Pending) => void;
  /** Milliseconds between ticks (default TICK_EVERY_MS); 0: none. */
  everyMs?: number;
  /**
   * Where a look at an instance that threw is said (a kind's `tickDue` on a state it cannot
   * read): that instance gets no tick this period, the others do, and ticking goes on (default:
   * stderr).
   */
  log?: (line: string) => void;
}

/** The subject of a tick input's journal record. */
const TICK_SUBJECT = sysSubject("tick");

/** The input of a tick whose envelope is `payload`, as an instance's mailbox takes it. */
export function tickPending(payload: Uint8Array): Pending {
  const record: InputRecord = { kind: "tick", srcPos: 0, subject: TICK_SUBJECT, payload };
  return {
    record,
    bytes: encodeInputRecord(record),
    decoded: undefined,
    arrivedMs: performance.now(),
  };
}

/**
 * The tick an instance waits for (`ts` NaN: none), since when (host ms), and the state it was
 * read from: the instance and its position then.
 */
interface Waiting {
  ts: number;
  quietMs: number;
  sinceMs: number;
  inst: object;
  pos: number;
}

/**
 * The host time before which an instance waiting since `sinceMs` for the tick at `ts` (NaN: none)
 * after `quietMs` of quiet need not be looked at while its position stays: a millisecond early, so
 * that the look itself, not this sum's rounding, decides the tick's moment.
 */
function lookAfter(ts: number, sinceMs: number, quietMs: number): number {
  return ts !== ts ? Infinity : sinceMs + quietMs - 1;
}

/** Ticks a host's time-driven instances. */
export class Ticker {
  readonly #options: TickerOptions;
  /** Per instance, the tick it waits for and since when (host ms) it has waited for it. */
  readonly #waiting = new WeakMap<Slot, Waiting>();
  #timer: unknown;
  #running = false;
  /** The ticks sent since they were last told. */
  #sent: TickNotice[] = [];

  constructor(options: TickerOptions) {
    this.#options = options;
  }

  /**
   * Starts ticking (the first look one period from now, each next one a period after the last
   * slice of the one before); with `everyMs` 0, never.
   */
  start(): void {
    const every = this.#options.everyMs ?? TICK_EVERY_MS;
    if (every <= 0) return;
    this.#running = true;
    const slice = (slots: Iterator<Slot>) => {
      let more = false;
      try {
        more = this.#slice(slots, this.#options.now());
      } finally {
        this.#tell();
        // Rescheduled whatever a look did: one failed slice must not end the ticking.
        if (this.#running) {
          this.#timer = more
            ? this.#options.timers.setTimeout(() => slice(slots), 0)
            : this.#options.timers.setTimeout(
              () => slice(this.#options.slots()[Symbol.iterator]()),
              every,
            );
        }
      }
    };
    this.#timer = this.#options.timers.setTimeout(
      () => slice(this.#options.slots()[Symbol.iterator]()),
      every,
    );
  }

  /** Stops ticking. */
  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) this.#options.timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Looks at every instance now and sends the ticks that are due; returns how many. */
  tick(): number {
    const nowMs = this.#options.now();
    let n = 0;
    for (const slot of this.#options.slots()) if (this.#lookSafely(slot, nowMs)) n++;
    this.#tell();
    return n;
  }

  /** Tells the ticks sent since last told, in one message. */
  #tell(): void {
    const sent = this.#sent;
    if (sent.length === 0) return;
    this.#sent = [];
    const bus = this.#options.bus;
    if (bus === undefined) return;
    try {
      bus.publish(tickSubject(this.#options.hostId), encodeTickNotices(sent));
    } catch (err) {
      (this.#options.log ?? console.error)(`its ticks could not be told: ${errorLine(err)}`);
    }
  }

  /**
   * Looks at the next instances of `slots` at `nowMs`, sending what is due, up to a slice's
   * bounds: whether instances are left to look at.
   */
  #slice(slots: Iterator<Slot>, nowMs: number): boolean {
    let sent = 0;
    for (let looked = 0; looked < LOOKS_PER_SLICE_MAX; looked++) {
      const r = slots.next();
      if (r.done) return false;
      if (this.#lookSafely(r.value, nowMs) && ++sent === TICKS_PER_SLICE_MAX) return true;
    }
    return true;
  }

  /** Looks at one instance; a look that throws is said, and the instance skipped this period. */
  #lookSafely(slot: Slot, nowMs: number): boolean {
    try {
      return this.#look(slot, nowMs);
    } catch (err) {
      // A tick's enqueue applies it at once: the instance may have failed on it, or on an
      // input before it, and been torn down under this look. It is the supervisor's to
      // rebuild; the look starts afresh next period.
      this.#waiting.delete(slot);
      const line = `${slot.def.kind}/${slot.key}: its tick could not be made: ${errorLine(err)}`;
      (this.#options.log ?? console.error)(line);
      return false;
    }
  }

  /** Looks at one instance at `nowMs` and sends it the tick that is due, if one is: whether. */
  #look(slot: Slot, nowMs: number): boolean {
    // Restored from its snapshot soon by the start's background pass (warm_up.ts), or by an
    // input: a tick waits till then (its time is the one due, whenever it is sent).
    if (slot.dormant !== undefined) return false;
    // Its tick not due yet, or none, and nothing applied since that was read: the look below
    // would say so (most of a period's instances, quiet between scrapes), without the reads.
    if (slot.inst !== undefined && slot.inst.lookAfterMs > nowMs) return false;
    const def = slot.def;
    if (!def.tickEvent || slot.status !== "running" || !slot.inst) return false;
    if (slot.mailbox.length > slot.head) return false;
    if (!def.tickDue) {
      this.#send(slot, Math.round(nowMs * 1000));
      return true;
    }
    const w = this.#waiting.get(slot);
    let due: { ts: number; quietMs: number } | undefined;
    if (w !== undefined && w.inst === slot.inst && w.pos === slot.inst.pos) {
      // Nothing applied since the last look (each input moves the position): the same tick is
      // due, or none, without reading the state again. Most of a period's instances are so:
      // quiet between scrapes.
      if (w.ts !== w.ts) return false;
      due = w;
    } else {
      due = def.tickDue(slot.inst.kernelState);
      if (!due || !w || w.ts !== due.ts) {
        this.#wait(slot, w, due?.ts ?? NaN, due?.quietMs ?? 0, nowMs, slot.inst);
        return false;
      }
      w.quietMs = due.quietMs;
      w.inst = slot.inst;
      w.pos = slot.inst.pos;
    }
    if (nowMs - w.sinceMs < due.quietMs) {
      slot.inst.lookAfterMs = lookAfter(w.ts, w.sinceMs, due.quietMs);
      return false;
    }
    this.#send(slot, due.ts);
    // The tick was applied at once, and may have failed the instance: it then has no state
    // until its supervisor rebuilds it, and waits for nothing.
    const inst = slot.status === "running" ? slot.inst : undefined;
    if (inst === undefined) {
      this.#waiting.delete(slot);
      return true;
    }
    // The quiet goes on for the next bar to close: it began with the instance's last input.
    const next = def.tickDue(inst.kernelState);
    this.#wait(slot, w, next?.ts ?? NaN, next?.quietMs ?? 0, w.sinceMs, inst);
    return true;
  }

  /**
   * Notes that `slot` waits for the tick at `ts` (NaN: none) since `sinceMs`, as read from `inst`
   * at its position now: in its entry `w` when it has one. An entry lives as long as its instance
   * and changes at most once a sample, so it is kept and changed, not made anew each time: made
   * anew, each would live a scrape interval and die in the old generation.
   */
  #wait(
    slot: Slot,
    w: Waiting | undefined,
    ts: number,
    quietMs: number,
    sinceMs: number,
    inst: NonNullable<Slot["inst"]>,
  ): void {
    inst.lookAfterMs = lookAfter(ts, sinceMs, quietMs);
    if (w === undefined) {
      this.#waiting.set(slot, { ts, quietMs, sinceMs, inst, pos: inst.pos });
      return;
    }
    w.ts = ts;
    w.quietMs = quietMs;
    w.sinceMs = sinceMs;
    w.inst = inst;
    w.pos = inst.pos;
  }

  #send(slot: Slot, ts: number): void {
    const id = `${this.#options.hostId}:tick:${ts}`;
    const payload = encodeEnvelope({ id, type: "tick", src: this.#options.hostId, ts, body: null });
    const after = slot.lastInputId;
    this.#sent.push(
      after === undefined
        ? { stream: slot.stream, tick: payload }
        : { stream: slot.stream, tick: payload, after },
    );
    this.#options.enqueue(slot, tickPending(payload));
  }
}
