/**
 * Where a simulation's feed and its fault-free reference come from. The feed is the seeded market
 * feed cut to the run's sample budget; the reference folds it through fresh actor instances (see
 * invariants.ts). Both are independent of the simulated cluster until the checks compare outputs
 * and final states, so a run can have them computed on a second thread: a worker (this file,
 * started again) generates the feed, hands it over frame chunk by frame chunk, then folds the
 * reference and hands over what the checks need (every output by id, every final state, the
 * conflicting ids). The run pulls frames synchronously (it blocks only if the worker is behind)
 * and polls for the reference; until it has it, the checks that need it wait (see simulator.ts).
 * Without a worker (`threads: false`, actor kinds or a configuration a worker cannot rebuild, no
 * worker support, or a worker that failed) the same generator and the same reference run in
 * process, lazily: frames as they are pulled, the reference when the run first waits for it. Both
 * ways give the same frames, the same reference and so the same trace.
 */
import process from "node:process";
import {
  isMainThread,
  MessageChannel,
  type MessagePort,
  parentPort,
  receiveMessageOnPort,
  Worker,
  workerData,
} from "node:worker_threads";
import { ACTOR_KINDS } from "../actors/mod.ts";
import type { AnyActorDefinition } from "../actors/runtime/actor_definition.ts";
import type { InstanceSnapshot } from "../actors/runtime/actor_instance.ts";
import { encodeFrame, feedSubject, type SampleFrame } from "../protocol/mod.ts";
import { createFeed } from "./feeds/mod.ts";
import type { Feed } from "./feeds/feed.ts";
import type { FeedEntry } from "./_sim_feed_log.ts";
import { runReference } from "./invariants.ts";

/** The feed of a run: the seeded market feed of `channels` price channels, cut at `budget` samples. */
export interface FeedSpec {
  seed: number;
  channels: number;
  batch: number;
  budget: number;
}

/** What the checks need of the fault-free reference. */
export interface ReferenceOutcome {
  /** Every output, by id, in the order the reference produced them. */
  outputs: Map<string, Uint8Array>;
  /** Per instance stream, its final state. */
  finals: Map<string, InstanceSnapshot>;
  /** Output ids produced twice with different bytes. */
  conflicts: string[];
}

/**
 * The samples of each frame of `spec`, in log order: the market feed emits frames of `batch`
 * samples, and the last one is cut at the budget. The simulator schedules frames by it before
 * they exist; a generated frame of another size is an error.
 */
export function feedPlan(spec: FeedSpec): number[] {
  const out: number[] = [];
  for (let samples = 0; samples < spec.budget; samples += spec.batch) {
    out.push(Math.min(spec.batch, spec.budget - samples));
  }
  return out;
}

/** The frames of `spec`, one at a time, encoded as the log stores them. */
export class FeedGenerator {
  readonly #spec: FeedSpec;
  readonly #plan: readonly number[];
  readonly #feed: Feed;
  #queue: SampleFrame[] = [];
  #at = 0;
  #samples = 0;
  #seq = 0;

  constructor(spec: FeedSpec) {
    this.#spec = spec;
    this.#plan = feedPlan(spec);
    this.#feed = createFeed("market", {
      seed: spec.seed,
      channels: spec.channels,
      batch: spec.batch,
      volume: false,
    });
  }

  /** Frames generated so far. */
  get count(): number {
    return this.#seq;
  }

  /** The next frame, or undefined once the budget is spent. */
  next(): FeedEntry | undefined {
    if (this.#samples >= this.#spec.budget) return undefined;
    if (this.#at >= this.#queue.length) {
      this.#queue = this.#feed.next();
      this.#at = 0;
    }
    const frame = this.#queue[this.#at++]!;
    const n = Math.min(frame.t.length, this.#spec.budget - this.#samples);
    const part = n === frame.t.length ? frame : {
      channel: frame.channel,
      seq0: frame.seq0,
      t: frame.t.subarray(0, n),
      v: frame.v.subarray(0, n),
    };
    const seq = ++this.#seq;
    if (this.#plan[seq - 1] !== n) {
      throw new Error(
        `The market feed's frame ${seq} holds ${n} samples; the simulator planned ${
          this.#plan[seq - 1]
        }`,
      );
    }
    this.#samples += n;
    return {
      seq,
      subject: feedSubject("market", frame.channel),
      data: encodeFrame(part, { id: `sim:${frame.channel}:${frame.seq0}`, src: "sim", seq }),
    };
  }
}

/** The feed and reference of one run, pulled by the simulator. */
export interface FeedSource {
  /** Frames the feed holds (its plan). */
  readonly count: number;
  /** Whether a worker computes them. */
  readonly threaded: boolean;
  /** Real milliseconds the run spent getting frames (generating them, or waiting). */
  feedMs: number;
  /** Real milliseconds the run spent getting the reference (folding it, or waiting). */
  referenceMs: number;
  /** The frame at `seq` (1-based, at most `count`). */
  entry(seq: number): FeedEntry;
  /** The reference if it is ready; with `wait`, once it is (it never returns undefined then). */
  reference(wait: boolean): ReferenceOutcome | undefined;
  /** Releases what the source holds (a worker's port). */
  close(): void;
}

/** How a source folds its reference: the actor kinds and their parsed configurations. */
export interface ReferenceSetup {
  actors: readonly AnyActorDefinition[];
  configs: ReadonlyMap<string, unknown>;
  /** The raw per-kind configuration the configs were parsed from (what a worker gets). */
  config: Record<string, unknown>;
}

/** The feed and reference computed in this thread, as they are pulled. */
class LocalSource implements FeedSource {
  readonly count: number;
  readonly threaded = false;
  feedMs = 0;
  referenceMs = 0;
  readonly #gen: FeedGenerator;
  readonly #plan: readonly number[];
  readonly #setup: ReferenceSetup;
  readonly #entries: FeedEntry[] = [];
  #reference: ReferenceOutcome | undefined;

  constructor(spec: FeedSpec, setup: ReferenceSetup) {
    this.#plan = feedPlan(spec);
    this.count = this.#plan.length;
    this.#gen = new FeedGenerator(spec);
    this.#setup = setup;
  }

  entry(seq: number): FeedEntry {
    if (seq <= this.#entries.length) return this.#entries[seq - 1]!;
    const t = performance.now();
    while (this.#entries.length < seq) {
      const e = this.#gen.next();
      if (!e) throw new RangeError(`Feed frame ${seq} requested of a feed of ${this.count}`);
      checkPlanned(e, this.#plan);
      this.#entries.push(e);
    }
    this.feedMs += performance.now() - t;
    return this.#entries[seq - 1]!;
  }

  reference(wait: boolean): ReferenceOutcome | undefined {
    if (this.#reference || !wait) return this.#reference;
    if (this.count > 0) this.entry(this.count);
    const t = performance.now();
    const ref = runReference(this.#entries, this.#setup.actors, this.#setup.configs);
    this.#reference = { outputs: ref.outputs, finals: ref.finals, conflicts: ref.conflicts };
    this.referenceMs += performance.now() - t;
    return this.#reference;
  }

  close(): void {}
}

function checkPlanned(e: FeedEntry, plan: readonly number[]): void {
  if (e.seq > plan.length) {
    throw new RangeError(`The feed generated frame ${e.seq}, past its plan of ${plan.length}`);
  }
}

// --- the worker -----------------------------------------------------------------------------------

/** Frames per chunk the worker hands over (the first chunk is small, so the run starts at once). */
const CHUNK_FIRST = 16;
const CHUNK = 256;
/** A worker that makes no progress for this long is given up (the run goes on in process). */
const STALL_MS = 60_000;

interface Job {
  port: MessagePort;
  signal: SharedArrayBuffer;
  feed: FeedSpec;
  kinds: string[];
  config: Record<string, unknown>;
}

type Packed = { ids: string[]; starts: Uint32Array; lengths: Uint32Array; buf: ArrayBuffer };

type Reply =
  | { type: "frames"; first: number; subjects: string[]; packed: Packed }
  | {
    type: "reference";
    outputs: Packed;
    finals: [string, InstanceSnapshot][];
    conflicts: string[];
  }
  | { type: "error"; message: string };

/** Packs byte strings into one buffer, each at an 8-byte aligned offset (columns stay aligned). */
function pack(ids: string[], items: Uint8Array[]): Packed {
  const starts = new Uint32Array(items.length);
  const lengths = new Uint32Array(items.length);
  let size = 0;
  for (let i = 0; i < items.length; i++) {
    starts[i] = size;
    lengths[i] = items[i]!.byteLength;
    size = (size + items[i]!.byteLength + 7) & ~7;
  }
  const buf = new ArrayBuffer(size);
  const bytes = new Uint8Array(buf);
  for (let i = 0; i < items.length; i++) bytes.set(items[i]!, starts[i]!);
  return { ids, starts, lengths, buf };
}

function unpack(p: Packed): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < p.starts.length; i++) {
    out.push(new Uint8Array(p.buf, p.starts[i]!, p.lengths[i]!));
  }
  return out;
}

/** Runs one job in the worker: the feed, chunk by chunk, then the reference. */
function runJob(job: Job): void {
  const signal = new Int32Array(job.signal);
  const send = (reply: Reply, transfer: ArrayBuffer[]) => {
    job.port.postMessage(reply, transfer);
    Atomics.add(signal, 0, 1);
    Atomics.notify(signal, 0);
  };
  try {
    const gen = new FeedGenerator(job.feed);
    const entries: FeedEntry[] = [];
    let chunk: FeedEntry[] = [];
    const flush = () => {
      if (!chunk.length) return;
      const packed = pack([], chunk.map((e) => e.data));
      send(
        { type: "frames", first: chunk[0]!.seq, subjects: chunk.map((e) => e.subject), packed },
        [
          packed.buf,
        ],
      );
      chunk = [];
    };
    for (let e = gen.next(); e; e = gen.next()) {
      entries.push(e);
      chunk.push(e);
      if (chunk.length >= (entries.length <= CHUNK_FIRST ? CHUNK_FIRST : CHUNK)) flush();
    }
    flush();
    const actors = job.kinds.map((k) => ACTOR_KINDS[k]!);
    const configs = new Map<string, unknown>();
    for (const def of actors) {
      const raw = job.config[def.kind];
      configs.set(
        def.kind,
        raw === undefined ? def.defaultConfig : def.parseConfig(raw, def.defaultConfig, def.kind),
      );
    }
    const ref = runReference(entries, actors, configs);
    const ids = [...ref.outputs.keys()];
    const outputs = pack(ids, [...ref.outputs.values()]);
    send({
      type: "reference",
      outputs,
      finals: [...ref.finals],
      conflicts: ref.conflicts,
    }, [outputs.buf]);
  } catch (err) {
    send({ type: "error", message: (err as Error).stack ?? String(err) }, []);
  }
  job.port.close();
}

interface WorkerData {
  troupeSimReference: true;
}

if (
  !isMainThread && parentPort &&
  (workerData as WorkerData | undefined)?.troupeSimReference === true
) {
  const port = parentPort;
  port.on("message", (job: Job) => runJob(job));
  port.postMessage("ready");
}

let thread: Promise<Worker | undefined> | undefined;

/**
 * The shared reference worker, started on first use and kept (unreferenced: it never keeps the
 * process alive); undefined when workers are unavailable or it failed. `TROUPE_SIM_THREADS=0`
 * turns it off.
 */
function referenceThread(): Promise<Worker | undefined> {
  if (process.env.TROUPE_SIM_THREADS === "0") return Promise.resolve(undefined);
  thread ??= new Promise<Worker | undefined>((resolve) => {
    let worker: Worker;
    try {
      const data: WorkerData = { troupeSimReference: true };
      if ("Deno" in globalThis) {
        worker = new Worker(new URL(import.meta.url), { workerData: data });
      } else {
        const boot = `import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))})` +
          `.then((m) => { m.register(); return import(${JSON.stringify(import.meta.url)}); })`;
        worker = new Worker(boot, { eval: true, workerData: data });
      }
    } catch {
      resolve(undefined);
      return;
    }
    const dead = () => {
      thread = Promise.resolve(undefined);
      resolve(undefined);
    };
    worker.once("message", () => {
      worker.unref();
      resolve(worker);
    });
    worker.once("error", dead);
    worker.once("exit", dead);
  });
  return thread;
}

/** The feed and reference computed by the worker, pulled as they come. */
class ThreadSource implements FeedSource {
  readonly count: number;
  readonly threaded = true;
  feedMs = 0;
  referenceMs = 0;
  readonly #spec: FeedSpec;
  readonly #setup: ReferenceSetup;
  readonly #plan: readonly number[];
  readonly #port: MessagePort;
  readonly #signal: Int32Array;
  readonly #entries: FeedEntry[] = [];
  #reference: ReferenceOutcome | undefined;
  /** The in-process fallback once the worker failed. */
  #local: LocalSource | undefined;

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

  close(): void {
    this.#port.close();
  }

  /** The in-process fallback, once the worker failed. */
  #failed(): LocalSource | undefined {
    return this.#local;
  }

  /** Takes the worker's next reply (with `block`, waits for one); false when there is none. */
  #receive(block: boolean): boolean {
    const since = performance.now();
    for (;;) {
      const seen = Atomics.load(this.#signal, 0);
      const m = receiveMessageOnPort(this.#port);
      if (m) {
        this.#take(m.message as Reply);
        return true;
      }
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
        const e: FeedEntry = { seq, subject: reply.subjects[i]!, data: data[i]! };
        checkPlanned(e, this.#plan);
        this.#entries.push(e);
      }
    } else if (reply.type === "reference") {
      const outputs = new Map<string, Uint8Array>();
      const data = unpack(reply.outputs);
      for (let i = 0; i < data.length; i++) outputs.set(reply.outputs.ids[i]!, data[i]!);
      this.#reference = { outputs, finals: new Map(reply.finals), conflicts: reply.conflicts };
      this.close();
    } else this.#fail(reply.message);
  }

  /** Goes on in process: the same feed and reference, computed here. */
  #fail(why: string): void {
    if (process.env.TROUPE_SIM_DEBUG) console.error(`sim: reference worker failed: ${why}`);
    this.close();
    this.#local = new LocalSource(this.#spec, this.#setup);
    // The frames already received are the same frames: the local generator regenerates them.
  }
}

/**
 * The feed and reference source of a run: on the shared worker when `threads` and the actor kinds
 * and configuration can be rebuilt there, else in process.
 */
export async function feedSource(
  spec: FeedSpec,
  setup: ReferenceSetup,
  threads: boolean,
): Promise<FeedSource> {
  if (threads && setup.actors.every((a) => ACTOR_KINDS[a.kind] === a) && cloneable(setup.config)) {
    const worker = await referenceThread();
    if (worker) return new ThreadSource(worker, spec, setup);
  }
  return new LocalSource(spec, setup);
}

function cloneable(x: unknown): boolean {
  try {
    structuredClone(x);
    return true;
  } catch {
    return false;
  }
}
