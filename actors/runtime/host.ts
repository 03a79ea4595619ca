/**
 * The actor host: runs actor instances of the kinds it is given, for the partitions it owns.
 *
 * An input (a sample frame on `troupe.feed.<feed>.<channel>`, a control message on
 * `troupe.ctl.<kind>[.<key>]`) is validated once at the edge (failures go to the dead letters),
 * routed to the instances that consume it, journaled to each instance's stream, then applied:
 * kernel step, one machine event, outputs published with ids derived from the input's id. An
 * instance is created on its first input; its first journal record is its starting configuration,
 * so its state is always the fold of its journal. Snapshots are taken every N inputs or T ms, after
 * the journal is synced up to them; recovery loads the newest snapshot of each instance and replays
 * the journal past it, in one pass. An instance whose kernel or machine throws is restarted from
 * snapshot and journal with exponential backoff; an input that fails it `inputFailuresMax` times is
 * recorded as skipped, sent to `troupe.dlq.apply` and the instance moves on; an instance that fails
 * `failuresMax` times in `failureWindowMs` is stopped and reported. Nothing but a bug in the host
 * itself stops the host.
 */
import { createServer, type Server } from "node:http";
import process from "node:process";
import {
  type Bus,
  type BusMessage,
  type BusSubscription,
  ConfigError,
  decodeEnvelope,
  decodeFrame,
  encodeEnvelope,
  type Envelope,
  type FrameLimits,
  parseSubject,
  type SampleFrame,
  SUBJECT_ROOT,
  sysSubject,
} from "../../protocol/mod.ts";
import type { AnyActorDefinition } from "./actor_definition.ts";
import { ActorInstance, type Output, parseStream, streamOf } from "./actor_instance.ts";
import { publishDeadLetter, reasonOf } from "./dead_letter.ts";
import { HostMetrics, type KindTally } from "./host_metrics.ts";
import {
  decodeInputRecord,
  encodeInputRecord,
  encodeInputRecordParts,
  type InputRecord,
  type TimeColumn,
} from "./input_record.ts";
import type { Journal, JournalData } from "./journal.ts";
import { partitionOf } from "./partition.ts";
import type { Snapshot, SnapshotStore } from "./snapshot_store.ts";

/** Where a host's inputs come from. */
export interface InputSource {
  /** Starts delivering; `resumeAfter` is the highest source position already journaled. */
  start(deliver: (msg: BusMessage, srcPos: number) => void, resumeAfter: number): Promise<void>;
  stop(): Promise<void>;
}

/** Supervision settings. */
export interface SupervisionOptions {
  backoffMsBase: number;
  backoffMsMax: number;
  /** Failures within `failureWindowMs` after which an instance is stopped. */
  failuresMax: number;
  failureWindowMs: number;
  /** Failures of one input after which it goes to the dead letters and is skipped. */
  inputFailuresMax: number;
}

/** A frame message decoded: its envelope and its validated frame (what `decodeFrame` returns). */
export interface DecodedFrame {
  envelope: Envelope;
  frame: SampleFrame;
}

/**
 * Decodes the frame message `bytes`, which has source position `srcPos` (0 for sources without
 * positions), under the limits it was made for.
 */
export type FrameDecoder = (bytes: Uint8Array, srcPos: number) => DecodedFrame;

/** The timers a host uses (backoff, periodic snapshots and gauges). */
export interface HostTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const REAL_TIMERS: HostTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** Options of a host. */
export interface HostOptions {
  /** A name for this host (a subject token): in metrics, dead letters and output sources. */
  hostId: string;
  bus: Bus;
  actors: readonly AnyActorDefinition[];
  /** Per-kind configuration objects, parsed by each kind (`{ stats: { every_samples: 500 } }`). */
  config?: Record<string, unknown>;
  journal: Journal;
  snapshots: SnapshotStore;
  /** Number of partitions, and those this host owns (default: all). */
  partitions?: { count: number; owned?: readonly number[] };
  /** Where feed messages come from; default: a core subscription to `troupe.feed.>` on the bus. */
  input?: InputSource;
  limits?: FrameLimits & { channelsMax?: number; mailboxMax?: number };
  snapshotEveryInputs?: number;
  snapshotEveryMs?: number;
  /** Milliseconds between journal compactions (segments every snapshot covers): 30 s. */
  compactEveryMs?: number;
  supervision?: Partial<SupervisionOptions>;
  /** Add a `Nats-Msg-Id` header to every output, for JetStream duplicate detection. */
  msgIdHeaders?: boolean;
  /** Serve /healthz and /metrics on this port (0: a free port); none when absent. */
  httpPort?: number;
  /** Wall clock in milliseconds, for lag, timers and backoff only: never for actor logic. */
  now?: () => number;
  /** Timers for backoff and periodic work; the simulator passes virtual ones. */
  timers?: HostTimers;
  /** Where the host reports what happens (restarts, truncations, stops). */
  log?: (message: string) => void;
  /**
   * Makes the host's frame decoders, one per set of limits: of feed messages as they arrive (the
   * host's limits) and of journaled frames in replay (the default limits). Each must return what
   * `decodeFrame(bytes, limits)` returns, or throw as it does. By default, `decodeFrame` itself,
   * with journaled frames decoded by the instance; the simulator, whose hosts see the same
   * frames again and again (redeliveries, recoveries), passes decoders that decode each once.
   */
  frameDecoders?: (limits: FrameLimits) => FrameDecoder;
  /**
   * Journal frames whose times are evenly spaced without their time column (see
   * input_record.ts): half the bytes written for metrics and bars. Default true; the simulator,
   * whose journals hold the logged bytes in place, passes false.
   */
  journalEvenTimes?: boolean;
}

type Status = "recovering" | "running" | "backoff" | "stopped";

interface Pending {
  record: InputRecord;
  bytes: JournalData;
  decoded: DecodedFrame | undefined;
  /** Set when the input was journaled on arrival (its instance was restarting). */
  pos?: number;
  posPromise?: Promise<number> | undefined;
}

interface Slot {
  def: AnyActorDefinition;
  key: string;
  stream: string;
  inst: ActorInstance | undefined;
  status: Status;
  mailbox: Pending[];
  head: number;
  pumping: boolean;
  failures: number[];
  inputFailures: Map<number, number>;
  skips: Set<number>;
  lastEventUs: number;
  /** The highest source position accepted (applied or waiting): redeliveries at or below it are
   *  duplicates, whether or not the instance is up. */
  srcPosMax: number;
  /** The journal position of the last input whose outputs were published. */
  publishedPos: number;
  /** The kind's per-input metrics. */
  tally: KindTally;
}

/** How journal replay applies inputs: the state changes, no output is encoded. */
const REPLAY = { outputs: false } as const;

const DEFAULT_SUPERVISION: SupervisionOptions = {
  backoffMsBase: 100,
  backoffMsMax: 10_000,
  failuresMax: 5,
  failureWindowMs: 60_000,
  inputFailuresMax: 3,
};

/** A core-NATS (or in-process) subscription to `troupe.feed.>`: no positions, no redelivery. */
export function coreInput(bus: Bus, pattern = `${SUBJECT_ROOT}.feed.>`): InputSource {
  let sub: BusSubscription | undefined;
  return {
    start(deliver) {
      sub = bus.subscribe(pattern, (msg) => deliver(msg, 0));
      return Promise.resolve();
    },
    stop() {
      sub?.unsubscribe();
      return Promise.resolve();
    },
  };
}

/** An actor host. */
export class Host {
  readonly options: HostOptions;
  readonly metrics: HostMetrics;
  readonly #bus: Bus;
  readonly #journal: Journal;
  readonly #snapshots: SnapshotStore;
  readonly #kinds = new Map<string, AnyActorDefinition>();
  readonly #configs = new Map<string, unknown>();
  readonly #slots = new Map<string, Slot>();
  readonly #owned: Set<number>;
  readonly #partitionCount: number;
  readonly #sup: SupervisionOptions;
  readonly #limits: FrameLimits & { channelsMax: number; mailboxMax: number };
  readonly #now: () => number;
  readonly #log: (message: string) => void;
  readonly #input: InputSource;
  readonly #decodeLive: FrameDecoder;
  /** Decodes journaled frames for replay; undefined: the instance does. */
  readonly #decodeReplay: FrameDecoder | undefined;
  #ctlSub: BusSubscription | undefined;
  #timer: unknown;
  readonly #timers: HostTimers;
  #http: Server | undefined;
  #snapshotQueue = new Map<string, Snapshot>();
  /** The position of each stream's newest saved snapshot: what compaction may drop up to. */
  #savedPos = new Map<string, number>();
  #lastCompactMs = 0;
  #snapshotting: Promise<void> | undefined;
  #channels = new Set<string>();
  /** Feed subjects already parsed: their channel, or null for subjects that are not feeds. */
  #feedChannels = new Map<string, string | null>();
  #dlqSeq = 0;
  #ready = false;
  #closing = false;
  #resumeAfter = 0;
  /** Inputs applied, by kind (a cheap counter for tests and benchmarks). */
  readonly applied = new Map<string, number>();

  constructor(options: HostOptions) {
    this.options = options;
    this.#bus = options.bus;
    this.#journal = options.journal;
    this.#snapshots = options.snapshots;
    this.#now = options.now ?? (() => performance.timeOrigin + performance.now());
    this.#timers = options.timers ?? REAL_TIMERS;
    this.#log = options.log ?? ((m) => console.error(`[${options.hostId}] ${m}`));
    this.#sup = { ...DEFAULT_SUPERVISION, ...options.supervision };
    this.#limits = {
      ...options.limits,
      channelsMax: options.limits?.channelsMax ?? 100_000,
      mailboxMax: options.limits?.mailboxMax ?? 10_000,
    };
    this.#partitionCount = options.partitions?.count ?? 1;
    this.#owned = new Set(options.partitions?.owned ?? [...Array(this.#partitionCount).keys()]);
    this.metrics = new HostMetrics({ host: options.hostId });
    for (const def of options.actors) {
      this.#kinds.set(def.kind, def);
      const raw = options.config?.[def.kind];
      this.#configs.set(
        def.kind,
        raw === undefined
          ? def.defaultConfig
          : def.parseConfig(raw, def.defaultConfig, `actors.${def.kind}`),
      );
    }
    for (const kind of Object.keys(options.config ?? {})) {
      if (!this.#kinds.has(kind)) {
        throw new ConfigError(
          `actors.${kind}`,
          `Unknown actor kind "${kind}" in the configuration`,
          {
            value: kind,
          },
        );
      }
    }
    this.#input = options.input ?? coreInput(this.#bus);
    const limits = this.#limits;
    this.#decodeLive = options.frameDecoders?.(limits) ?? ((bytes) => decodeFrame(bytes, limits));
    this.#decodeReplay = options.frameDecoders?.({});
  }

  /** Whether the host has recovered and is consuming. */
  get ready(): boolean {
    return this.#ready;
  }

  /** The HTTP port of /healthz and /metrics, once started. */
  get httpPort(): number | undefined {
    const address = this.#http?.address();
    return typeof address === "object" && address ? address.port : undefined;
  }

  /** Recovers every instance from snapshots and the journal, then starts consuming. */
  async start(): Promise<void> {
    if (this.options.httpPort !== undefined) await this.#serveHttp(this.options.httpPort);
    const t0 = this.#now();
    await this.#recoverAll();
    const stats = this.#journal.stats();
    this.metrics.journalTruncatedBytes.set(stats.truncatedBytes);
    if (stats.truncatedBytes > 0) {
      this.#log(`journal: truncated a torn tail of ${stats.truncatedBytes} bytes on open`);
    }
    this.#log(
      `recovered ${this.#slots.size} actor instances in ${(this.#now() - t0).toFixed(0)} ms`,
    );
    this.#ctlSub = this.#bus.subscribe(`${SUBJECT_ROOT}.ctl.>`, (msg) => this.#onCtl(msg));
    await this.#input.start((msg, srcPos) => this.#onFeed(msg, srcPos), this.#resumeAfter);
    const every = this.options.snapshotEveryMs ?? 5000;
    const period = Math.min(every, 1000);
    const tick = () => {
      this.#periodic();
      if (!this.#closing) this.#timer = this.#timers.setTimeout(tick, period);
    };
    this.#timer = this.#timers.setTimeout(tick, period);
    this.#ready = true;
  }

  /** Stops consuming, applies what is queued, snapshots every instance and closes the journal. */
  async stop(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.#ready = false;
    await this.#input.stop();
    this.#ctlSub?.unsubscribe();
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    // Let in-flight asynchronous appends finish.
    for (let i = 0; i < 200 && [...this.#slots.values()].some((s) => s.pumping); i++) {
      await new Promise<void>((r) => this.#timers.setTimeout(r, 10));
    }
    for (const slot of this.#slots.values()) {
      if (slot.inst && slot.status === "running" && slot.inst.sinceSnapshot > 0) {
        this.#capture(slot);
      }
    }
    await this.#flushSnapshots();
    await this.#journal.sync();
    await this.#bus.flush().catch(() => {});
    for (const slot of this.#slots.values()) slot.inst?.stop();
    await new Promise<void>((
      resolve,
    ) => (this.#http ? this.#http.close(() => resolve()) : resolve()));
  }

  /** The instance of `(kind, key)`, if it lives here. */
  instance(kind: string, key: string): ActorInstance | undefined {
    return this.#slots.get(streamOf(kind, key))?.inst;
  }

  /** Every instance's stream and status. */
  instances(): Array<{ stream: string; status: Status; pos: number }> {
    return [...this.#slots.values()].map((s) => ({
      stream: s.stream,
      status: s.status,
      pos: s.inst?.pos ?? 0,
    }));
  }

  /** Health: ready, instance counts by status. */
  health(): { ok: boolean; ready: boolean; instances: Record<Status, number> } {
    const instances: Record<Status, number> = { recovering: 0, running: 0, backoff: 0, stopped: 0 };
    for (const s of this.#slots.values()) instances[s.status]++;
    return { ok: this.#ready && instances.stopped === 0, ready: this.#ready, instances };
  }

  // --- inputs ----------------------------------------------------------------------------------

  /** Where the decoded frame's time column lies in `payload`, when it is a view of it. */
  #timeColumn(payload: Uint8Array, decoded: DecodedFrame): TimeColumn | undefined {
    if (this.options.journalEvenTimes === false) return undefined;
    const bin = (decoded.envelope.body as { t?: unknown } | null)?.t;
    if (!(bin instanceof Uint8Array) || bin.buffer !== payload.buffer) return undefined;
    const at = bin.byteOffset - payload.byteOffset;
    const t = decoded.frame.t;
    return at >= 0 && bin.byteLength === t.length * 8 ? { at, t } : undefined;
  }

  #onFeed(msg: BusMessage, srcPos: number): void {
    if (this.#closing) return;
    let cached = this.#feedChannels.get(msg.subject);
    if (cached === undefined) {
      try {
        const parsed = parseSubject(msg.subject);
        cached = parsed.kind === "feed" ? parsed.channel : null;
      } catch (err) {
        this.#deadLetter(msg, err);
        return;
      }
      if (this.#feedChannels.size >= this.#limits.channelsMax) this.#feedChannels.clear();
      this.#feedChannels.set(msg.subject, cached);
    }
    if (cached === null) return;
    const channel = cached;
    // Route first: a frame no instance here consumes is another host's to decode and judge.
    const targets: Array<[AnyActorDefinition, string]> = [];
    for (const def of this.#kinds.values()) {
      for (const key of def.route(channel, this.#configs.get(def.kind))) {
        if (this.#owned.has(partitionOf(key, this.#partitionCount))) targets.push([def, key]);
      }
    }
    if (targets.length === 0) return;
    let decoded: DecodedFrame;
    try {
      decoded = this.#decodeLive(msg.data, srcPos);
      if (decoded.frame.channel !== channel) {
        throw Object.assign(
          new Error(
            `Frame on "${msg.subject}" names channel "${decoded.frame.channel}", not "${channel}"`,
          ),
          { reason: "value" },
        );
      }
      if (!this.#channels.has(channel)) {
        if (this.#channels.size >= this.#limits.channelsMax) {
          throw Object.assign(
            new Error(
              `Channel "${channel}" is over this host's limit of ${this.#limits.channelsMax} channels`,
            ),
            { reason: "oversize" },
          );
        }
        this.#channels.add(channel);
      }
    } catch (err) {
      this.#deadLetter(msg, err);
      return;
    }
    const record: InputRecord = { kind: "frame", srcPos, subject: msg.subject, payload: msg.data };
    const bytes = encodeInputRecordParts(record, this.#timeColumn(msg.data, decoded));
    for (const [def, key] of targets) this.#enqueue(def, key, { record, bytes, decoded });
  }

  #onCtl(msg: BusMessage): void {
    if (this.#closing) return;
    let kind: string, key: string | undefined, envelope: Envelope;
    try {
      const parsed = parseSubject(msg.subject);
      if (parsed.kind !== "ctl") return;
      ({ actor: kind, key } = parsed);
      envelope = decodeEnvelope(msg.data, this.#limits);
      const def = this.#kinds.get(kind);
      if (!def) return; // another host's kinds
      // Validate against the kind's current configuration before it reaches any journal.
      const config = def.parseConfig(envelope.body, this.#configs.get(kind), `ctl.${kind}`);
      if (key === undefined) this.#configs.set(kind, config);
      const record: InputRecord = {
        kind: "ctl",
        srcPos: 0,
        subject: msg.subject,
        payload: msg.data,
      };
      const bytes = encodeInputRecord(record);
      if (key !== undefined) {
        if (this.#owned.has(partitionOf(key, this.#partitionCount))) {
          this.#enqueue(def, key, { record, bytes, decoded: undefined });
        }
      } else {
        for (const slot of [...this.#slots.values()]) {
          if (slot.def === def && slot.status !== "stopped") {
            this.#enqueue(def, slot.key, { record, bytes, decoded: undefined });
          }
        }
      }
      if (msg.reply) {
        this.#bus.publish(msg.reply, encodeEnvelope({ ...this.#meta(), type: "ok", body: null }));
      }
    } catch (err) {
      this.#deadLetter(msg, err);
      if (msg.reply) {
        this.#bus.publish(
          msg.reply,
          encodeEnvelope({
            ...this.#meta(),
            type: "error",
            body: { error: (err as Error).message },
          }),
        );
      }
    }
  }

  #meta() {
    const ts = Math.round(this.#now() * 1000);
    return { id: `${this.options.hostId}:${ts}:${++this.#dlqSeq}`, src: this.options.hostId, ts };
  }

  #deadLetter(msg: BusMessage, err: unknown, actor?: string): void {
    const e = err as Error & { reason?: string; field?: string };
    const reason = e.reason ?? reasonOf(err);
    this.metrics.deadLetters.inc({ reason });
    const letter: Parameters<typeof publishDeadLetter>[1] = {
      subject: msg.subject,
      reason,
      error: e.message ?? String(err),
      raw: msg.data,
    };
    if (e.field !== undefined) letter.field = e.field;
    if (actor !== undefined) letter.actor = actor;
    try {
      publishDeadLetter(this.#bus, letter, this.#meta());
    } catch (publishErr) {
      this.#log(
        `cannot publish a dead letter for "${msg.subject}": ${(publishErr as Error).message}`,
      );
    }
  }

  // --- instances -------------------------------------------------------------------------------

  #slot(def: AnyActorDefinition, key: string): Slot {
    const stream = streamOf(def.kind, key);
    let slot = this.#slots.get(stream);
    if (!slot) {
      slot = {
        def,
        key,
        stream,
        inst: undefined,
        status: "running",
        mailbox: [],
        head: 0,
        pumping: false,
        failures: [],
        inputFailures: new Map(),
        skips: new Set(),
        lastEventUs: 0,
        srcPosMax: 0,
        publishedPos: 0,
        tally: this.metrics.tally(def.kind),
      };
      this.#slots.set(stream, slot);
      this.metrics.instances.inc({ kind: def.kind });
    }
    return slot;
  }

  #enqueue(def: AnyActorDefinition, key: string, item: Pending): void {
    const slot = this.#slot(def, key);
    if (slot.status === "stopped") {
      this.#deadLetter(
        {
          subject: item.record.subject,
          data: item.record.payload,
          headers: undefined,
          reply: undefined,
        },
        Object.assign(new Error(`Actor ${slot.stream} is stopped after repeated failures`), {
          reason: "stopped",
        }),
        slot.stream,
      );
      return;
    }
    const srcPos = item.record.srcPos;
    if (srcPos > 0) {
      if (srcPos <= slot.srcPosMax) {
        this.metrics.duplicates.inc({ kind: def.kind });
        return;
      }
      slot.srcPosMax = srcPos;
    }
    if (slot.mailbox.length - slot.head >= this.#limits.mailboxMax) {
      this.#deadLetter(
        {
          subject: item.record.subject,
          data: item.record.payload,
          headers: undefined,
          reply: undefined,
        },
        Object.assign(
          new Error(
            `Mailbox of ${slot.stream} is full (${this.#limits.mailboxMax} inputs waiting)`,
          ),
          { reason: "overflow" },
        ),
        slot.stream,
      );
      return;
    }
    if (slot.status === "backoff" || slot.status === "recovering") this.#journalWaiting(slot, item);
    slot.mailbox.push(item);
    this.#pump(slot);
  }

  /**
   * Journals an input that must wait for its instance to come back: a crash meanwhile must not
   * lose it (recovery resumes the feed after the highest source position any instance journaled).
   * The restart applies it from the journal or from the mailbox, by position, once.
   */
  #journalWaiting(slot: Slot, item: Pending): void {
    if (item.pos !== undefined || item.posPromise !== undefined) return;
    const r = this.#journal.append(slot.stream, item.bytes);
    if (typeof r === "number") item.pos = r;
    else item.posPromise = r;
  }

  /** Journals and applies a slot's queued inputs in order. */
  #pump(slot: Slot): void {
    if (slot.pumping) return;
    slot.pumping = true;
    while (slot.status === "running" && slot.head < slot.mailbox.length) {
      const item = slot.mailbox[slot.head]!;
      if (!slot.inst) {
        // The first input of a new instance: journal its starting configuration first.
        const config = this.#configs.get(slot.def.kind);
        const init = encodeInputRecord({
          kind: "init",
          srcPos: 0,
          subject: slot.stream,
          payload: encodeEnvelope({
            id: `${slot.stream}:init`,
            type: "init",
            src: this.options.hostId,
            ts: 0,
            body: config,
          }),
        });
        const r = this.#journal.append(slot.stream, init);
        slot.inst = ActorInstance.create(slot.def, slot.key, config);
        if (typeof r !== "number") {
          r.then((pos) => {
            slot.inst!.skip(pos, 0);
            slot.inst!.sinceSnapshot = 0;
            slot.pumping = false;
            this.#pump(slot);
          }, (err) => this.#journalFailed(slot, err));
          return;
        }
        slot.inst.skip(r, 0);
        slot.inst.sinceSnapshot = 0;
      }
      if (item.pos !== undefined || item.posPromise !== undefined) {
        // Journaled on arrival, while the instance was restarting.
        if (item.pos === undefined) {
          item.posPromise!.then((pos) => {
            item.pos = pos;
            item.posPromise = undefined;
            slot.pumping = false;
            this.#pump(slot);
          }, (err) => this.#journalFailed(slot, err));
          return;
        }
        slot.head++;
        if (item.pos > slot.inst.pos) this.#applyLive(slot, item, item.pos);
        continue;
      }
      const r = this.#journal.append(slot.stream, item.bytes);
      if (typeof r !== "number") {
        r.then((pos) => {
          slot.head++;
          this.#applyLive(slot, item, pos);
          slot.pumping = false;
          this.#compactMailbox(slot);
          this.#pump(slot);
        }, (err) => this.#journalFailed(slot, err));
        return;
      }
      slot.head++;
      this.#applyLive(slot, item, r);
    }
    this.#compactMailbox(slot);
    slot.pumping = false;
  }

  #compactMailbox(slot: Slot) {
    if (slot.head >= slot.mailbox.length) {
      slot.mailbox.length = 0;
      slot.head = 0;
    } else if (slot.head > 1024) {
      slot.mailbox = slot.mailbox.slice(slot.head);
      slot.head = 0;
    }
  }

  #journalFailed(slot: Slot, err: unknown) {
    slot.pumping = false;
    this.#log(`journal append for ${slot.stream} failed: ${(err as Error).message}; retrying`);
    this.#timers.setTimeout(() => this.#pump(slot), this.#sup.backoffMsBase);
  }

  #applyLive(slot: Slot, item: Pending, pos: number): void {
    const inst = slot.inst!;
    const kind = slot.def.kind;
    const t0 = performance.now();
    let outputs: Output[];
    try {
      outputs = inst.apply(item.record, pos, item.decoded);
    } catch (err) {
      this.#failed(slot, err, pos);
      return;
    }
    this.#publish(outputs);
    slot.publishedPos = pos;
    slot.tally.input((performance.now() - t0) / 1000, outputs.length);
    this.applied.set(kind, (this.applied.get(kind) ?? 0) + 1);
    if (item.decoded) slot.lastEventUs = item.decoded.envelope.ts;
    if (inst.sinceSnapshot >= (this.options.snapshotEveryInputs ?? 1000)) this.#capture(slot);
  }

  #publish(outputs: Output[]): void {
    for (const out of outputs) {
      if (this.options.msgIdHeaders) {
        this.#bus.publish(out.subject, out.data, { headers: { "Nats-Msg-Id": out.id } });
      } else {
        this.#bus.publish(out.subject, out.data);
      }
    }
  }

  // --- supervision -----------------------------------------------------------------------------

  #failed(slot: Slot, err: unknown, pos: number): void {
    const now = this.#now();
    slot.failures = slot.failures.filter((t) => now - t < this.#sup.failureWindowMs);
    slot.failures.push(now);
    slot.inputFailures.set(pos, (slot.inputFailures.get(pos) ?? 0) + 1);
    slot.inst?.stop();
    slot.inst = undefined;
    if (slot.failures.length >= this.#sup.failuresMax) {
      slot.status = "stopped";
      this.metrics.stopped.inc({ kind: slot.def.kind });
      this.#log(
        `${slot.stream} stopped after ${slot.failures.length} failures: ${(err as Error).message}`,
      );
      this.#bus.publish(
        sysSubject("actor", "stopped"),
        encodeEnvelope({
          ...this.#meta(),
          type: "actor_stopped",
          body: { stream: slot.stream, error: String((err as Error).message) },
        }),
      );
      return;
    }
    slot.status = "backoff";
    // Inputs already waiting are journaled now, like those that arrive during the backoff.
    for (let i = slot.head; i < slot.mailbox.length; i++) {
      this.#journalWaiting(slot, slot.mailbox[i]!);
    }
    const n = slot.failures.length;
    const delay = Math.min(this.#sup.backoffMsMax, this.#sup.backoffMsBase * 2 ** (n - 1));
    this.#log(`${slot.stream} failed (${(err as Error).message}); restarting in ${delay} ms`);
    this.#timers.setTimeout(() => {
      this.#restart(slot).catch((e) => this.#failed(slot, e, -1));
    }, delay);
  }

  /** Rebuilds an instance from its snapshot and journal, skipping poison inputs. */
  async #restart(slot: Slot): Promise<void> {
    if (this.#closing) return;
    this.metrics.restarts.inc({ kind: slot.def.kind });
    slot.status = "recovering";
    const records: Array<{ pos: number; data: Uint8Array }> = [];
    const snap = await this.#loadSnapshot(slot);
    for await (const rec of this.#journal.read(slot.stream, snap?.pos ?? 0)) {
      records.push({ pos: rec.pos, data: rec.data.slice() });
    }
    for (const { data } of records) {
      const r = decodeInputRecord(data);
      if (r.kind === "skip") slot.skips.add(skippedPos(r));
    }
    let inst = snap ? ActorInstance.restore(slot.def, slot.key, snap) : undefined;
    for (const { pos, data } of records) {
      const r = decodeInputRecord(data);
      if (r.kind === "init") {
        inst = ActorInstance.create(slot.def, slot.key, decodeEnvelope(r.payload).body);
        inst.skip(pos, 0);
        continue;
      }
      if (!inst) {
        throw new Error(`${slot.stream}: journal has no starting configuration before ${pos}`);
      }
      if (slot.skips.has(pos) || r.kind === "skip") {
        inst.skip(pos, r.srcPos);
        continue;
      }
      try {
        // Outputs of inputs applied before were published then; those of the input that failed
        // (and of any journaled while the instance was down) never were.
        const fresh = pos > slot.publishedPos;
        const outputs = inst.apply(r, pos, this.#replayDecoded(r), fresh ? undefined : REPLAY);
        if (fresh) {
          this.#publish(outputs);
          slot.tally.outputs += outputs.length;
          slot.publishedPos = pos;
        }
      } catch (err) {
        const count = (slot.inputFailures.get(pos) ?? 0) + 1;
        slot.inputFailures.set(pos, count);
        if (count < this.#sup.inputFailuresMax) throw err;
        // A poison input: record the skip, dead-letter it, and move on.
        await this.#journal.append(slot.stream, skipRecord(pos, r));
        slot.skips.add(pos);
        this.#deadLetter(
          { subject: r.subject, data: r.payload, headers: undefined, reply: undefined },
          Object.assign(new Error((err as Error).message), { reason: "apply" }),
          slot.stream,
        );
        this.#log(`${slot.stream}: input ${pos} failed ${count} times; moved to the dead letters`);
        // Rebuild cleanly: the failed attempt may have left the state half-changed.
        return this.#restart(slot);
      }
    }
    if (!inst) throw new Error(`${slot.stream}: nothing to restore`);
    slot.inst = inst;
    if (inst.srcPos > slot.srcPosMax) slot.srcPosMax = inst.srcPos;
    slot.status = "running";
    this.#log(`${slot.stream} restarted at input ${inst.pos}`);
    this.#capture(slot);
    this.#pump(slot);
  }

  /**
   * A journaled frame decoded by the replay decoder, if there is one (else the instance decodes
   * it); undefined too when it fails, so that the instance fails on it as it would have.
   */
  #replayDecoded(r: InputRecord): DecodedFrame | undefined {
    if (this.#decodeReplay === undefined || r.kind !== "frame") return undefined;
    try {
      return this.#decodeReplay(r.payload, r.srcPos);
    } catch {
      return undefined;
    }
  }

  // --- snapshots and recovery --------------------------------------------------------------------

  #capture(slot: Slot): void {
    const inst = slot.inst;
    if (!inst) return;
    const s = inst.snapshot();
    inst.sinceSnapshot = 0;
    this.#snapshotQueue.set(slot.stream, {
      stream: slot.stream,
      version: slot.def.version,
      pos: s.pos,
      machine: { xstate: s.machine, config: s.config },
      kernel: s.kernel,
      meta: { srcPos: s.srcPos },
    });
    this.#snapshotting ??= this.#flushSnapshots().finally(() => (this.#snapshotting = undefined));
  }

  async #flushSnapshots(): Promise<void> {
    if (this.#snapshotting) await this.#snapshotting;
    while (this.#snapshotQueue.size) {
      const batch = [...this.#snapshotQueue.values()];
      this.#snapshotQueue.clear();
      // A snapshot must never be ahead of the durable journal.
      await this.#journal.sync();
      for (const snap of batch) {
        try {
          await this.#snapshots.save(snap);
          this.#savedPos.set(snap.stream, snap.pos);
          this.metrics.snapshots.inc({ kind: parseStream(snap.stream)?.kind ?? "?" });
        } catch (err) {
          this.#log(`snapshot of ${snap.stream} failed: ${(err as Error).message}`);
        }
      }
    }
    if (!this.#closing) await this.#compact();
  }

  /** Drops journal segments every snapshot covers, at most every `compactEveryMs`. */
  async #compact(): Promise<void> {
    const now = this.#now();
    if (
      !this.#journal.compact || now - this.#lastCompactMs < (this.options.compactEveryMs ?? 30_000)
    ) {
      return;
    }
    this.#lastCompactMs = now;
    try {
      await this.#journal.compact(this.#savedPos);
    } catch (err) {
      this.#log(`journal compaction failed: ${(err as Error).message}`);
    }
  }

  async #loadSnapshot(slot: Slot) {
    const snap = await this.#snapshots.load(slot.stream);
    if (!snap) return undefined;
    if (snap.version !== slot.def.version) {
      this.#log(
        `${slot.stream}: snapshot of version ${snap.version} discarded (machine version is ${slot.def.version}); replaying the journal from the start`,
      );
      return undefined;
    }
    const m = snap.machine as { xstate: unknown; config: unknown };
    return {
      pos: snap.pos,
      srcPos: Number(snap.meta?.srcPos ?? 0),
      machine: m.xstate,
      kernel: snap.kernel,
      config: m.config,
    };
  }

  async #recoverAll(): Promise<void> {
    const after = new Map<string, number>();
    const pending: Slot[] = [];
    for (const stream of this.#journal.streams()) {
      const parsed = parseStream(stream);
      const def = parsed && this.#kinds.get(parsed.kind);
      if (!parsed || !def) continue;
      if (!this.#owned.has(partitionOf(parsed.key, this.#partitionCount))) continue;
      const slot = this.#slot(def, parsed.key);
      slot.status = "recovering";
      const snap = await this.#loadSnapshot(slot);
      if (snap) {
        this.#savedPos.set(stream, snap.pos);
        slot.inst = ActorInstance.restore(def, parsed.key, snap);
        this.#resumeAfter = Math.max(this.#resumeAfter, snap.srcPos);
      }
      after.set(stream, snap?.pos ?? 0);
      pending.push(slot);
    }
    if (pending.length === 0) return;
    const broken = new Set<Slot>();
    for await (const rec of this.#journal.readAll(after)) {
      const slot = this.#slots.get(rec.stream);
      if (!slot || slot.status !== "recovering" || broken.has(slot)) continue;
      const r = decodeInputRecord(rec.data);
      if (r.srcPos > this.#resumeAfter) this.#resumeAfter = r.srcPos;
      if (r.kind === "init") {
        slot.inst = ActorInstance.create(slot.def, slot.key, decodeEnvelope(r.payload).body);
        slot.inst.skip(rec.pos, 0);
        continue;
      }
      if (!slot.inst || r.kind === "skip") {
        if (!slot.inst) broken.add(slot);
        else slot.inst.skip(rec.pos, r.srcPos);
        continue;
      }
      try {
        // Outputs are published again: after a crash, those of the journal's tail may have been
        // lost in a send buffer. They carry the ids they had, so consumers drop duplicates.
        const outputs = slot.inst.apply(r, rec.pos, this.#replayDecoded(r));
        this.#publish(outputs);
        slot.tally.outputs += outputs.length;
        slot.publishedPos = rec.pos;
      } catch {
        broken.add(slot); // rebuilt below, the careful way
      }
    }
    for (const slot of pending) {
      if (!slot.inst && !broken.has(slot)) {
        // No snapshot (or one of another version) and no records left: compacted away.
        this.#log(
          `${slot.stream}: no usable snapshot and no journal records left; it starts afresh on its next input`,
        );
        this.#slots.delete(slot.stream);
        this.metrics.instances.dec({ kind: slot.def.kind });
        continue;
      }
      if (broken.has(slot)) {
        slot.inst = undefined;
        await this.#restart(slot).catch((err) => this.#failed(slot, err, -1));
      } else if (slot.inst) {
        slot.status = "running";
        slot.srcPosMax = Math.max(slot.srcPosMax, slot.inst.srcPos);
        slot.publishedPos = Math.max(slot.publishedPos, slot.inst.pos);
        if (slot.inst.sinceSnapshot > 0) this.#capture(slot);
      }
    }
  }

  #periodic(): void {
    const now = this.#now();
    const every = this.options.snapshotEveryMs ?? 5000;
    let depth = 0;
    for (const slot of this.#slots.values()) {
      depth += slot.mailbox.length - slot.head;
      if (slot.lastEventUs > 0) {
        this.metrics.lag.set(
          { kind: slot.def.kind },
          Math.max(0, now / 1000 - slot.lastEventUs / 1e6),
        );
      }
      const inst = slot.inst;
      if (inst && slot.status === "running" && inst.sinceSnapshot > 0) {
        const due = (slot as Slot & { lastSnapMs?: number }).lastSnapMs ?? 0;
        if (now - due >= every) {
          (slot as Slot & { lastSnapMs?: number }).lastSnapMs = now;
          this.#capture(slot);
        }
      }
    }
    this.metrics.mailbox.set(depth);
    this.metrics.journalBytes.set(this.#journal.stats().bytes);
  }

  // --- HTTP --------------------------------------------------------------------------------------

  #serveHttp(port: number): Promise<void> {
    const server = createServer(async (req, res) => {
      try {
        if (req.url === "/healthz") {
          const h = this.health();
          res.writeHead(h.ok ? 200 : 503, { "content-type": "application/json" });
          res.end(JSON.stringify({ host: this.options.hostId, ...h }));
        } else if (req.url === "/metrics") {
          this.#periodicGauges();
          const text = await this.metrics.text();
          res.writeHead(200, { "content-type": this.metrics.contentType });
          res.end(text);
        } else {
          res.writeHead(404, { "content-type": "text/plain" });
          res.end("Not found: try /healthz or /metrics\n");
        }
      } catch (err) {
        res.writeHead(500, { "content-type": "text/plain" });
        res.end(String((err as Error).message));
      }
    });
    this.#http = server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
  }

  #periodicGauges() {
    this.metrics.journalBytes.set(this.#journal.stats().bytes);
    let depth = 0;
    for (const slot of this.#slots.values()) depth += slot.mailbox.length - slot.head;
    this.metrics.mailbox.set(depth);
  }
}

/** A journal record saying that the input at `pos` was skipped as poison. */
function skipRecord(pos: number, input: InputRecord): Uint8Array {
  const payload = new Uint8Array(8);
  new DataView(payload.buffer).setFloat64(0, pos, true);
  return encodeInputRecord({ kind: "skip", srcPos: input.srcPos, subject: input.subject, payload });
}

/** The position a skip record names. */
function skippedPos(record: InputRecord): number {
  return new DataView(record.payload.buffer, record.payload.byteOffset, 8).getFloat64(0, true);
}

/** The process's resident set size in MiB. */
export function rssMb(): number {
  return process.memoryUsage().rss / (1 << 20);
}
