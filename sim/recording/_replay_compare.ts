/**
 * Verifying a replay: its outputs compared with the recorded ones, per subject and lane (an
 * instance's columns, its machine's outputs: _output_lane.ts) and in order, byte for byte; the
 * first that differs (or is missing, or extra) is named, with the first field of its decoded value
 * that differs.
 */
import {
  anomalyEdgesBytes,
  anomalyViewlessBytes,
  bytesEqual,
  currentEventBytes,
  decodeValue,
} from "../../protocol/mod.ts";

/**
 * Whether a recorded output written in an older format is, in today's, the replayed one: an event
 * whose body was renamed since (protocol/events/), an anomaly event from before the events named
 * their view, or anomaly columns with the band as its edges (the older form;
 * protocol/anomaly_columns.ts): the replayed output gives the last two bit for bit in their old
 * form. Tried only when the bytes differ, so a recording of today's format pays nothing.
 */
function sameInCurrentFormat(recorded: Uint8Array, replayed: Uint8Array): boolean {
  const current = currentEventBytes(recorded);
  if (current !== undefined) return bytesEqual(current, replayed);
  const older = anomalyViewlessBytes(replayed) ?? anomalyEdgesBytes(replayed);
  return older !== undefined && bytesEqual(older, recorded);
}
import { jsonable } from "./_replay_inspect.ts";
import { type OutputLane, outputLane } from "./_output_lane.ts";

/** The first output that differs, or is missing, or is extra. */
export interface ReplayMismatch {
  kind: "different" | "missing" | "extra";
  subject: string;
  /**
   * The lane the index counts in, given where the subject carries outputs of both (else the
   * index counts every output on the subject, all of one lane).
   */
  lane?: OutputLane;
  /** The output's 0-based index among the outputs of its lane on its subject. */
  index: number;
  /**
   * The id of the recorded output (missing, different) and of the replayed one (extra, different).
   */
  recordedId: string | undefined;
  replayedId: string | undefined;
  /** What differs: `body.mean: recorded 1.5, replayed 1.25`. */
  detail: string;
}

/** What `verify` found. */
export interface ReplayVerification {
  ok: boolean;
  /** Outputs compared and equal. */
  equal: number;
  /**
   * Of the equal, those recorded in an older format (sameInCurrentFormat): equal once both are
   * written in one, not byte for byte.
   */
  olderFormat: number;
  different: number;
  /** Recorded outputs the replay did not produce, and replayed outputs the recording lacks. */
  missing: number;
  extra: number;
  /**
   * Extra outputs that may have been lost to a cut at the end of the recording, or that its
   * recorder stopped waiting for (`outputsCut`).
   */
  unverifiable: number;
  /** The recording's trailer says its recorder stopped waiting for the last inputs' outputs. */
  outputsCut: boolean;
  /** Repeated recorded outputs (an at-least-once redelivery seen by the recorder), skipped. */
  duplicates: number;
  first: ReplayMismatch | undefined;
  /** Intact records (and outputs among them) after damage in the recording, never read nor
   *  compared: a verification with any fails. Undefined when every record was read. */
  unread: { records: number; outputs: number; offset: number; reason: string } | undefined;
  /**
   * A recording of format 3 or later without its trailer (cut, or its writer died): the records
   * and bytes it held. A verification with one fails unless it was `accepted`
   * (`acceptUnclosed`). Undefined for a whole recording, and for format 2 (which cannot tell).
   */
  unclosed: { records: number; bytes: number; accepted: boolean } | undefined;
}

/**
 * `v` with a recording's missing trailer: a recording that does not say it was closed fails the
 * verification unless `accept` (its writer is known to have died) is given.
 */
export function withUnclosed(
  v: ReplayVerification,
  unclosed: { records: number; bytes: number } | undefined,
  accept: boolean,
): ReplayVerification {
  if (!unclosed) return v;
  return { ...v, ok: v.ok && accept, unclosed: { ...unclosed, accepted: accept } };
}

/**
 * `v` with what a damaged recording left unread: damage followed by intact records (not a torn
 * tail) fails the verification, however many outputs compared equal before it.
 */
export function withUnread(
  v: ReplayVerification,
  cut: { offset: number; reason: string; unread: { records: number; outputs: number } } | undefined,
): ReplayVerification {
  if (!cut || cut.unread.records === 0) return v;
  const { records, outputs } = cut.unread;
  return { ...v, ok: false, unread: { records, outputs, offset: cut.offset, reason: cut.reason } };
}

interface Pending {
  data: Uint8Array;
  /** Record index (recorded outputs) or arrival order (replayed ones). */
  order: number;
}

/** One lane of one subject: its outputs compared in order. */
interface LaneState {
  subject: string;
  lane: OutputLane;
  recorded: Pending[];
  replayed: Pending[];
  /** Outputs compared in this lane so far. */
  matched: number;
  /** The latest recorded outputs by a hash of their bytes, oldest first (RECENT_OUTPUTS_MAX). */
  recent: Map<number, Uint8Array[]>;
  recentCount: number;
  recentOrder: number[];
}

/** A subject's lanes, each made when its first output comes. */
interface SubjectLanes {
  columns?: LaneState;
  machine?: LaneState;
}

/**
 * Recorded outputs per subject and lane remembered to recognise a repeat: a host restarted after
 * a crash publishes again what it had published since its last acknowledged input, a few hundred
 * outputs back at most, so a repeat is not only the output right before.
 */
const RECENT_OUTPUTS_MAX = 8192;

/** FNV-1a over the bytes: a key to find earlier equal outputs (equality is then checked). */
function bytesHash(data: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < data.length; i++) h = Math.imul(h ^ data[i]!, 0x01000193);
  return h >>> 0;
}

/**
 * Compares outputs per subject and lane, in order: an instance publishes each lane of its outputs
 * in the order of its inputs on its own subject, while its two lanes, and the outputs of different
 * instances, may interleave differently.
 */
export class OutputComparator {
  #subjects = new Map<string, SubjectLanes>();
  #replayedOrder = 0;
  #first: ReplayMismatch | undefined;
  /** The lane of the first output that differs. */
  #firstLane: LaneState | undefined;
  #different = 0;
  #olderFormat = 0;
  #equal = 0;
  #duplicates = 0;
  /** Recorded outputs not yet matched by a replayed one. */
  waiting = 0;

  #state(subject: string, data: Uint8Array): LaneState {
    let lanes = this.#subjects.get(subject);
    if (!lanes) {
      lanes = {};
      this.#subjects.set(subject, lanes);
    }
    const lane = outputLane(data);
    return lanes[lane] ??= {
      subject,
      lane,
      recorded: [],
      replayed: [],
      matched: 0,
      recent: new Map(),
      recentCount: 0,
      recentOrder: [],
    };
  }

  recorded(subject: string, data: Uint8Array, index: number): void {
    const s = this.#state(subject, data);
    // The recorder saw the same output twice (a redelivery, or a restarted host publishing again
    // what it had published): its id is unique, so equal bytes repeat it.
    const h = bytesHash(data);
    const same = s.recent.get(h);
    if (same?.some((d) => bytesEqual(d, data))) {
      this.#duplicates++;
      return;
    }
    remember(s, h, data);
    const other = s.replayed.shift();
    if (other) this.#compare(s, data, other.data);
    else {
      s.recorded.push({ data, order: index });
      this.waiting++;
    }
  }

  replayed(subject: string, data: Uint8Array): void {
    const s = this.#state(subject, data);
    const other = s.recorded.shift();
    if (other) {
      this.waiting--;
      this.#compare(s, other.data, data);
    } else s.replayed.push({ data, order: this.#replayedOrder++ });
  }

  #compare(s: LaneState, recorded: Uint8Array, replayed: Uint8Array) {
    const index = s.matched++;
    if (bytesEqual(recorded, replayed)) {
      this.#equal++;
      return;
    }
    if (sameInCurrentFormat(recorded, replayed)) {
      this.#equal++;
      this.#olderFormat++;
      return;
    }
    this.#different++;
    if (!this.#first) {
      const a = safeDecode(recorded), b = safeDecode(replayed);
      this.#firstLane = s;
      this.#first = {
        kind: "different",
        subject: s.subject,
        index,
        recordedId: idOf(a),
        replayedId: idOf(b),
        detail: firstDifference(a, b, "") ?? "the bytes differ, the decoded values do not",
      };
    }
  }

  /**
   * The verdict. `cut`: the recording stopped short, so outputs past its end cannot be checked;
   * `outputsCut`: its recorder stopped waiting for the last inputs' outputs, so those past each
   * lane's last recorded output cannot be either.
   */
  finish(cut: boolean, outputsCut = false): ReplayVerification {
    let missing = 0, extra = 0, unverifiable = 0;
    // The lanes whose first recorded (replayed) output left unmatched came first.
    let firstMissing: LaneState | undefined, firstExtra: LaneState | undefined;
    for (const lanes of this.#subjects.values()) {
      for (const s of [lanes.columns, lanes.machine]) {
        if (s === undefined) continue;
        missing += s.recorded.length;
        const m = s.recorded[0];
        if (m && (!firstMissing || m.order < firstMissing.recorded[0]!.order)) firstMissing = s;
        if (cut || outputsCut) {
          unverifiable += s.replayed.length;
          continue;
        }
        extra += s.replayed.length;
        const e = s.replayed[0];
        if (e && (!firstExtra || e.order < firstExtra.replayed[0]!.order)) firstExtra = s;
      }
    }
    const different = this.#first && this.#withLane(this.#first, this.#firstLane!);
    const first = different ?? (firstMissing && this.#leftOver("missing", firstMissing)) ??
      (firstExtra && this.#leftOver("extra", firstExtra));
    return {
      ok: this.#different === 0 && missing === 0 && extra === 0,
      equal: this.#equal,
      olderFormat: this.#olderFormat,
      different: this.#different,
      missing,
      extra,
      unverifiable,
      outputsCut,
      duplicates: this.#duplicates,
      first,
      unread: undefined,
      unclosed: undefined,
    };
  }

  /** The first output left unmatched in lane `s`: recorded (missing) or replayed (extra). */
  #leftOver(kind: "missing" | "extra", s: LaneState): ReplayMismatch {
    const left = kind === "missing" ? s.recorded : s.replayed;
    const id = idOf(safeDecode(left[0]!.data));
    const n = left.length;
    const outputs = `${this.#bothLanes(s.subject) ? `${laneNoun(s.lane)} ` : ""}output(s)`;
    return this.#withLane({
      kind,
      subject: s.subject,
      index: s.matched,
      recordedId: kind === "missing" ? id : undefined,
      replayedId: kind === "extra" ? id : undefined,
      detail: kind === "missing"
        ? `the recording has ${n} more ${outputs} on this subject than the replay produced`
        : `the replay produced ${n} ${outputs} on this subject that the recording does not have`,
    }, s);
  }

  /** `m` naming its lane where its subject carries outputs of both. */
  #withLane(m: ReplayMismatch, s: LaneState): ReplayMismatch {
    return this.#bothLanes(s.subject) ? { ...m, lane: s.lane } : m;
  }

  #bothLanes(subject: string): boolean {
    const lanes = this.#subjects.get(subject);
    return lanes?.columns !== undefined && lanes.machine !== undefined;
  }
}

/** `column` or `machine`, as a word before "output". */
function laneNoun(lane: OutputLane): string {
  return lane === "columns" ? "column" : "machine";
}

/**
 * Where a mismatch is: `output 20 on <subject>`, or, where the subject carries outputs of both
 * lanes (its index then counts in one), `column output 20 on <subject>`.
 */
export function mismatchPlace(m: ReplayMismatch): string {
  return `${m.lane ? `${laneNoun(m.lane)} ` : ""}output ${m.index} on ${m.subject}`;
}

function safeDecode(data: Uint8Array): unknown {
  try {
    return decodeValue(data);
  } catch {
    return data;
  }
}

function idOf(value: unknown): string | undefined {
  const id = (value as { id?: unknown } | null)?.id;
  return typeof id === "string" ? id : undefined;
}

/** The path and values of the first difference between two decoded values, or undefined. */
function firstDifference(a: unknown, b: unknown, path: string): string | undefined {
  const at = path || "message";
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array && b instanceof Uint8Array)) {
      return `${at}: recorded ${show(a)}, replayed ${show(b)}`;
    }
    if (bytesEqual(a, b)) return undefined;
    if (a.byteLength !== b.byteLength) {
      return `${at}: recorded ${a.byteLength} bytes, replayed ${b.byteLength} bytes`;
    }
    let i = 0;
    while (a[i] === b[i]) i++;
    if (a.byteLength % 8 === 0) {
      const k = i >>> 3;
      const va = new DataView(a.buffer, a.byteOffset + k * 8, 8).getFloat64(0, true);
      const vb = new DataView(b.buffer, b.byteOffset + k * 8, 8).getFloat64(0, true);
      return `${at}[${k}] (8-byte values): recorded ${va}, replayed ${vb}`;
    }
    return `${at}: byte ${i} differs: recorded ${a[i]}, replayed ${b[i]}`;
  }
  if (a !== null && b !== null && typeof a === "object" && typeof b === "object") {
    if (Array.isArray(a) !== Array.isArray(b)) {
      return `${at}: recorded ${show(a)}, replayed ${show(b)}`;
    }
    const ka = Object.keys(a), kb = Object.keys(b);
    for (const k of ka) {
      if (!(k in b)) {
        return `${path ? `${path}.` : ""}${k}: recorded ${
          show((a as Record<string, unknown>)[k])
        }, replayed absent`;
      }
      const d = firstDifference(
        (a as Record<string, unknown>)[k],
        (b as Record<string, unknown>)[k],
        path ? `${path}.${k}` : k,
      );
      if (d) return d;
    }
    for (const k of kb) {
      if (!(k in a)) {
        return `${path ? `${path}.` : ""}${k}: recorded absent, replayed ${
          show((b as Record<string, unknown>)[k])
        }`;
      }
    }
    if (ka.join() !== kb.join()) return `${at}: the fields come in another order`;
    return undefined;
  }
  if (Object.is(a, b)) return undefined;
  if (typeof a === "number" && typeof b === "number" && a === b) {
    return `${at}: ${a} encoded differently`;
  }
  return `${at}: recorded ${show(a)}, replayed ${show(b)}`;
}

function show(v: unknown): string {
  if (v instanceof Uint8Array) return `${v.byteLength} bytes`;
  if (typeof v === "string") return JSON.stringify(v.length > 80 ? `${v.slice(0, 77)}...` : v);
  if (typeof v === "number" || typeof v === "boolean" || v === null || v === undefined) {
    return String(v);
  }
  const s = JSON.stringify(jsonable(v));
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** Adds a recorded output to its lane's recent ones, forgetting the oldest past the bound. */
function remember(s: LaneState, h: number, data: Uint8Array): void {
  const list = s.recent.get(h);
  if (list) list.push(data);
  else s.recent.set(h, [data]);
  s.recentOrder.push(h);
  if (++s.recentCount <= RECENT_OUTPUTS_MAX) return;
  const old = s.recentOrder.shift()!;
  const olds = s.recent.get(old)!;
  olds.shift();
  if (olds.length === 0) s.recent.delete(old);
  s.recentCount--;
}
