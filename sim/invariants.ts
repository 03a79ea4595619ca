/**
 * The simulator's invariants, and the fault-free reference they are checked against. The
 * reference is the same feed folded through fresh actor instances in one pass, with no host, no
 * network and no faults: the outputs a cluster must publish and the state it must end in. The
 * checks are pure functions over journals, instances and outputs, so a test can break one on
 * purpose and see it reported.
 *
 * - `no_input_lost`: every frame the feed log holds is, once the run drains, in the journal of
 *   each instance it routes to (exactly once, in log order) and applied;
 * - `no_input_applied_twice`: per instance journal, source positions strictly increase (the host
 *   journals an input before applying it, so the journal's order is the apply order);
 * - `recovery_equals_replay`: a live instance (after a recovery, and at the end) equals a fresh
 *   instance fed its whole journal: kernel bytes, machine snapshot, configuration and positions;
 * - `outputs_equal_fault_free`: every output a host publishes has an id the reference produced, with
 *   the same bytes, and every reference output is published (at least once: duplicates aside);
 * - `no_dead_letters`: nothing valid is dead-lettered and no instance is stopped;
 * - `drains`: once faults stop, the cluster catches up with the log within a bound;
 * - `no_exception`: nothing under simulation throws;
 * - `framing_independent`: a per-channel kind's outputs are the same however its samples are framed
 *   (framing_check.ts: a few streams' journals folded again in other frames at the end).
 */
import {
  ActorInstance,
  type AnyActorDefinition,
  decodeInputRecord,
  type InputRecord,
  type InstanceSnapshot,
  isSkipRecord,
  isVoidRecord,
  type JournalRecord,
  parseStream,
  skippedPosition,
  streamOf,
  VoidedPositions,
  voidedRange,
} from "../actors/runtime/mod.ts";
import { bytesEqual, decodeEnvelope, decodeFrame, parseSubject } from "../protocol/mod.ts";

/** The names of the invariants. */
export type InvariantName =
  | "no_input_lost"
  | "no_input_applied_twice"
  | "recovery_equals_replay"
  | "outputs_equal_fault_free"
  | "no_dead_letters"
  | "drains"
  | "no_exception"
  | "framing_independent";

/** A broken invariant, when (virtual µs since the start of the run) and what exactly. */
export interface Violation {
  invariant: InvariantName;
  atUs: number;
  message: string;
}

/** A frame of the feed log, as the reference and the checks see it. */
export interface LoggedFrame {
  seq: number;
  subject: string;
  data: Uint8Array;
}

/** What a fault-free run of the same inputs gives. */
export interface Reference {
  /** Every output, by id. */
  outputs: Map<string, Uint8Array>;
  /** Per instance stream, the source positions of the frames it consumes, in order. */
  inputs: Map<string, number[]>;
  /** Per instance stream, its final state. */
  finals: Map<string, InstanceSnapshot>;
  /** Output ids produced twice with different bytes (ids must be unique). */
  conflicts: string[];
  /** Inputs applied again: ids an instance had applied before, past its window (copies far back). */
  reapplied: number;
  /** Each logged frame decoded (index seq - 1), for replays of journals that hold it. */
  decoded: DecodedFrame[];
}

/** A frame message decoded. */
export type DecodedFrame = ReturnType<typeof decodeFrame>;

/**
 * Finds the decoded form of a journaled frame's payload, if it is known (a replay then skips
 * decoding it again); it must return undefined unless `payload` holds exactly those bytes and,
 * when `subject` is given, the frame was logged on that subject.
 */
export type DecodedLookup = (
  srcPos: number,
  payload: Uint8Array,
  subject?: string,
) => DecodedFrame | undefined;

/**
 * What a replay consumed, per journal position (index pos - 1): the source position of a frame
 * record that holds exactly the logged frame (its kind, source position, subject and payload: what
 * the lookup vouched for), or a copy of the record's bytes. A later check compares a journal with
 * it (`replayHolds`) before it continues the replay instead of starting afresh.
 */
export type Consumed = (number | Uint8Array)[];

/**
 * Which instance streams each logged frame goes to, built frame by frame in log order: per stream
 * (in the order streams are first routed to), the source positions it consumes. The reference and
 * the simulator's checks route with this one index.
 */
export class InputIndex {
  /** Per instance stream, the source positions of the frames it consumes, in order. */
  readonly inputs = new Map<string, number[]>();
  readonly #actors: readonly AnyActorDefinition[];
  readonly #configs: ReadonlyMap<string, unknown>;
  /** Per subject seen, its feed channel (null: not a feed subject). */
  readonly #channels = new Map<string, string | null>();

  constructor(actors: readonly AnyActorDefinition[], configs: ReadonlyMap<string, unknown>) {
    this.#actors = actors;
    this.#configs = configs;
  }

  /**
   * Routes one logged frame (frames must come in log order); calls `each` for every instance it
   * goes to, in route order, saying whether it is the stream's first input. Returns false for an
   * entry that is not a feed frame.
   */
  add(
    entry: LoggedFrame,
    each?: (def: AnyActorDefinition, key: string, stream: string, first: boolean) => void,
  ): boolean {
    let channel = this.#channels.get(entry.subject);
    if (channel === undefined) {
      const parsed = parseSubject(entry.subject);
      channel = parsed.kind === "feed" ? parsed.channel : null;
      this.#channels.set(entry.subject, channel);
    }
    if (channel === null) return false;
    for (const def of this.#actors) {
      const config = this.#configs.get(def.kind);
      for (const key of def.route(channel, config)) {
        const stream = streamOf(def.kind, key);
        let seqs = this.inputs.get(stream);
        const first = seqs === undefined;
        if (seqs === undefined) this.inputs.set(stream, seqs = []);
        each?.(def, key, stream, first);
        seqs.push(entry.seq);
      }
    }
    return true;
  }
}

/**
 * The key suffix of a second version of an output id: an input applied again (its id had left the
 * instance's window) gives outputs with the first application's ids, as a host's does.
 */
export const AGAIN = "\u0000again";

/**
 * Folds `log` through fresh instances of `actors` (configured by `configs`, already parsed). An
 * instance passes over a frame whose envelope id is in its window of recent ids, as a host's does;
 * one it applies again (its id left the window) may give outputs with ids the first application's
 * had: those are kept as second versions (`AGAIN`), not reported as conflicts.
 */
export function runReference(
  log: readonly LoggedFrame[],
  actors: readonly AnyActorDefinition[],
  configs: ReadonlyMap<string, unknown>,
): Reference {
  const outputs = new Map<string, Uint8Array>();
  const index = new InputIndex(actors, configs);
  const instances = new Map<string, { inst: ActorInstance; pos: number; ids: Set<string> }>();
  const conflicts: string[] = [];
  let reapplied = 0;
  const decodedFrames: DecodedFrame[] = [];
  for (const entry of log) {
    let decoded: DecodedFrame | undefined;
    let record: InputRecord | undefined;
    index.add(entry, (def, key, stream, first) => {
      if (decoded === undefined) {
        decoded = decodedFrames[entry.seq - 1] = decodeFrame(entry.data);
        record = { kind: "frame", srcPos: entry.seq, subject: entry.subject, payload: entry.data };
      }
      let slot = instances.get(stream);
      if (first || !slot) {
        // Position 1 is the journal's `init` record, as a host writes it.
        const inst = ActorInstance.create(def, key, configs.get(def.kind));
        slot = { inst, pos: 1, ids: new Set() };
        slot.inst.skip(1, 0);
        instances.set(stream, slot);
      }
      slot.pos++;
      // Every id the instance met (an id met before is passed over, or applied again).
      const id = decoded!.envelope.id;
      const again = slot.ids.has(id);
      const duplicates = slot.inst.duplicates;
      for (const out of slot.inst.apply(record!, slot.pos, decoded)) {
        const prior = outputs.get(out.id);
        if (prior === undefined) outputs.set(out.id, out.data);
        else if (again) outputs.set(out.id + AGAIN, out.data);
        else if (!bytesEqual(prior, out.data)) conflicts.push(out.id);
      }
      if (again && slot.inst.duplicates === duplicates) reapplied++;
      slot.ids.add(id);
    });
  }
  const finals = new Map<string, InstanceSnapshot>();
  for (const [stream, { inst }] of instances) {
    finals.set(stream, inst.snapshot());
    inst.stop();
  }
  return { outputs, inputs: index.inputs, finals, conflicts, reapplied, decoded: decodedFrames };
}

const QUIET = { outputs: false } as const;

/**
 * A fresh instance fed a stream's whole journal, as recovery without snapshots would; or, with
 * `base`, `base` (the same replay, done up to `base.pos` earlier) fed the records past it.
 * Returns undefined when `base` cannot continue (a later record skips or voids an input it
 * applied).
 */
export function replayRecords(
  def: AnyActorDefinition,
  key: string,
  records: readonly JournalRecord[],
  base?: ActorInstance,
  lookup?: DecodedLookup,
  consumed?: Consumed,
): ActorInstance | undefined {
  let inst = base;
  const skipped = new Set<number>();
  const voided = new VoidedPositions();
  for (const rec of records) {
    if (isVoidRecord(rec.data)) {
      const range = voidedRange(decodeInputRecord(rec.data));
      if (base && range.from <= base.pos) return undefined;
      voided.add(range);
    }
    if (!isSkipRecord(rec.data)) continue; // read before decoding
    const r = decodeInputRecord(rec.data);
    if (r.kind === "skip") {
      const pos = skippedPosition(r);
      if (base && pos <= base.pos) return undefined;
      skipped.add(pos);
    }
  }
  for (const rec of records) {
    if (base && rec.pos <= base.pos) continue;
    if (voided.has(rec.pos) && inst) {
      if (consumed) consumed[rec.pos - 1] = rec.data.slice();
      inst.skip(rec.pos, 0);
      continue;
    }
    const r = decodeInputRecord(rec.data);
    // A replay publishes nothing: its outputs are not encoded (the state is the same).
    const decoded = r.kind === "frame" ? lookup?.(r.srcPos, r.payload, r.subject) : undefined;
    if (consumed) consumed[rec.pos - 1] = decoded ? r.srcPos : rec.data.slice();
    if (r.kind === "init") {
      inst?.stop();
      inst = ActorInstance.create(def, key, decodeEnvelope(r.payload).body);
      inst.skip(rec.pos, 0);
      continue;
    }
    if (!inst) {
      throw new Error(
        `Journal of ${streamOf(def.kind, key)} has record ${rec.pos} before any init record`,
      );
    }
    if (r.kind === "void") inst.skip(rec.pos, 0);
    else if (r.kind === "skip" || skipped.has(rec.pos)) inst.skip(rec.pos, r.srcPos);
    else inst.apply(r, rec.pos, decoded, QUIET);
  }
  if (!inst) throw new Error(`Journal of ${streamOf(def.kind, key)} is empty`);
  return inst;
}

/**
 * Whether `records` (a stream's whole journal, from position 1) hold exactly what a replay
 * consumed (see Consumed), over every position it consumed: then the replay can go on with the
 * records past them and end where a fresh replay of `records` would.
 */
export function replayHolds(
  records: readonly JournalRecord[],
  consumed: Consumed,
  lookup: DecodedLookup,
): boolean {
  if (records.length < consumed.length) return false;
  for (let i = 0; i < consumed.length; i++) {
    const rec = records[i]!, c = consumed[i];
    if (rec.pos !== i + 1 || c === undefined) return false;
    if (typeof c === "number") {
      const r = decodeInputRecord(rec.data);
      if (r.kind !== "frame" || r.srcPos !== c || !lookup(c, r.payload, r.subject)) return false;
    } else if (!bytesEqual(rec.data, c)) return false;
  }
  return true;
}

/** One instance of a host at a recovery check, as the host had it then. */
export interface RecoveryInstance {
  stream: string;
  /** Its status on the host; only a running instance is compared. */
  status: string;
  /** The live instance's snapshot; undefined when the host has no instance of the stream. */
  live: InstanceSnapshot | undefined;
}

/** One recovery check of a host: every instance it has equals a fresh replay of its journal. */
export interface RecoveryCheck {
  host: string;
  /** What the check follows, for messages ("recovery", "drain", ...). */
  when: string;
  /** The feed log's head at the check: only frames up to it are known to lookups. */
  head: number;
  instances: RecoveryInstance[];
  /**
   * A full check: each instance's journal as read from the journal itself, by stream. Otherwise
   * the disk's view of the journals (see `RecoveryChecker.records`) is replayed.
   */
  journals?: Map<string, JournalRecord[]>;
}

/** Where a RecoveryChecker finds the logged frames (for lookups): up to the head it is told. */
export interface LoggedFrames {
  /** The frame at `seq` (1-based), which the log holds. */
  entry(seq: number): LoggedFrame;
  /** The frame at `seq` decoded (the same object each time it is asked). */
  decoded(seq: number): DecodedFrame;
}

/** A replay of one instance's journal on one host, kept between checks, and what it consumed. */
interface Shadow {
  inst: ActorInstance;
  consumed: Consumed;
}

/**
 * The recovery checks (`recovery_equals_replay`) of a run, with their state: per host and
 * instance, a replay of its journal kept between checks and continued at the next (the journal's
 * durable prefix never changes; a replay past what a crash lost is dropped), and the disk's view of
 * every journal as the simulator last told it (`records`, `cut`, `patch`). A `full` check reads the
 * journal itself: it continues a kept replay only if the journal holds exactly the records the
 * replay consumed (byte for byte), and otherwise replays the journal afresh. Pure computation over
 * what it is told, so it runs the same in the simulator's thread or on a worker.
 */
export class RecoveryChecker {
  readonly #kinds: ReadonlyMap<string, AnyActorDefinition>;
  readonly #frames: LoggedFrames;
  /** Per `${host} ${stream}`, the disk's view of the journal: the record at position p at p - 1. */
  readonly #views = new Map<string, JournalRecord[]>();
  readonly #shadows = new Map<string, Shadow>();
  #head = 0;

  constructor(kinds: ReadonlyMap<string, AnyActorDefinition>, frames: LoggedFrames) {
    this.#kinds = kinds;
    this.#frames = frames;
  }

  /**
   * The disk's view of the journal of `stream` on `host` now holds its first `base` records as
   * before (it may have been cut back to them) and then the records of `data`, in position order.
   */
  records(host: string, stream: string, base: number, data: readonly Uint8Array[]): void {
    const key = `${host} ${stream}`;
    let view = this.#views.get(key);
    if (!view) this.#views.set(key, view = []);
    if (view.length < base) {
      throw new Error(`Recovery checker: ${key} holds ${view.length} records, told ${base}`);
    }
    view.length = base;
    for (const d of data) view.push({ stream, pos: view.length + 1, data: d });
  }

  /**
   * `host` crashed and its journals lost their unsynced tails: each stream of `lengths` now ends at
   * the given position. Views are cut back, and kept replays that went past them dropped.
   */
  cut(host: string, lengths: ReadonlyMap<string, number>): void {
    for (const [stream, n] of lengths) {
      const view = this.#views.get(`${host} ${stream}`);
      if (view && view.length > n) view.length = n;
    }
    for (const [key, shadow] of this.#shadows) {
      if (!key.startsWith(`${host} `)) continue;
      if (shadow.consumed.length > (lengths.get(shadow.inst.stream) ?? 0)) this.#drop(key);
    }
  }

  /** The bytes of a record in the disk's view changed in place (a sabotage): `data` are the new. */
  patch(host: string, stream: string, pos: number, data: Uint8Array): void {
    const rec = this.#views.get(`${host} ${stream}`)?.[pos - 1];
    if (rec) rec.data = data;
  }

  /** Runs one check; returns its violations, in the order found. */
  check(c: RecoveryCheck): { invariant: InvariantName; message: string }[] {
    const found: { invariant: InvariantName; message: string }[] = [];
    const violate = (message: string) =>
      found.push({ invariant: "recovery_equals_replay", message });
    this.#head = c.head;
    const h = c.host;
    for (const { stream, status, live } of c.instances) {
      const parsed = parseStream(stream)!;
      const def = this.#kinds.get(parsed.kind)!;
      if (!live || status !== "running") {
        violate(`${h} ${stream} is ${status} after ${c.when}`);
        continue;
      }
      const shadowKey = `${h} ${stream}`;
      const journal = c.journals?.get(stream);
      const view = this.#views.get(shadowKey) ?? [];
      let kept = this.#shadows.get(shadowKey);
      if (kept && journal && !replayHolds(journal, kept.consumed, this.#lookup)) kept = undefined;
      let shadow: Shadow | undefined;
      try {
        if (kept) {
          const from = kept.consumed.length;
          const records = (journal ?? view).slice(from);
          if (replayRecords(def, parsed.key, records, kept.inst, this.#lookup, kept.consumed)) {
            shadow = kept;
          }
        }
        if (!shadow) {
          const consumed: Consumed = [];
          const records = journal ?? view.slice();
          shadow = {
            inst: replayRecords(def, parsed.key, records, undefined, this.#lookup, consumed)!,
            consumed,
          };
        }
      } catch (err) {
        this.#drop(shadowKey);
        violate(`${h} ${stream}: its journal does not replay: ${(err as Error).message}`);
        continue;
      }
      if (shadow !== this.#shadows.get(shadowKey)) {
        this.#drop(shadowKey);
        this.#shadows.set(shadowKey, shadow);
      }
      const diff = diffSnapshots(live, shadow.inst.snapshot());
      if (diff) violate(`${h} ${stream} after ${c.when}: ${diff}`);
    }
    return found;
  }

  /** Stops every kept replay. */
  stop(): void {
    for (const key of [...this.#shadows.keys()]) this.#drop(key);
  }

  #drop(key: string): void {
    this.#shadows.get(key)?.inst.stop();
    this.#shadows.delete(key);
  }

  /** The decoded frame for a journaled payload holding exactly the logged bytes. */
  readonly #lookup: DecodedLookup = (srcPos, payload, subject) => {
    // Only frames the log holds (and so the index has routed) are known.
    if (!(srcPos >= 1 && srcPos <= this.#head)) return undefined;
    const entry = this.#frames.entry(srcPos);
    if (
      (subject !== undefined && subject !== entry.subject) || !bytesEqual(entry.data, payload)
    ) return undefined;
    return this.#frames.decoded(srcPos);
  };
}

/** The first difference between two instance snapshots, or undefined when they are equal. */
export function diffSnapshots(
  actual: InstanceSnapshot,
  expected: InstanceSnapshot,
  options: { positions?: boolean } = {},
): string | undefined {
  if (options.positions !== false && actual.pos !== expected.pos) {
    return `journal position ${actual.pos}, expected ${expected.pos}`;
  }
  if (actual.srcPos !== expected.srcPos) {
    return `source position ${actual.srcPos}, expected ${expected.srcPos}`;
  }
  const k = firstDifference(actual.kernel, expected.kernel);
  if (k !== undefined) {
    return `kernel state differs at byte ${k} of ${actual.kernel.byteLength} (expected ${expected.kernel.byteLength} bytes)`;
  }
  // Equal as they are (same keys in the same order) is equal canonically: the sort only runs
  // when they differ.
  if (JSON.stringify(actual.machine) !== JSON.stringify(expected.machine)) {
    const a = canonicalJson(actual.machine), e = canonicalJson(expected.machine);
    if (a !== e) return `machine snapshot ${clip(a)}, expected ${clip(e)}`;
  }
  if (
    actual.config !== expected.config &&
    JSON.stringify(actual.config) !== JSON.stringify(expected.config)
  ) {
    const ac = canonicalJson(actual.config), ec = canonicalJson(expected.config);
    if (ac !== ec) return `configuration ${clip(ac)}, expected ${clip(ec)}`;
  }
  return undefined;
}

/** Checks published outputs against the reference as they are published. */
export class OutputChecker {
  readonly #ref: Pick<Reference, "outputs">;
  readonly #seen = new Set<string>();
  /** Outputs published, duplicates included. */
  published = 0;

  constructor(reference: Pick<Reference, "outputs">) {
    this.#ref = reference;
  }

  /** Checks one published output; returns what is wrong with it, if anything. */
  observe(id: string | undefined, data: Uint8Array): string | undefined {
    this.published++;
    if (id === undefined) {
      return `an output without a Nats-Msg-Id header (${data.byteLength} bytes)`;
    }
    const expected = this.#ref.outputs.get(id);
    if (expected === undefined) return `output "${id}" is not one a fault-free run publishes`;
    this.#seen.add(id);
    if (bytesEqual(data, expected)) return undefined;
    const second = this.#ref.outputs.get(id + AGAIN);
    if (second !== undefined && bytesEqual(data, second)) return undefined;
    const at = firstDifference(data, expected);
    if (at !== undefined) {
      return `output "${id}" differs from the fault-free run's at byte ${at} (${data.byteLength} vs ${expected.byteLength} bytes)`;
    }
    return undefined;
  }

  /** Reference outputs never published, in reference order. */
  missing(): string[] {
    const out: string[] = [];
    for (const id of this.#ref.outputs.keys()) {
      if (!this.#seen.has(id) && !id.endsWith(AGAIN)) out.push(id);
    }
    return out;
  }
}

/** The index of the first differing byte, or undefined when equal. */
function firstDifference(a: Uint8Array, b: Uint8Array): number | undefined {
  const n = Math.min(a.byteLength, b.byteLength);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.byteLength === b.byteLength ? undefined : n;
}

/** JSON with object keys sorted, so that equal values print equal. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === "object" && !Array.isArray(v) && !(v instanceof Uint8Array)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v as Record<string, unknown>).sort()) {
        sorted[k] = (v as Record<string, unknown>)[k];
      }
      return sorted;
    }
    return v;
  });
}

function clip(s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}
