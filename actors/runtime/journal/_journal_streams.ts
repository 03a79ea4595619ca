/**
 * The file journal's streams, each numbered as it is first met: a segment's table of the streams
 * it holds (`_segment_streams.ts`) keeps their numbers rather than their names, so that a segment
 * of a host of 400,000 instances costs a few numbers a stream rather than a table entry and an
 * object. Private to the file journal.
 */

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

  /** The stream named `name`, when registered. */
  get(name: string): StreamState | undefined {
    return this.#byName.get(name);
  }

  /** The stream numbered `id`. */
  byId(id: number): StreamState {
    return this.#byId[id]!;
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

  /** Every registered stream's name, in the order they were registered. */
  names(): string[] {
    return [...this.#byName.keys()];
  }
}

/** A stream not registered yet (number -1, position 0). */
export function unregistered(name: string, utf8?: Uint8Array): StreamState {
  return { name, id: -1, last: 0, utf8, rows: undefined, row: -1 };
}
