/**
 * The simulated feed stream: a durable, sequenced log of feed frames (what the `TROUPE_FEED`
 * JetStream stream is in a real cluster) and the consumers hosts read it through, across the
 * simulated network. Core NATS is at most once, so this is what makes "no acknowledged input lost"
 * mean something under drops and crashes: a frame the log holds stays there, and a host resumes
 * from the highest source position its journal holds.
 *
 * The protocol is a small model of an ordered push consumer with flow control. A client asks the
 * log to deliver from a sequence (`fetch`, with a generation number); the log pushes frames in
 * sequence order, at most `windowMax` past what the client acknowledged, and a heartbeat with its
 * head every `heartbeatUs`. The client hands frames to the host strictly in order: frames that
 * arrive ahead of a missing one wait, and a frame still missing after a short wait is asked for
 * again (`get`, a one-off redelivery of the missing range, as a direct get would); silence or a
 * stalled heartbeat makes it fetch again from the next sequence it needs, under a new generation.
 * Duplicates of frames it already handed on are passed through: the host must ignore them by
 * source position.
 */
import type { BusMessage, PublishOptions } from "../protocol/mod.ts";
import type { HostTimers, InputSource } from "../actors/runtime/mod.ts";
import type { SimBus, SimConnection } from "./sim_bus.ts";
import type { Scheduler } from "./scheduler.ts";
import { SeqWindow } from "./_seq_window.ts";

/** One frame in the log. */
export interface FeedEntry {
  seq: number;
  subject: string;
  data: Uint8Array;
  /**
   * Bytes left free right before `data` in its buffer, for the head of the journal record that
   * holds the frame (see SimDisk): a journal then holds the frame where the log does.
   */
  headroom?: number;
}

const FETCH = "_sim.js.fetch";
const GET = "_sim.js.get";
const ACK = "_sim.js.ack";
const H_SEQ = "Sim-Seq";
const H_GEN = "Sim-Gen";
const H_SUBJECT = "Sim-Subject";
const H_HEAD = "Sim-Head";
// (Headers are written with these names spelled out: an object literal with computed keys is
// built property by property, one with plain keys is cloned from its template.)

/** The control messages' codec: JSON, as UTF-8. */
const utf8 = new TextEncoder();
const utf8d = new TextDecoder();

/** Options of the feed log. */
export interface SimFeedLogOptions {
  /** Frames pushed past a consumer's acknowledged sequence at most. Default 128. */
  windowMax?: number;
  /** Heartbeat period. Default 500 ms. */
  heartbeatUs?: number;
  /** A consumer not heard from for this long is deleted. Default 10 s. */
  inactiveUs?: number;
  trace?: (line: string) => void;
}

interface Consumer {
  name: string;
  gen: number;
  deliver: string;
  next: number;
  acked: number;
  seenUs: number;
  /** The generation whose text was made last, and that text. */
  genText: [number, string];
}

/** The durable feed log and its server side. */
export class SimFeedLog {
  readonly entries: FeedEntry[] = [];
  /**
   * Per entry, what it is published with, by consumer generation (made when first sent: each
   * frame goes to every consumer, most of them of the same few generations, and nothing on its
   * way changes a message's headers).
   */
  readonly #sendOptions: Array<Map<number, PublishOptions>> = [];
  /** Each entry's sequence as the header text it is sent with, made when first sent. */
  readonly #seqTexts: string[] = [];
  readonly #conn: SimConnection;
  readonly #scheduler: Scheduler;
  readonly #consumers = new Map<string, Consumer>();
  readonly #windowMax: number;
  readonly #heartbeatUs: number;
  readonly #inactiveUs: number;
  readonly #trace: ((line: string) => void) | undefined;
  #stopped = false;

  constructor(bus: SimBus, scheduler: Scheduler, options: SimFeedLogOptions = {}) {
    this.#conn = bus.connect("log");
    this.#scheduler = scheduler;
    this.#windowMax = options.windowMax ?? 128;
    this.#heartbeatUs = options.heartbeatUs ?? 500_000;
    this.#inactiveUs = options.inactiveUs ?? 10_000_000;
    this.#trace = options.trace;
    this.#conn.subscribe(FETCH, (msg) => this.#onFetch(msg));
    this.#conn.subscribe(ACK, (msg) => this.#onAck(msg));
    this.#conn.subscribe(GET, (msg) => this.#onGet(msg));
    this.#scheduler.after(this.#heartbeatUs, () => this.#heartbeat());
  }

  /** The last sequence stored (0 when empty). */
  get head(): number {
    return this.entries.length;
  }

  /**
   * Stores a frame durably and returns its sequence (`headroom`: bytes free before `data`, see
   * FeedEntry).
   */
  append(subject: string, data: Uint8Array, headroom?: number): number {
    const seq = this.entries.length + 1;
    this.entries.push(
      headroom === undefined ? { seq, subject, data } : { seq, subject, data, headroom },
    );
    for (const c of this.#consumers.values()) this.#push(c);
    return seq;
  }

  /** Stops the heartbeats (the end of a simulation). */
  stop(): void {
    this.#stopped = true;
  }

  #onFetch(msg: BusMessage) {
    const req = JSON.parse(utf8d.decode(msg.data)) as {
      c: string;
      g: number;
      from: number;
      d: string;
    };
    let c = this.#consumers.get(req.c);
    if (c && req.g < c.gen) return; // a stale request overtaken by a newer one
    if (!c) {
      c = {
        name: req.c,
        gen: req.g,
        deliver: req.d,
        next: req.from,
        acked: req.from - 1,
        seenUs: 0,
        genText: [req.g, String(req.g)],
      };
      this.#consumers.set(req.c, c);
    }
    c.gen = req.g;
    c.deliver = req.d;
    c.next = Math.max(1, req.from);
    c.acked = c.next - 1;
    c.seenUs = this.#scheduler.nowUs;
    this.#trace?.(`log fetch ${c.name} gen=${c.gen} from=${c.next}`);
    this.#push(c);
  }

  #onAck(msg: BusMessage) {
    const req = JSON.parse(utf8d.decode(msg.data)) as {
      c: string;
      g: number;
      upTo: number;
    };
    const c = this.#consumers.get(req.c);
    if (!c || req.g !== c.gen) return;
    if (req.upTo > c.acked) c.acked = Math.min(req.upTo, c.next - 1);
    c.seenUs = this.#scheduler.nowUs;
    this.#push(c);
  }

  /** Redelivers `from..to` once to a consumer's current generation; its cursor does not move. */
  #onGet(msg: BusMessage) {
    const req = JSON.parse(utf8d.decode(msg.data)) as {
      c: string;
      g: number;
      from: number;
      to: number;
    };
    const c = this.#consumers.get(req.c);
    if (!c || req.g !== c.gen) return;
    c.seenUs = this.#scheduler.nowUs;
    const to = Math.min(req.to, this.entries.length, req.from + this.#windowMax - 1);
    this.#trace?.(`log get ${c.name} gen=${c.gen} ${req.from}..${to}`);
    for (let seq = Math.max(1, req.from); seq <= to; seq++) this.#send(c, this.entries[seq - 1]!);
  }

  #send(c: Consumer, e: FeedEntry) {
    const byGen = this.#sendOptions[e.seq - 1] ??= new Map();
    let options = byGen.get(c.gen);
    if (options === undefined) {
      if (c.genText[0] !== c.gen) c.genText = [c.gen, String(c.gen)];
      const seq = this.#seqTexts[e.seq - 1] ??= String(e.seq);
      options = { headers: { "Sim-Seq": seq, "Sim-Gen": c.genText[1], "Sim-Subject": e.subject } };
      byGen.set(c.gen, options);
    }
    this.#conn.publish(c.deliver, e.data, options);
  }

  #push(c: Consumer) {
    const limit = Math.min(this.entries.length, c.acked + this.#windowMax);
    while (c.next <= limit) {
      this.#send(c, this.entries[c.next - 1]!);
      c.next++;
    }
  }

  #heartbeat() {
    if (this.#stopped) return;
    const now = this.#scheduler.nowUs;
    for (const c of [...this.#consumers.values()]) {
      if (now - c.seenUs > this.#inactiveUs) {
        this.#consumers.delete(c.name);
        this.#trace?.(`log expire ${c.name}`);
        continue;
      }
      this.#conn.publish(c.deliver, EMPTY, {
        headers: { "Sim-Head": String(this.entries.length), "Sim-Gen": String(c.gen) },
      });
    }
    this.#scheduler.after(this.#heartbeatUs, () => this.#heartbeat());
  }
}

const EMPTY = new Uint8Array(0);

/** Options of a host's feed input. */
export interface SimFeedInputOptions {
  /** The consumer's name: one per host incarnation. */
  consumer: string;
  /** The host's timers: a crash cancels the client's with them. */
  timers: HostTimers;
  /** Acknowledge after this many frames. Default 32. */
  ackEvery?: number;
  /** Frames that arrived ahead of a missing one, kept at most. Default 256. */
  aheadMax?: number;
  /** How long a missing frame is waited for before it is asked for again. Default 20 ms. */
  gapWaitMs?: number;
  /** Fetch again when nothing came for this long. Default 1000 ms. */
  watchdogMs?: number;
  trace?: (line: string) => void;
  /** For tests of the checker: drop the frame of this sequence without handing it on. */
  loseSeq?: number;
  /** Whether the input says it still holds every sequence (`firstPosition`). Default true. */
  keepsPositions?: boolean;
}

/**
 * A host's InputSource reading the simulated feed log through `conn`. Frames are handed on
 * strictly in sequence order: one that arrives ahead of a missing one waits (up to `aheadMax`),
 * and a frame still missing after `gapWaitMs` is fetched again. A frame's bytes are fixed by its
 * sequence, so what any generation delivered can be used; generations only tell current
 * heartbeats from stale ones.
 */
export function simFeedInput(conn: SimConnection, options: SimFeedInputOptions): InputSource {
  return new SimFeedInput(conn, options);
}

/** The client side of the feed log, for one host incarnation (see `simFeedInput`). */
class SimFeedInput implements InputSource {
  readonly #conn: SimConnection;
  readonly #options: SimFeedInputOptions;
  readonly #consumer: string;
  readonly #deliverSubject: string;
  readonly #ackEvery: number;
  readonly #aheadMax: number;
  readonly #gapWaitMs: number;
  readonly #watchdogMs: number;
  readonly #timers: HostTimers;
  /** Frames that arrived ahead of the next one expected, by sequence (within `aheadMax`). */
  readonly #ahead: SeqWindow<BusMessage>;
  #expected = 1;
  #gen = 0;
  #sinceAck = 0;
  #heard = false;
  #progressed = false;
  #stopped = true;
  #sub: { unsubscribe(): void } | undefined;
  #watchdog: unknown;
  #gapTimer: unknown;
  #deliver: (msg: BusMessage, srcPos: number) => void = () => {};

  constructor(conn: SimConnection, options: SimFeedInputOptions) {
    this.#conn = conn;
    this.#options = options;
    this.#consumer = options.consumer;
    this.#deliverSubject = `_sim.in.${options.consumer}`;
    this.#ackEvery = options.ackEvery ?? 32;
    this.#aheadMax = options.aheadMax ?? 256;
    this.#ahead = new SeqWindow(this.#aheadMax);
    this.#gapWaitMs = options.gapWaitMs ?? 20;
    this.#watchdogMs = options.watchdogMs ?? 1000;
    this.#timers = options.timers;
  }

  start(deliver: (msg: BusMessage, srcPos: number) => void, resumeAfter: number): Promise<void> {
    this.#conn.markAsync();
    this.#deliver = deliver;
    this.#stopped = false;
    this.#expected = resumeAfter + 1;
    this.#sub = this.#conn.subscribe(this.#deliverSubject, (msg) => this.#onMessage(msg));
    this.#fetch("start");
    this.#watchdog = this.#timers.setTimeout(this.#tick, this.#watchdogMs);
    return Promise.resolve();
  }

  /**
   * The log keeps every frame from sequence 1: what a journal lost can be read again (without
   * `keepsPositions`, it says it holds none of what came before).
   */
  firstPosition(): Promise<number> {
    return Promise.resolve(this.#options.keepsPositions === false ? Number.MAX_SAFE_INTEGER : 1);
  }

  stop(): Promise<void> {
    this.#conn.markAsync();
    this.#stopped = true;
    this.#sub?.unsubscribe();
    if (this.#watchdog !== undefined) this.#timers.clearTimeout(this.#watchdog);
    if (this.#gapTimer !== undefined) this.#timers.clearTimeout(this.#gapTimer);
    return Promise.resolve();
  }

  #send(subject: string, body: unknown): void {
    this.#conn.publish(subject, utf8.encode(JSON.stringify(body)));
  }

  #fetch(why: string): void {
    const gen = ++this.#gen;
    this.#sinceAck = 0;
    const from = this.#expected;
    this.#options.trace?.(`${this.#consumer} fetch gen=${gen} from=${from} (${why})`);
    this.#send(FETCH, { c: this.#consumer, g: gen, from, d: this.#deliverSubject });
  }

  #ack(): void {
    this.#sinceAck = 0;
    this.#send(ACK, { c: this.#consumer, g: this.#gen, upTo: this.#expected - 1 });
  }

  #handOn(msg: BusMessage, seq: number): void {
    const subject = msg.headers![H_SUBJECT]!;
    this.#deliver({ subject, data: msg.data, headers: undefined, reply: undefined }, seq);
  }

  #advance(msg: BusMessage): void {
    const seq = this.#expected++;
    this.#progressed = true;
    if (seq !== this.#options.loseSeq) this.#handOn(msg, seq);
    if (++this.#sinceAck >= this.#ackEvery) this.#ack();
  }

  /** Asks for the missing frames again if they are still missing after a short wait. */
  #armGap(): void {
    if (this.#gapTimer !== undefined || this.#ahead.size === 0) return;
    const waitingFor = this.#expected;
    this.#gapTimer = this.#timers.setTimeout(() => {
      this.#gapTimer = undefined;
      if (this.#stopped) return;
      const ahead = this.#ahead;
      if (this.#expected === waitingFor && ahead.size > 0) {
        let to = this.#expected;
        while (!ahead.has(to + 1)) to++;
        this.#options.trace?.(
          `${this.#consumer} get gen=${this.#gen} ${this.#expected}..${to} (gap)`,
        );
        this.#send(GET, { c: this.#consumer, g: this.#gen, from: this.#expected, to });
      }
      this.#armGap();
    }, this.#gapWaitMs);
  }

  /** The watchdog: fetches again when nothing was heard since it last ran. */
  readonly #tick = (): void => {
    if (this.#stopped) return;
    if (!this.#heard) this.#fetch("silence");
    this.#heard = false;
    this.#watchdog = this.#timers.setTimeout(this.#tick, this.#watchdogMs);
  };

  #onMessage(msg: BusMessage): void {
    if (this.#stopped) return;
    const h = msg.headers;
    if (!h) return;
    const head = h[H_HEAD];
    if (head !== undefined) {
      if (Number(h[H_GEN]) !== this.#gen) return; // a stale generation's heartbeat
      this.#heard = true;
      if (Number(head) >= this.#expected && !this.#progressed && this.#ahead.size === 0) {
        this.#fetch(`stalled before ${this.#expected}`);
      } else if (this.#sinceAck > 0) this.#ack();
      this.#progressed = false;
      return;
    }
    this.#heard = true;
    const seq = Number(h[H_SEQ]);
    if (seq < this.#expected) {
      // A duplicate of what was handed on: the host must recognise it by position.
      this.#handOn(msg, seq);
    } else if (seq === this.#expected) {
      this.#advance(msg);
      const ahead = this.#ahead;
      for (let next = ahead.get(this.#expected); next; next = ahead.get(this.#expected)) {
        ahead.delete(this.#expected);
        this.#advance(next);
      }
      this.#armGap();
    } else if (seq - this.#expected <= this.#aheadMax) {
      this.#ahead.set(seq, msg);
      this.#armGap();
    }
  }
}
