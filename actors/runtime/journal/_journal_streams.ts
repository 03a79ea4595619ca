/**
 * The file journal's streams, each numbered as it is first met: a segment's table of the streams
 * it holds (`_segment_streams.ts`) keeps their numbers rather than their names, so that a segment
 * of a host of 400,000 instances costs a few numbers a stream rather than a table entry and an
 * object. Private to the file journal.
 */
import { bytesEqualAt, keptCopy, keptUtf8 } from "../../../protocol/mod.ts";
import type { StreamMemo } from "./journal.ts";

const utf8 = new TextDecoder();

/** The longest stream name, in UTF-8 bytes. */
export const STREAM_NAME_BYTES_MAX = 1024;

/** What the journal knows of one stream. */
export interface StreamState {
  readonly name: string;
  /** The stream's number in this journal; -1 until it is registered. */
  id: number;
  /** Its last position. */
  last: number;
  /**
   * The name's UTF-8 bytes, made at the stream's first append since open: a host opening a
   * journal of 100,000 streams does not encode every name before it can start.
   */
  utf8: Uint8Array | undefined;
  /**
   * The segment table (`SegmentStreams`) the stream was last given a row in, and that row: an
   * append to the same segment moves the row without looking it up. Cleared when the segment is
   * compacted away, which would otherwise stay in memory for a stream that went quiet.
   */
  rows: object | undefined;
  row: number;
}

/** The journal's streams by name and by number. */
export class JournalStreams {
  #byName = new Map<string, StreamState>();
  #byId: StreamState[] = [];
  /**
   * Streams found by their names' bytes after a wrong guess (`named`), by a hash of those bytes:
   * a cache of `#byName`, filled as such streams are met. A stream met first by its bytes is not
   * put in it (an index read at a start registers every stream that way, in order).
   */
  #byBytes = new Map<number, StreamState | StreamState[]>();
  /** The number `named` tries first: the one after the stream it found last. */
  #next = 0;

  /** The stream named `name`, when registered. */
  get(name: string): StreamState | undefined {
    return this.#byName.get(name);
  }

  /**
   * The stream named `name` as `memo` keeps it for these streams (a stream, once registered, is
   * never dropped), else by its name; undefined when not registered.
   */
  remembered(name: string, memo: StreamMemo | undefined): StreamState | undefined {
    if (memo !== undefined && memo.journal === this) {
      const held = memo.held as StreamState;
      if (held.name === name) return held;
    }
    return this.#byName.get(name);
  }

  /** Keeps the registered stream `state` in `memo`, for `remembered`. */
  remember(memo: StreamMemo, state: StreamState): void {
    memo.journal = this;
    memo.held = state;
  }

  /** How many streams are registered (their numbers run from 0 to one less). */
  get size(): number {
    return this.#byId.length;
  }

  /** The stream numbered `id`. */
  byId(id: number): StreamState {
    return this.#byId[id]!;
  }

  /** Lets go of every stream's row in one of `tables` (see `StreamState.rows`). */
  releaseRows(tables: ReadonlySet<object>): void {
    for (const state of this.#byId) {
      if (state.rows !== undefined && tables.has(state.rows)) state.rows = undefined;
    }
  }

  /** Registers a stream made by `unregistered`, giving it the next number. */
  add(state: StreamState): void {
    state.id = this.#byId.length;
    this.#byId.push(state);
    this.#byName.set(state.name, state);
  }

  /** The stream named `name`, registered when it was not (at position 0). */
  intern(name: string): StreamState {
    let state = this.#byName.get(name);
    if (!state) this.add(state = unregistered(name));
    return state;
  }

  /**
   * The stream whose name's UTF-8 bytes are `buf[at, at + length)`, registered when it was not:
   * how a read of the segments finds each record's stream, a hash and a compare of bytes rather
   * than a string made and then looked up (a journal holds few streams and millions of records).
   */
  named(buf: Uint8Array, at: number, length: number): StreamState {
    // Records and index rows come in the order their streams were first met, more often than
    // not: the stream numbered after the last one found is tried before the name is looked up.
    const guess = this.#byId[this.#next];
    if (guess?.utf8 !== undefined && sameName(guess, buf, at, length)) {
      this.#next = guess.id + 1;
      return guess;
    }
    const state = this.#lookedUp(buf, at, length);
    this.#next = state.id + 1;
    return state;
  }

  /**
   * `named`, found by a hash of the name's bytes among the streams found that way before, else
   * by its name (and registered when it is not there).
   */
  #lookedUp(buf: Uint8Array, at: number, length: number): StreamState {
    // Nothing found by bytes yet (a start reading its indexes, whose guesses all hold): no hash.
    const cached = this.#byBytes.size > 0;
    let h = 0, met: StreamState | StreamState[] | undefined;
    if (cached) {
      h = fnv30(buf, at, length);
      met = this.#byBytes.get(h);
      if (met !== undefined) {
        if (!Array.isArray(met)) {
          if (sameName(met, buf, at, length)) return met;
        } else {
          for (const s of met) if (sameName(s, buf, at, length)) return s;
        }
      }
    }
    const name = utf8.decode(buf.subarray(at, at + length));
    let state = this.#byName.get(name);
    if (state === undefined) {
      // Copied out: `buf` may be a Node Buffer, whose `slice` is a view that would hold the whole
      // file read for as long as the stream is known.
      this.add(state = unregistered(name, keptCopy(buf, at, length)));
      return state;
    }
    state.utf8 ??= keptCopy(buf, at, length);
    if (!cached) h = fnv30(buf, at, length);
    if (met === undefined) this.#byBytes.set(h, state);
    else if (Array.isArray(met)) met.push(state);
    else this.#byBytes.set(h, [met, state]);
    return state;
  }

  /**
   * `positions` by stream number (`unlisted` for a stream it leaves out): what a pass over every
   * segment's streams and records compares with, an array read rather than a name looked up each
   * time.
   */
  byNumber(positions: ReadonlyMap<string, number>, unlisted = 0): Float64Array {
    const out = new Float64Array(this.#byId.length);
    if (unlisted !== 0) out.fill(unlisted);
    for (const [name, pos] of positions) {
      const state = this.#byName.get(name);
      if (state) out[state.id] = pos;
    }
    return out;
  }

  /** Every registered stream's name, in the order they were registered. */
  names(): string[] {
    return [...this.#byName.keys()];
  }

  /** `names()`, and each stream's last position at the same index. */
  lasts(): { streams: string[]; lasts: Float64Array } {
    const byId = this.#byId, streams = new Array<string>(byId.length);
    const lasts = new Float64Array(byId.length);
    for (let id = 0; id < byId.length; id++) {
      streams[id] = byId[id]!.name;
      lasts[id] = byId[id]!.last;
    }
    return { streams, lasts };
  }
}

/** A stream not registered yet (number -1, position 0). */
export function unregistered(name: string, utf8?: Uint8Array): StreamState {
  return { name, id: -1, last: 0, utf8, rows: undefined, row: -1 };
}

/**
 * The FNV-1a hash of `buf[at, at + length)` (seeded with the length), cut to 30 bits: a small
 * integer to V8, a key it hashes without making a number object.
 */
function fnv30(buf: Uint8Array, at: number, length: number): number {
  let h = 0x811c9dc5 ^ length;
  for (let i = at; i < at + length; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return h >>> 2;
}

/** Whether `state`'s name (its bytes, set once it is met by them) is `buf[at, at + length)`. */
function sameName(state: StreamState, buf: Uint8Array, at: number, length: number): boolean {
  return state.utf8!.length === length && bytesEqualAt(state.utf8!, buf, at);
}

/** A stream named `stream`, not registered yet; throws when the name is empty or too long. */
export function newStream(stream: string): StreamState {
  const name = keptUtf8(stream);
  if (name.length === 0 || name.length > STREAM_NAME_BYTES_MAX) {
    throw new RangeError(
      `Cannot append to journal stream ${
        JSON.stringify(stream)
      }: a stream name must be 1 to ${STREAM_NAME_BYTES_MAX} bytes, got ${name.length}`,
    );
  }
  return unregistered(stream, name);
}
