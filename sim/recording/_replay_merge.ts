/**
 * The merge of a threaded replay's outputs (_replay_threads.ts): each worker sends back its
 * outputs tagged with the index of the input that caused them, and they are handed on in the order
 * one host would have published them in: by input, and within an input in the order the host
 * applies its instances (the route's order for a frame, the order the instances were created in
 * for a control message to a whole kind).
 */
import { SUBJECT_ROOT } from "../../protocol/mod.ts";
import type { BatchEntry } from "./_replay_batch.ts";

const OUT_PREFIX_LENGTH = `${SUBJECT_ROOT}.out.`.length;

/** What the merge reads of a worker: the outputs it sent, and how far it is caught up. */
export interface MergeQueue {
  /** Outputs received and not yet merged, from `head` on. */
  queue: BatchEntry[];
  head: number;
  /** Every input up to this index that this worker was sent is applied and its outputs are here. */
  through: number;
}

/** Orders the outputs of a replay's workers into one host's order. */
export class OutputMerge {
  /** Every instance, in the order a single host would have created it. */
  readonly rank = new Map<string, number>();
  readonly #queues: readonly MergeQueue[];
  readonly #onOutput: (subject: string, data: Uint8Array) => void;
  /** Inputs sent to several workers, and how to order their outputs (null: by `rank`). */
  readonly #multi: Array<{ index: number; order: Map<string, number> | null }> = [];
  #multiHead = 0;
  readonly #streamOf = new Map<string, string>();

  constructor(
    queues: readonly MergeQueue[],
    onOutput: (subject: string, data: Uint8Array) => void,
  ) {
    this.#queues = queues;
    this.#onOutput = onOutput;
  }

  /** Ranks `stream` after every instance seen so far, if it is new. */
  created(stream: string): void {
    if (!this.rank.has(stream)) this.rank.set(stream, this.rank.size);
  }

  /** Input `index` went to several workers: `order` ranks its instances (null: by creation). */
  several(index: number, order: Map<string, number> | null): void {
    this.#multi.push({ index, order });
  }

  /** Hands on, in order, every output of the inputs that all workers have applied. */
  merge(): void {
    let through = Infinity;
    for (const w of this.#queues) if (w.through < through) through = w.through;
    while (true) {
      // The smallest input index at the head of a queue, if it is final.
      let index = Infinity;
      let from = -1, count = 0;
      for (let i = 0; i < this.#queues.length; i++) {
        const w = this.#queues[i]!;
        if (w.head >= w.queue.length) continue;
        const x = w.queue[w.head]!.index;
        if (x < index) (index = x, from = i, count = 1);
        else if (x === index) count++;
      }
      if (from < 0 || index > through) break;
      if (count === 1) {
        const w = this.#queues[from]!;
        while (w.head < w.queue.length && w.queue[w.head]!.index === index) {
          const e = w.queue[w.head++]!;
          this.#onOutput(e.subject, e.data);
        }
      } else {
        const entries: BatchEntry[] = [];
        for (const w of this.#queues) {
          while (w.head < w.queue.length && w.queue[w.head]!.index === index) {
            entries.push(w.queue[w.head++]!);
          }
        }
        const rankOf = this.#orderOf(index);
        const ranked = entries.map((e, i) => ({ e, r: rankOf(this.#stream(e.subject)), i }));
        ranked.sort((a, b) => a.r - b.r || a.i - b.i);
        for (const { e } of ranked) this.#onOutput(e.subject, e.data);
      }
    }
    for (const w of this.#queues) {
      if (w.head >= w.queue.length) (w.queue = [], w.head = 0);
      else if (w.head > 4096) (w.queue = w.queue.slice(w.head), w.head = 0);
    }
    while (this.#multiHead < this.#multi.length && this.#multi[this.#multiHead]!.index <= through) {
      this.#multiHead++;
    }
    if (this.#multiHead > 1024) {
      this.#multi.splice(0, this.#multiHead);
      this.#multiHead = 0;
    }
  }

  /** How the outputs of input `index` from several workers are ordered. */
  #orderOf(index: number): (stream: string) => number {
    let m = this.#multiHead;
    while (m < this.#multi.length && this.#multi[m]!.index < index) m++;
    const entry = this.#multi[m];
    if (entry && entry.index === index && entry.order) {
      const order = entry.order;
      return (s) => order.get(s) ?? Infinity;
    }
    return (s) => this.rank.get(s) ?? Infinity;
  }

  /** `kind/key` of an output subject `troupe.out.<kind>.<key>`. */
  #stream(subject: string): string {
    let s = this.#streamOf.get(subject);
    if (s === undefined) {
      const dot = subject.indexOf(".", OUT_PREFIX_LENGTH);
      s = dot < 0 ? subject : `${subject.slice(OUT_PREFIX_LENGTH, dot)}/${subject.slice(dot + 1)}`;
      if (this.#streamOf.size >= 100_000) this.#streamOf.clear();
      this.#streamOf.set(subject, s);
    }
    return s;
  }
}
