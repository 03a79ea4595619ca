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
import type { AnyActorDefinition } from "../protocol/mod.ts";
import type { InstanceSnapshot } from "../actors/runtime/actor_instance.ts";
import type { JournalRecord } from "../actors/runtime/journal.ts";
import { decodeFrame, encodeFrame, feedSubject, type SampleFrame } from "../protocol/mod.ts";
import { createFeed } from "./feeds/mod.ts";
import type { Feed } from "./feeds/feed.ts";
import type { FeedEntry } from "./_sim_feed_log.ts";
import { inputHeadBytes } from "./_input_head.ts";
import {
  type DecodedFrame,
  type InvariantName,
  type LoggedFrames,
  type RecoveryCheck,
  RecoveryChecker,
  type RecoveryInstance,
  runReference,
} from "./invariants.ts";

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
  readonly #subjects = new Map<string, string>();
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

  /** The feed subject of `channel`, made once per channel. */
  #subject(channel: string): string {
    let subject = this.#subjects.get(channel);
    if (subject === undefined) {
      this.#subjects.set(channel, subject = feedSubject("market", channel));
    }
    return subject;
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
      subject: this.#subject(frame.channel),
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
  /** Real milliseconds the run spent waiting for the recovery checks' verdicts (or running them). */
  checksMs: number;
  /** The frame at `seq` (1-based, at most `count`). */
  entry(seq: number): FeedEntry;
  /** The reference if it is ready; with `wait`, once it is (it never returns undefined then). */
  reference(wait: boolean): ReferenceOutcome | undefined;
  /**
   * Hands recovery-check work over, in the order it happened (see RecoveryChecker): done here, or
   * on the worker while the run goes on. Records' bytes are read where they are (the worker
   * reads the shared ones in place): a record that changes is given new bytes (a `patch`), its
   * old ones are never written to.
   */
  check(ops: readonly CheckOp[]): void;
  /** The violations of every check handed over, by id, once all of them are known. */
  checked(): Map<number, CheckViolation[]>;
  /** Releases what the source holds (a worker's port, the checks' replays). */
  close(): void;
}

/** A violation found by a recovery check. */
export interface CheckViolation {
  invariant: InvariantName;
  message: string;
}

/**
 * Recovery-check work (see RecoveryChecker): the disk's view of a journal now holds its first
 * `base` records and then `data`; a crash cut a host's journals back to `lengths`; a record's bytes
 * change to `data` (a sabotage); a check, answered by its `id`. Byte arrays are the journal's own,
 * which never change (a record that changes gets new ones): they are read where they are.
 */
export type CheckOp =
  | { op: "records"; host: string; stream: string; base: number; data: Uint8Array[] }
  | { op: "cut"; host: string; lengths: Map<string, number> }
  | { op: "patch"; host: string; stream: string; pos: number; data: Uint8Array }
  | { op: "check"; id: number; check: RecoveryCheck };

/** Runs check work on a RecoveryChecker; the checks' violations go to `results`. */
function runChecks(
  checker: RecoveryChecker,
  ops: readonly CheckOp[],
  results: Map<number, CheckViolation[]>,
): void {
  for (const op of ops) {
    if (op.op === "records") checker.records(op.host, op.stream, op.base, op.data);
    else if (op.op === "cut") checker.cut(op.host, op.lengths);
    else if (op.op === "patch") checker.patch(op.host, op.stream, op.pos, op.data);
    else {
      let found: CheckViolation[];
      try {
        found = checker.check(op.check);
      } catch (err) {
        found = [{
          invariant: "no_exception",
          message: `${op.check.host} recovery check failed: ${(err as Error).stack ?? err}`,
        }];
      }
      results.set(op.id, found);
    }
  }
}

/** The logged frames of `entries` for a checker, decoded once each (into `decoded`). */
function loggedFrames(entry: (seq: number) => FeedEntry, decoded: DecodedFrame[]): LoggedFrames {
  return {
    entry,
    decoded: (seq) => decoded[seq - 1] ??= decodeFrame(entry(seq).data),
  };
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
  checksMs = 0;
  readonly #gen: FeedGenerator;
  readonly #plan: readonly number[];
  readonly #setup: ReferenceSetup;
  readonly #entries: FeedEntry[] = [];
  #reference: ReferenceOutcome | undefined;
  #checker: RecoveryChecker | undefined;
  readonly #checked = new Map<number, CheckViolation[]>();

  constructor(spec: FeedSpec, setup: ReferenceSetup) {
    this.#plan = feedPlan(spec);
    this.count = this.#plan.length;
    this.#gen = new FeedGenerator(spec);
    this.#setup = setup;
  }

  check(ops: readonly CheckOp[]): void {
    this.#checker ??= new RecoveryChecker(
      new Map(this.#setup.actors.map((def) => [def.kind, def])),
      loggedFrames((seq) => this.entry(seq), []),
    );
    const t = performance.now();
    runChecks(this.#checker, ops, this.#checked);
    this.checksMs += performance.now() - t;
  }

  checked(): Map<number, CheckViolation[]> {
    return this.#checked;
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

  close(): void {
    this.#checker?.stop();
  }
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

type Packed<Buffer = ArrayBuffer> = {
  ids: string[];
  starts: Uint32Array;
  lengths: Uint32Array;
  buf: Buffer;
};

type Reply =
  | {
    type: "frames";
    first: number;
    subjects: string[];
    packed: Packed<SharedArrayBuffer>;
    headroom: number[];
  }
  | {
    type: "reference";
    outputs: Packed;
    finals: [string, InstanceSnapshot][];
    conflicts: string[];
  }
  | { type: "checked"; results: [number, CheckViolation[]][] }
  | { type: "error"; message: string };

/**
 * Check work as it crosses to the worker. A byte array is sent as a reference, three numbers: the
 * id of the SharedArrayBuffer it lies in (the disk's journal slabs are shared, see _sim_disk.ts;
 * each is sent once, and the worker keeps it), its offset and its length; or, for bytes in an
 * ordinary buffer, -1, the index of its copy in the message's pack, and 0.
 */
type WireOp =
  | { op: "records"; host: string; stream: string; base: number; refs: number[] }
  | { op: "cut"; host: string; lengths: [string, number][] }
  | { op: "patch"; host: string; stream: string; pos: number; refs: number[] }
  | {
    op: "check";
    id: number;
    host: string;
    when: string;
    head: number;
    instances: RecoveryInstance[];
    /** A full check's journals: stream, positions and the records' bytes. */
    journals: [string, number[], number[]][] | undefined;
  };

/** What the run sends the worker once it has its job. */
type Request =
  | { type: "ops"; ops: WireOp[]; slabs: [number, SharedArrayBuffer][]; packed: Packed }
  | { type: "end" };

/** Check work for the worker: byte arrays by reference into shared slabs, or copied. */
function wire(
  ops: readonly CheckOp[],
  slabIds: Map<SharedArrayBuffer, number>,
): Request & { type: "ops" } {
  const items: Uint8Array[] = [];
  const slabs: [number, SharedArrayBuffer][] = [];
  const refsOf = (data: readonly Uint8Array[]) => {
    const refs: number[] = [];
    for (const d of data) {
      const buf = d.buffer;
      if (buf instanceof SharedArrayBuffer) {
        let id = slabIds.get(buf);
        if (id === undefined) {
          slabIds.set(buf, id = slabIds.size);
          slabs.push([id, buf]);
        }
        refs.push(id, d.byteOffset, d.byteLength);
      } else {
        refs.push(-1, items.length, 0);
        items.push(d);
      }
    }
    return refs;
  };
  const out: WireOp[] = [];
  for (const op of ops) {
    if (op.op === "records") {
      const { host, stream, base } = op;
      out.push({ op: "records", host, stream, base, refs: refsOf(op.data) });
    } else if (op.op === "cut") {
      out.push({ op: "cut", host: op.host, lengths: [...op.lengths] });
    } else if (op.op === "patch") {
      const { host, stream, pos } = op;
      out.push({ op: "patch", host, stream, pos, refs: refsOf([op.data]) });
    } else {
      const c = op.check;
      let journals: [string, number[], number[]][] | undefined;
      if (c.journals) {
        journals = [];
        for (const [stream, records] of c.journals) {
          journals.push([stream, records.map((r) => r.pos), refsOf(records.map((r) => r.data))]);
        }
      }
      out.push({
        op: "check",
        id: op.id,
        host: c.host,
        when: c.when,
        head: c.head,
        instances: c.instances,
        journals,
      });
    }
  }
  return { type: "ops", ops: out, slabs, packed: pack([], items) };
}

/** The check work of a Request, as the worker runs it; `slabs` keeps the shared slabs by id. */
function unwire(req: Request & { type: "ops" }, slabs: Map<number, SharedArrayBuffer>): CheckOp[] {
  for (const [id, buf] of req.slabs) slabs.set(id, buf);
  const items = unpack(req.packed);
  const bytes = (refs: number[]) => {
    const out: Uint8Array[] = [];
    for (let i = 0; i < refs.length; i += 3) {
      const id = refs[i]!, at = refs[i + 1]!;
      out.push(id < 0 ? items[at]! : new Uint8Array(slabs.get(id)!, at, refs[i + 2]!));
    }
    return out;
  };
  return req.ops.map((op): CheckOp => {
    if (op.op === "records") {
      return {
        op: "records",
        host: op.host,
        stream: op.stream,
        base: op.base,
        data: bytes(op.refs),
      };
    }
    if (op.op === "cut") return { op: "cut", host: op.host, lengths: new Map(op.lengths) };
    if (op.op === "patch") {
      const [data] = bytes(op.refs);
      return { op: "patch", host: op.host, stream: op.stream, pos: op.pos, data: data! };
    }
    const check: RecoveryCheck = {
      host: op.host,
      when: op.when,
      head: op.head,
      instances: op.instances,
    };
    if (op.journals) {
      check.journals = new Map();
      for (const [stream, positions, refs] of op.journals) {
        const data = bytes(refs);
        check.journals.set(
          stream,
          positions.map((pos, i): JournalRecord => ({ stream, pos, data: data[i]! })),
        );
      }
    }
    return { op: "check", id: op.id, check };
  });
}

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

/**
 * Packs a chunk of frames into one SharedArrayBuffer (each 8-byte aligned, as `pack` does) with
 * room right before each for the head of the journal record on its subject: a run's journals then
 * hold frames where the log holds them, head included, instead of copies (see SimDisk), and the
 * worker reads them there. The entries are repointed at their bytes in the pack.
 */
function packFrames(
  chunk: FeedEntry[],
): { packed: Packed<SharedArrayBuffer>; headroom: number[] } {
  const starts = new Uint32Array(chunk.length);
  const lengths = new Uint32Array(chunk.length);
  const headroom: number[] = [];
  let size = 0;
  for (let i = 0; i < chunk.length; i++) {
    const room = inputHeadBytes(chunk[i]!.subject);
    headroom.push(room);
    starts[i] = (size + room + 7) & ~7;
    lengths[i] = chunk[i]!.data.byteLength;
    size = starts[i]! + lengths[i]!;
  }
  const buf = new SharedArrayBuffer(size);
  for (let i = 0; i < chunk.length; i++) {
    const e = chunk[i]!;
    const data = new Uint8Array(buf, starts[i]!, lengths[i]!);
    data.set(e.data);
    e.data = data;
    e.headroom = headroom[i]!;
  }
  return { packed: { ids: [], starts, lengths, buf }, headroom };
}

function unpack(p: Packed<ArrayBuffer | SharedArrayBuffer>): Uint8Array[] {
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
      const { packed, headroom } = packFrames(chunk);
      const subjects = chunk.map((e) => e.subject);
      send({ type: "frames", first: chunk[0]!.seq, subjects, packed, headroom }, []);
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
    // Then the recovery checks, as the run hands them over (queued meanwhile), on the frames
    // the reference decoded.
    const checker = new RecoveryChecker(
      new Map(actors.map((def) => [def.kind, def])),
      loggedFrames((seq) => entries[seq - 1]!, ref.decoded),
    );
    const end = () => {
      checker.stop();
      job.port.close();
    };
    job.port.on("close", () => checker.stop());
    const slabs = new Map<number, SharedArrayBuffer>();
    job.port.on("message", (req: Request) => {
      if (req.type === "end") return end();
      const results = new Map<number, CheckViolation[]>();
      try {
        runChecks(checker, unwire(req, slabs), results);
      } catch (err) {
        send({ type: "error", message: (err as Error).stack ?? String(err) }, []);
        return end();
      }
      send({ type: "checked", results: [...results] }, []);
    });
  } catch (err) {
    send({ type: "error", message: (err as Error).stack ?? String(err) }, []);
    job.port.close();
  }
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
      // Deno runs the TypeScript; on Node the compiled mirror (cli/_compile.mjs) is JavaScript.
      if ("Deno" in globalThis || import.meta.url.endsWith(".js")) {
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
      this.#reference = { outputs, finals: new Map(reply.finals), conflicts: reply.conflicts };
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
