/**
 * The fault-free reference the simulator's invariants are checked against: the same feed folded
 * through fresh actor instances in one pass, with no host, no network and no faults (the outputs a
 * cluster must publish and the state it must end in); the one routing of logged frames to instance
 * streams (InputIndex); and the replay of one instance's journal that the recovery checks fold.
 */
import {
  ActorInstance,
  type AnyActorDefinition,
  type InstanceSnapshot,
  type JournalRecord,
  streamOf,
  VoidedPositions,
} from "../actors/runtime/mod.ts";
import {
  bytesEqual,
  decodeEnvelope,
  decodeFrame,
  decodeInputRecord,
  type InputRecord,
  isSkipRecord,
  isVoidRecord,
  parseSubject,
  skippedPosition,
  voidedRange,
} from "../protocol/mod.ts";
import type {
  Consumed,
  DecodedFrame,
  DecodedLookup,
  LoggedFrame,
  Reference,
} from "./invariants.ts";

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
