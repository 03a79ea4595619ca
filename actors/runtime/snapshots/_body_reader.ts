/**
 * How a start reads its snapshots' bodies again (packed_snapshot_store.ts `#bodyOf`): into one
 * memory reused from read to read, and, where they are asked for in the order they lie in a
 * segment (the background pass takes the dormant in that order, and a fleet's next scrape wakes
 * its channels in about the order a stop wrote them), a window of many records at a time rather
 * than a positioned read each. A record asked for out of order is read alone.
 */
import { readAt } from "../../files/mod.ts";

/**
 * The bytes a window reads ahead: 1 MiB, some 450 bodies of a fleet's channel (2 to 3 KB) in one
 * read, where each read alone is a system call of its own.
 */
export const BODY_WINDOW_BYTES = 1 << 20;

/**
 * How far past the window's end a record may start and still count as read in order: the
 * records between, superseded or another kind's, are read along.
 */
const IN_ORDER_GAP_BYTES = 64 << 10;

/** A segment file as the reader reads it. */
export interface BodyFile {
  fd: number;
  size: number;
}

/** Bodies read into memory reused from one read to the next. */
export class BodyReader {
  #buf = new Uint8Array(1 << 16);
  #file: BodyFile | undefined;
  /** The file's offset of `#buf[0]`, and how many bytes from there it holds. */
  #base = 0;
  #held = 0;
  /** Reads made: the memory a body was given in is written over by the next (`reads` moves). */
  reads = 0;

  /**
   * `len` bytes of `file` at `at`, a view of memory the next read writes over; throws when the
   * file ends before them.
   */
  read(file: BodyFile, at: number, len: number): Uint8Array {
    const end = at + len;
    if (file === this.#file && at >= this.#base && end <= this.#base + this.#held) {
      return this.#buf.subarray(at - this.#base, end - this.#base);
    }
    const inOrder = file === this.#file && at >= this.#base &&
      at - (this.#base + this.#held) <= IN_ORDER_GAP_BYTES;
    const want = inOrder ? Math.max(len, Math.min(BODY_WINDOW_BYTES, file.size - at)) : len;
    if (want > this.#buf.length) this.#buf = new Uint8Array(Math.max(want, 2 * this.#buf.length));
    this.reads++;
    // Nothing held until the read has ended well: a failed one leaves no stale bytes to hit.
    this.#file = undefined;
    const got = readAt(file.fd, this.#buf, want, at);
    if (got < len) throw new Error(`${got} of its ${len} bytes read`);
    this.#file = file;
    this.#base = at;
    this.#held = got;
    return this.#buf.subarray(0, len);
  }
}
