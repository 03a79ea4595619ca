/**
 * The file journal's queue of writes: batches of appended bytes handed to the runtime's I/O
 * threads (`fs.write`), one at a time in append order, so that the appending thread only copies
 * records into a buffer. It keeps the pool of write buffers (at most `buffersMax` wait for the
 * disk; past that, the waiting batches are written on the calling thread, so a slow disk slows
 * appends instead of growing memory), counts the bytes handed over and the prefix of them that is
 * written, and wakes whoever waits for a prefix. Private to the file journal.
 */
import { write as fsWrite, writeSync } from "node:fs";

/** A batch handed to the disk: `n` bytes of `buf` at offset `at` of file `fd`. */
interface Batch {
  fd: number;
  buf: Uint8Array;
  n: number;
  at: number;
  /** The queue's byte count (`submitted`) once this batch is written. */
  end: number;
  /** A pool buffer (returned to the pool when written), not a one-off for an oversize record. */
  pooled: boolean;
  done: boolean;
}

/** What the queue asks of its journal. */
export interface WriteQueueOwner {
  /** The journal's first failure, if any: nothing more is written after it. */
  failed(): Error | undefined;
  /** Whether the journal is stopped (closed or crashed). */
  closed(): boolean;
  /** Records a failure (the first one counts) and returns the journal's failure. */
  fail(err: Error, what: string): Error;
}

/** Ordered background writes of a journal's batches. */
export class WriteQueue {
  readonly #owner: WriteQueueOwner;
  /** Free write buffers, and how many more may be allocated. */
  #pool: Uint8Array[] = [];
  #poolLeft: number;
  readonly #poolMax: number;
  /** Bytes handed to the disk since open, over all files, and the prefix of them written. */
  submitted = 0;
  written = 0;
  /** Batches handed to the disk and not yet written, oldest first; the first may be in flight. */
  #batches: Batch[] = [];
  /** The batch an I/O thread is writing. */
  #inflight: Batch | undefined;
  #writeWaiters: { upTo: number; resolve: () => void }[] = [];
  #idleWaiters: (() => void)[] = [];

  /** A batch of at most this many bytes, with nothing else waiting, is written on this thread. */
  readonly #inlineMax: number;

  constructor(owner: WriteQueueOwner, buffersMax: number, inlineBytesMax = 0) {
    this.#owner = owner;
    this.#inlineMax = inlineBytesMax;
    this.#poolMax = buffersMax;
    this.#poolLeft = buffersMax;
  }

  /**
   * A free buffer of `size` bytes; when the pool is spent, the waiting batches are written here.
   */
  takeBuffer(size: number): Uint8Array {
    const pooled = this.#pool.pop();
    if (pooled) return pooled;
    if (this.#poolLeft > 0) {
      this.#poolLeft--;
      return new Uint8Array(size);
    }
    // The disk is behind: write what waits (all but the batch in flight) on this thread.
    const waiting = this.#batches.filter((b) => !b.done && b !== this.#inflight);
    for (const batch of waiting) {
      try {
        writeAll(batch.fd, batch.buf.subarray(0, batch.n), batch.at);
      } catch (err) {
        throw this.#owner.fail(err as Error, "write");
      }
      this.#markWritten(batch);
    }
    return this.#pool.pop() ?? new Uint8Array(size);
  }

  /**
   * Writes every batch not yet written on this thread, before returning: what must outlive the
   * process at once. The batch an I/O thread is writing is written here as well (the same bytes
   * at the same place) but left to its own write to finish, which alone may give its buffer back.
   */
  writeWaitingNow(): void {
    if (this.#owner.failed()) return;
    for (const batch of [...this.#batches]) {
      if (batch.done) continue;
      try {
        writeAll(batch.fd, batch.buf.subarray(0, batch.n), batch.at);
      } catch (err) {
        this.#owner.fail(err as Error, "write");
        this.wakeWriters();
        return;
      }
      if (batch !== this.#inflight) this.#markWritten(batch);
    }
  }

  /** Queues `n` bytes of `buf` at offset `at` of file `fd`. */
  submit(fd: number, buf: Uint8Array, n: number, at: number, pooled: boolean): void {
    this.submitted += n;
    const batch = { fd, buf, n, at, end: this.submitted, pooled, done: false };
    this.#batches.push(batch);
    if (this.#inflight) return;
    if (n <= this.#inlineMax && this.#batches.length === 1) {
      if (this.#owner.failed()) return;
      try {
        writeAll(fd, buf.subarray(0, n), at);
      } catch (err) {
        // As a failed background write: the journal refuses what comes after.
        this.#owner.fail(err as Error, "write");
        this.wakeWriters();
        return;
      }
      this.#markWritten(batch);
      return;
    }
    this.#startWrite();
  }

  /**
   * Resolves once the first `upTo` bytes handed to the disk are written, or when they never will
   * be: a write failed, or the journal stopped (a crash drops the batches still waiting).
   */
  writtenUpTo(upTo: number): Promise<void> {
    if (this.written >= upTo || this.#owner.failed() || this.#owner.closed()) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#writeWaiters.push({ upTo, resolve }));
  }

  /** Resolves once no write is in flight: before a file is closed. */
  idle(): Promise<void> {
    if (!this.#inflight) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Drops the batches still waiting, as a crash does; the one in flight was the system's. */
  crash(): void {
    this.#batches = this.#inflight ? [this.#inflight] : [];
  }

  /** Wakes the waiters whose bytes are written, or that will never be (failed, stopped). */
  wakeWriters(): void {
    if (this.#writeWaiters.length === 0) return;
    const waiting = this.#writeWaiters;
    this.#writeWaiters = [];
    const gone = this.#owner.failed() !== undefined || this.#owner.closed();
    for (const w of waiting) {
      if (this.written >= w.upTo || gone) w.resolve();
      else this.#writeWaiters.push(w);
    }
  }

  /** Starts writing the oldest waiting batch on an I/O thread. */
  #startWrite(): void {
    const batch = this.#batches.find((b) => !b.done);
    if (!batch || this.#owner.failed()) return;
    this.#inflight = batch;
    let done = 0;
    const onWritten = (err: Error | null, bytes: number) => {
      this.#inflight = undefined;
      if (err) {
        this.#owner.fail(err, "write");
        this.wakeWriters();
        this.#wakeIdle();
        return;
      }
      if (bytes < batch.n - done) {
        // A short write: the rest goes on from where it stopped.
        done += bytes;
        this.#inflight = batch;
        fsWrite(batch.fd, batch.buf, done, batch.n - done, batch.at + done, onWritten);
        return;
      }
      if (!batch.done) this.#markWritten(batch);
      this.#startWrite();
      if (!this.#inflight) this.#wakeIdle();
    };
    fsWrite(batch.fd, batch.buf, 0, batch.n, batch.at, onWritten);
  }

  /** Marks a batch written, advances the written prefix and wakes who waits for it. */
  #markWritten(batch: Batch): void {
    batch.done = true;
    // Its bytes are in the file: the buffer may take appends again.
    if (batch.pooled && this.#pool.length < this.#poolMax) this.#pool.push(batch.buf);
    while (this.#batches.length > 0 && this.#batches[0]!.done) {
      this.written = this.#batches.shift()!.end;
    }
    this.wakeWriters();
  }

  #wakeIdle(): void {
    const waiting = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiting) resolve();
  }
}

/** Writes all of `bytes` at `position` of `fd`, on this thread. */
export function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  let done = 0;
  while (done < bytes.length) {
    done += writeSync(fd, bytes, done, bytes.length - done, position + done);
  }
}
