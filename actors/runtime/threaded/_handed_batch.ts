/**
 * The frames the main thread of a threaded host (threaded_host.ts) gathers for one host thread
 * between two posts, copied into as few buffers as will hold them, to be transferred with the
 * post. A frame's bytes must be copied before they are transferred (the client's message is a
 * view of its read buffer), and a buffer of their own for each frame cost an ArrayBuffer a frame
 * on both sides, which V8 frees only in a collection: with frames of ~8 KB that was most of the
 * edge's garbage. Here a batch's frames share one buffer, sized from the batch before (a lone
 * frame of one sample gets a small one), each frame at an offset that is a multiple of 8, so that
 * its bytes are aligned as they were at the start of a buffer of their own.
 */
import type { HandedFrames } from "./_host_thread_wire.ts";

/** The largest buffer made in advance for a batch: a frame larger than this gets its own size. */
export const HANDED_BUFFER_BYTES_MAX = 1 << 20;

/** Frames gathered for a thread until they are taken to be posted. */
export class HandedBatch {
  #subjects: string[] = [];
  #data: Array<Uint8Array<ArrayBuffer>> = [];
  #buffers: ArrayBuffer[] = [];
  /** The buffer frames are copied into, and the bytes of it used. */
  #bytes: Uint8Array<ArrayBuffer> | undefined;
  #used = 0;
  /** The bytes the batch holds, and the last taken batch held. */
  #total = 0;
  #lastTotal = 0;

  /** Frames in the batch. */
  get size(): number {
    return this.#subjects.length;
  }

  /** Adds a copy of `data`, a frame of `subject`. */
  add(subject: string, data: Uint8Array): void {
    const len = data.length;
    let at = (this.#used + 7) & ~7;
    if (this.#bytes === undefined || at + len > this.#bytes.length) {
      const hint = Math.min(HANDED_BUFFER_BYTES_MAX, this.#lastTotal - this.#total);
      this.#bytes = new Uint8Array((Math.max(len, hint, 64) + 7) & ~7);
      this.#buffers.push(this.#bytes.buffer);
      at = 0;
    }
    const copy = this.#bytes.subarray(at, at + len);
    copy.set(data);
    this.#used = at + len;
    this.#total += len;
    this.#subjects.push(subject);
    this.#data.push(copy);
  }

  /** The batch to post and the buffers to transfer with it; the batch is then empty. */
  take(): { frames: HandedFrames; transfer: ArrayBuffer[] } {
    const out = { frames: { s: this.#subjects, d: this.#data }, transfer: this.#buffers };
    this.#subjects = [];
    this.#data = [];
    this.#buffers = [];
    this.#bytes = undefined;
    this.#used = 0;
    // The next batch's first buffer is sized for this one (and its alignment's padding).
    this.#lastTotal = this.#total + 8 * out.frames.s.length;
    this.#total = 0;
    return out;
  }
}
