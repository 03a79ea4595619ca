/**
 * The head a packed store's start gives of a stream its hint file placed: the hint's fields, and
 * the way to the body (read again when wanted, into the store's reused memory). A class, not an
 * object with two closures over the stream: a fleet host's start makes one for each of its
 * hundreds of thousands of instances, and holds each until the instance is restored. Private to
 * the snapshots folder.
 */
import type { SnapshotHead } from "./snapshot_store.ts";
import type { HintHead } from "./_packed_segment.ts";

/** Where a hinted head's body is read from: its store. */
export interface HintedBodies {
  /** The body of `stream`'s newest snapshot, whose stored CRC is `crc`; throws when it is not. */
  bodyOf(stream: string, crc: number): Uint8Array;
  /** How many bodies the store has read into the memory `bodyOf` gives. */
  reads(): number;
}

/** A stream's head as its hint says, its body read from `bodies` when wanted. */
export class HintedHead implements SnapshotHead {
  readonly stream: string;
  readonly version: number;
  readonly pos: number;
  readonly order: number;
  declare meta?: Record<string, number | string>;
  readonly #crc: number;
  readonly #bodies: HintedBodies;

  constructor(stream: string, hint: HintHead, order: number, bodies: HintedBodies) {
    this.stream = stream;
    this.version = hint.version;
    this.pos = hint.pos;
    this.order = order;
    if (hint.meta !== undefined) this.meta = hint.meta;
    this.#crc = hint.crc;
    this.#bodies = bodies;
  }

  body(): Uint8Array {
    return this.#bodies.bodyOf(this.stream, this.#crc);
  }

  bodyReads(): number {
    return this.#bodies.reads();
  }
}
