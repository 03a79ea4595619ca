/**
 * Batches of messages between a replay and its worker threads: many messages in one contiguous,
 * transferable buffer, so a batch costs one postMessage and no per-message cloning. Each entry is
 * a 16-byte head (input index, subject id, byte length, flags; u32 little-endian) and the message
 * bytes, padded to 8 bytes: a message starts 8-byte aligned, so a sample frame's columns (laid out
 * aligned from the message's start) are viewed in place by the receiver. Subjects travel once per
 * direction, as strings in the batch that first uses them, then by their id.
 */

/** The head of an entry: index, subject id, byte length, flags. */
const HEAD_BYTES = 16;

/** An entry of a batch. */
export interface BatchEntry {
  /** The replay's input index (of the input itself, or of the input an output came from). */
  index: number;
  subject: string;
  data: Uint8Array;
  flags: number;
}

/** Writes entries into a growing buffer; `take` hands the buffer over and starts a fresh one. */
export class BatchWriter {
  #buf: ArrayBuffer;
  #bytes: Uint8Array;
  #u32: Uint32Array;
  #used = 0;
  #count = 0;
  /** Subject ids, and the subjects added since the last `take`. */
  readonly #ids = new Map<string, number>();
  #fresh: string[] = [];
  readonly #initialBytes: number;

  constructor(initialBytes = 1 << 16) {
    this.#initialBytes = initialBytes;
    this.#buf = new ArrayBuffer(initialBytes);
    this.#bytes = new Uint8Array(this.#buf);
    this.#u32 = new Uint32Array(this.#buf);
  }

  /** Bytes written since the last `take`. */
  get bytes(): number {
    return this.#used;
  }

  /** Entries written since the last `take`. */
  get count(): number {
    return this.#count;
  }

  append(index: number, subject: string, data: Uint8Array, flags = 0): void {
    let id = this.#ids.get(subject);
    if (id === undefined) {
      id = this.#ids.size;
      this.#ids.set(subject, id);
      this.#fresh.push(subject);
    }
    const need = this.#used + HEAD_BYTES + ((data.byteLength + 7) & ~7);
    if (need > this.#buf.byteLength) this.#grow(need);
    const w = this.#used >>> 2;
    this.#u32[w] = index;
    this.#u32[w + 1] = id;
    this.#u32[w + 2] = data.byteLength;
    this.#u32[w + 3] = flags;
    this.#bytes.set(data, this.#used + HEAD_BYTES);
    this.#used = need;
    this.#count++;
  }

  /**
   * The batch so far (its buffer is the caller's, to transfer), and a fresh buffer for the next.
   */
  take(): { buf: ArrayBuffer; bytes: number; subjects: string[] } {
    if (this.#used === 0 && this.#fresh.length === 0) {
      return { buf: new ArrayBuffer(0), bytes: 0, subjects: [] }; // keeps its buffer
    }
    const out = { buf: this.#buf, bytes: this.#used, subjects: this.#fresh };
    // The next batch is likely the size of this one.
    const size = Math.max(this.#initialBytes, Math.min(this.#buf.byteLength, this.#used * 2));
    this.#buf = new ArrayBuffer(size);
    this.#bytes = new Uint8Array(this.#buf);
    this.#u32 = new Uint32Array(this.#buf);
    this.#used = 0;
    this.#count = 0;
    this.#fresh = [];
    return out;
  }

  #grow(need: number) {
    let size = this.#buf.byteLength * 2;
    while (size < need) size *= 2;
    const buf = new ArrayBuffer(size);
    const bytes = new Uint8Array(buf);
    bytes.set(this.#bytes.subarray(0, this.#used));
    this.#buf = buf;
    this.#bytes = bytes;
    this.#u32 = new Uint32Array(buf);
  }
}

/** Reads the batches of one writer, in order: keeps the subjects they introduced. */
export class BatchReader {
  readonly #subjects: string[] = [];

  /** The entries of a batch; their `data` are views into `buf`. */
  read(batch: { buf: ArrayBuffer; bytes: number; subjects: string[] }): BatchEntry[] {
    for (const s of batch.subjects) this.#subjects.push(s);
    const out: BatchEntry[] = [];
    const u32 = new Uint32Array(batch.buf, 0, batch.bytes >>> 2);
    let p = 0;
    while (p < batch.bytes) {
      const w = p >>> 2;
      const length = u32[w + 2]!;
      const subject = this.#subjects[u32[w + 1]!];
      if (subject === undefined) {
        throw new Error(`Replay batch entry at byte ${p} names subject ${u32[w + 1]}, not sent`);
      }
      out.push({
        index: u32[w]!,
        subject,
        data: new Uint8Array(batch.buf, p + HEAD_BYTES, length),
        flags: u32[w + 3]!,
      });
      p += HEAD_BYTES + ((length + 7) & ~7);
    }
    return out;
  }
}
