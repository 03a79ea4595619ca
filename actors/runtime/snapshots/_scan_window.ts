/**
 * A window moved over a packed store's segment file as opening scans it (packed_snapshot_store.ts):
 * the bytes of the record being scanned, read with positioned reads into memory reused from one
 * window to the next and from one segment to the next. Opening reads every byte of every segment
 * once and keeps none of them: a start's loads read their records again, each where it lies.
 */
import { readAt } from "../../files/mod.ts";
import { RECORD_HEAD, recordSize } from "./_packed_record.ts";

/**
 * The bytes a window reads at once: 4 MiB, sixteen reads a 64 MiB segment (a read's call is
 * nothing beside its bytes), memory touched once for a whole start; a record larger than it gets
 * a window of its own size.
 */
export const SCAN_WINDOW_BYTES = 4 << 20;

/** A window over one segment file at a time (`over`), holding a record at a time (`record`). */
export class ScanWindow {
  #buf = new Uint8Array(0);
  #fd = -1;
  #size = 0;
  /** The segment's offset of `bytes[0]`. */
  base = 0;
  /** The bytes held, from `base` on. */
  bytes: Uint8Array = this.#buf;
  /** A view of `bytes`. */
  view: DataView = new DataView(this.#buf.buffer);

  /** Moves the window to the file `fd` of `size` bytes, holding none of it yet. */
  over(fd: number, size: number): void {
    this.#fd = fd;
    this.#size = size;
    this.base = 0;
    this.bytes = this.#buf.subarray(0, 0);
  }

  /**
   * Holds the record at the segment's offset `at`: its header, then its bytes as the header sizes
   * them, as far as the segment goes (fewer when it is cut short); returns its offset in `bytes`.
   */
  record(at: number): number {
    this.#hold(at, at + RECORD_HEAD);
    if (this.bytes.length - (at - this.base) >= RECORD_HEAD) {
      this.#hold(at, at + recordSize(this.view, at - this.base));
    }
    return at - this.base;
  }

  /** Holds the segment's bytes from `at` to `end` (to its end, when that is sooner). */
  #hold(at: number, end: number): void {
    end = Math.min(end, this.#size);
    if (at >= this.base && end <= this.base + this.bytes.length) return;
    const want = Math.max(end - at, Math.min(SCAN_WINDOW_BYTES, this.#size - at));
    if (want > this.#buf.length) this.#buf = new Uint8Array(want);
    const got = readAt(this.#fd, this.#buf, want, at);
    this.base = at;
    this.bytes = this.#buf.subarray(0, got);
    this.view = new DataView(this.#buf.buffer, 0, got);
  }
}
