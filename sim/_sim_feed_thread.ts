/**
 * A simulation's feed and reference computed by the feed worker (see _sim_feed_worker.ts), pulled
 * as they come: the run takes frames synchronously (it blocks only when the worker is behind) and
 * polls for the reference and the checks' verdicts. A worker that fails or stalls is given up:
 * the run goes on in process (LocalSource), with the same frames and reference.
 */
import process from "node:process";
import {
  MessageChannel,
  type MessagePort,
  receiveMessageOnPort,
  type Worker,
} from "node:worker_threads";
import { startWorker, untilStarted } from "../actors/threads/mod.ts";
import { checkPlanned, feedPlan } from "./_sim_feed_generator.ts";
import { LocalSource } from "./_sim_feed_local.ts";
import type { FeedEntry } from "./_sim_feed_log.ts";
import type {
  CheckOp,
  CheckViolation,
  FeedSource,
  FeedSpec,
  ReferenceOutcome,
  ReferenceSetup,
} from "./_sim_feed_source.ts";
import {
  type FeedWorkerData,
  type Job,
  type Reply,
  type Request,
  STALL_MS,
  unpack,
  wire,
} from "./_sim_feed_wire.ts";

let thread: Promise<Worker | undefined> | undefined;

/**
 * The shared reference worker, started on first use and kept (unreferenced: it never keeps the
 * process alive); undefined when workers are unavailable or it failed. `TROUPE_SIM_THREADS=0`
 * turns it off.
 */
export function referenceThread(): Promise<Worker | undefined> {
  if (process.env.TROUPE_SIM_THREADS === "0") return Promise.resolve(undefined);
  thread ??= startWorker(new URL("./_sim_feed_worker.ts", import.meta.url), {
    workerData: { troupeSimReference: true } satisfies FeedWorkerData,
  }).then(
    (worker) => {
      // It ended (now or later): the runs go on in process.
      const dead = () => void (thread = Promise.resolve(undefined));
      worker.once("error", dead);
      worker.once("exit", dead);
      return untilStarted(worker, { thread: "the reference worker" }).then(() => {
        worker.unref();
        return worker;
      }, (err: Error) => {
        if (process.env.TROUPE_SIM_DEBUG) console.error(`sim: ${err.message}`);
        dead();
        return undefined;
      });
    },
    () => {
      // No worker (no support, or its module failed to build): the runs go on in process.
      thread = Promise.resolve(undefined);
      return undefined;
    },
  );
  return thread;
}

/** The feed and reference computed by the worker, pulled as they come. */
export class ThreadSource implements FeedSource {
  readonly count: number;
  readonly threaded = true;
  feedMs = 0;
  referenceMs = 0;
  checksMs = 0;
  readonly #spec: FeedSpec;
  readonly #setup: ReferenceSetup;
  readonly #plan: readonly number[];
  readonly #port: MessagePort;
  readonly #signal: Int32Array;
  readonly #entries: FeedEntry[] = [];
  #reference: ReferenceOutcome | undefined;
  /** The in-process fallback once the worker failed. */
  #local: LocalSource | undefined;
  /** Every check op handed over (what a fallback replays), and the checks' violations by id. */
  readonly #ops: CheckOp[] = [];
  readonly #checked = new Map<number, CheckViolation[]>();
  #checks = 0;
  /** The worker's reply count when the port was last found empty. */
  #emptyAt = -1;
  /** The shared slabs the worker has been sent, by id. */
  readonly #slabIds = new Map<SharedArrayBuffer, number>();

  constructor(worker: Worker, spec: FeedSpec, setup: ReferenceSetup) {
    this.#spec = spec;
    this.#setup = setup;
    this.#plan = feedPlan(spec);
    this.count = this.#plan.length;
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    const signal = new SharedArrayBuffer(4);
    this.#signal = new Int32Array(signal);
    const job: Job = {
      port: port2,
      signal,
      feed: spec,
      kinds: setup.actors.map((a) => a.kind),
      config: setup.config,
    };
    worker.postMessage(job, [port2]);
  }

  entry(seq: number): FeedEntry {
    if (seq <= this.#entries.length) return this.#entries[seq - 1]!;
    if (this.#local) return this.#local.entry(seq);
    if (seq > this.count) {
      throw new RangeError(`Feed frame ${seq} requested of a feed of ${this.count}`);
    }
    const t = performance.now();
    while (this.#entries.length < seq && !this.#failed()) this.#receive(true);
    this.feedMs += performance.now() - t;
    return this.#failed()?.entry(seq) ?? this.#entries[seq - 1]!;
  }

  reference(wait: boolean): ReferenceOutcome | undefined {
    if (this.#reference) return this.#reference;
    if (this.#local) return this.#local.reference(wait);
    const t = performance.now();
    while (!this.#reference && !this.#failed() && this.#receive(wait));
    if (wait) this.referenceMs += performance.now() - t;
    return this.#reference ?? this.#failed()?.reference(wait);
  }

  check(ops: readonly CheckOp[]): void {
    for (const op of ops) {
      this.#ops.push(op);
      if (op.op === "check") this.#checks++;
    }
    if (this.#local) return this.#local.check(ops);
    const req = wire(ops, this.#slabIds);
    this.#port.postMessage(req, [req.packed.buf]);
  }

  checked(): Map<number, CheckViolation[]> {
    if (this.#local) return this.#local.checked();
    const t = performance.now();
    while (this.#checked.size < this.#checks && !this.#failed()) this.#receive(true);
    this.checksMs += performance.now() - t;
    return this.#failed()?.checked() ?? this.#checked;
  }

  close(): void {
    if (!this.#local) this.#port.postMessage({ type: "end" } satisfies Request);
    this.#port.close();
    this.#local?.close();
  }

  /** The in-process fallback, once the worker failed. */
  #failed(): LocalSource | undefined {
    return this.#local;
  }

  /** Takes the worker's next reply (with `block`, waits for one); false when there is none. */
  #receive(block: boolean): boolean {
    // The worker counts its replies in the signal after posting each: a poll that finds the
    // count where it was when the port was last found empty has nothing to take.
    if (!block && Atomics.load(this.#signal, 0) === this.#emptyAt) return false;
    const since = performance.now();
    for (;;) {
      const seen = Atomics.load(this.#signal, 0);
      const m = receiveMessageOnPort(this.#port);
      if (m) {
        this.#take(m.message as Reply);
        return true;
      }
      this.#emptyAt = seen;
      if (!block) return false;
      if (performance.now() - since > STALL_MS) {
        this.#fail(`the reference worker made no progress for ${STALL_MS} ms`);
        return true;
      }
      Atomics.wait(this.#signal, 0, seen, 1000);
    }
  }

  #take(reply: Reply): void {
    if (reply.type === "frames") {
      const data = unpack(reply.packed);
      for (let i = 0; i < data.length; i++) {
        const seq = reply.first + i;
        if (seq !== this.#entries.length + 1) {
          this.#fail(`the reference worker sent frame ${seq} after ${this.#entries.length}`);
          return;
        }
        const e: FeedEntry = {
          seq,
          subject: reply.subjects[i]!,
          data: data[i]!,
          headroom: reply.headroom[i]!,
        };
        checkPlanned(e, this.#plan);
        this.#entries.push(e);
      }
    } else if (reply.type === "reference") {
      const outputs = new Map<string, Uint8Array>();
      const data = unpack(reply.outputs);
      for (let i = 0; i < data.length; i++) outputs.set(reply.outputs.ids[i]!, data[i]!);
      this.#reference = {
        outputs,
        finals: new Map(reply.finals),
        conflicts: reply.conflicts,
        reapplied: reply.reapplied,
      };
    } else if (reply.type === "checked") {
      for (const [id, found] of reply.results) this.#checked.set(id, found);
    } else this.#fail(reply.message);
  }

  /** Goes on in process: the same feed and reference, computed here. */
  #fail(why: string): void {
    if (process.env.TROUPE_SIM_DEBUG) console.error(`sim: reference worker failed: ${why}`);
    this.#port.close();
    this.#local = new LocalSource(this.#spec, this.#setup);
    // The frames already received are the same frames: the local generator regenerates them. The
    // checks are run again from the first, on the same ops.
    this.#local.check(this.#ops);
  }
}
