/**
 * Parallel in-process replay: the actor instances of a replay split across worker threads, each
 * running its own Host over an InProcessBus for the partitions it owns (see _replay_worker.ts).
 *
 * This side reads nothing itself: the replay hands it each input in order. It routes the input as
 * a host would (the kinds' `route` under their current configuration; control messages for a whole
 * kind go to every worker) and batches it, as bytes, to the workers that own its instances only.
 * Each worker sends back its outputs tagged with the index of the input that caused them; they are
 * merged (_replay_merge.ts) into the order one host would have published them in: by input, and
 * within an input in the order the host applies its instances (the route's order for a frame, the
 * order the instances were created in for a control message to a whole kind). So the outputs are
 * the same bytes in the same order as the single-threaded replay's, however the instances are
 * spread.
 *
 * Inputs a host would reject before routing them to an instance (a malformed subject, an envelope
 * or a frame that fails validation) go to one worker only, so their dead letter is counted once;
 * one over the channel limit is counted here, as each worker sees only some channels.
 *
 * Partitions are assigned to workers before the hosts start, by the bytes of frames per partition
 * in the recording's first records (largest first, to the least loaded worker); an instance never
 * seen there goes to the worker its partition's number names.
 */
import type { Worker } from "node:worker_threads";
import type { AnyActorDefinition, RecordedSkip } from "../../actors/runtime/mod.ts";
import { CHANNELS_MAX_DEFAULT, partitionOf, workerModuleUrl } from "../../actors/runtime/mod.ts";
import {
  decodeEnvelope,
  decodeFrame,
  type FrameLimits,
  parseSubject,
  SUBJECT_ROOT,
  subjectMatches,
  type TickNotice,
} from "../../protocol/mod.ts";
import { BatchReader, BatchWriter } from "./_replay_batch.ts";
import { type MergeQueue, OutputMerge } from "./_replay_merge.ts";
import type { ReplayInspection } from "./_replay_inspect.ts";
import {
  type FromWorker,
  INPUT_CTL,
  INPUT_FEED,
  type ToWorker,
  type WorkerOutputs,
} from "./_replay_worker.ts";
import { PARTITIONS, spreadPartitions } from "./_replay_spread.ts";
import { acquireWorker, releaseWorker } from "./_replay_worker_pool.ts";

/** What the threads are started with. */
export interface ReplayThreadsOptions {
  threads: number;
  /** The recording: its first records decide how partitions are spread. */
  path: string;
  /** The kinds run, in the order a host applies them. */
  kinds: string[];
  registry: Readonly<Record<string, AnyActorDefinition>>;
  /** A module URL exporting the same `registry`, for the workers; undefined: ACTOR_KINDS. */
  registryModule: string | undefined;
  /** Per-kind raw configuration, as a Host is given it. */
  config: Record<string, unknown>;
  limits: FrameLimits & { channelsMax?: number };
  snapshotEveryInputs: number;
  /** The inputs the recording says its live host skipped, for every worker's host. */
  skips: RecordedSkip[];
  /** The ticks the recording says its live host applied, for every worker's host. */
  ticks: TickNotice[];
  /**
   * "bytes": every output comes back, to `onOutput`, in order; "count": the threads only count
   * them, for `onCount` (a replay whose outputs no one reads need not move them between threads).
   */
  outputs: "bytes" | "count";
  /** Every output, in order. */
  onOutput(subject: string, data: Uint8Array): void;
  /**
   * Outputs counted on the threads, as they report them (all of the inputs sent before a flush).
   */
  onCount(n: number): void;
  log(message: string): void;
}

/** Raised when a worker thread fails: the replay cannot go on. */
export class ReplayThreadError extends Error {
  override name = "ReplayThreadError";
}

/** A worker's batch is sent once it holds this many bytes or inputs. */
const BATCH_BYTES = 256 << 10;
const BATCH_INPUTS = 4096;
/** Batches a worker may have in hand before the replay waits for it. */
const IN_FLIGHT_MAX = 4;

const FEED_PATTERN = `${SUBJECT_ROOT}.feed.>`;
const CTL_PATTERN = `${SUBJECT_ROOT}.ctl.>`;

/**
 * How a frame's channel routes: its instances in the host's order, and the workers that own them.
 */
interface Route {
  streams: string[];
  workers: number[];
  /** Each instance's place in `streams`, when more than one worker is involved. */
  order: Map<string, number> | undefined;
}

interface WorkerState extends MergeQueue {
  worker: Worker | undefined;
  /** Stops this replay's listening to the worker. */
  detach: (() => void) | undefined;
  writer: BatchWriter;
  reader: BatchReader;
  inFlight: number;
  /** Caught up to this index once the batches in hand come back (nothing was sent since). */
  idleThrough: number;
  ready: boolean;
  ended: boolean;
  inspect: ReplayInspection | { streams: string[] } | undefined;
}

/** The worker threads of one replay. */
export class ReplayThreads {
  readonly threads: number;
  readonly #options: ReplayThreadsOptions;
  readonly #workers: WorkerState[] = [];
  readonly #defs: AnyActorDefinition[];
  readonly #configs = new Map<string, unknown>();
  /** partition -> worker. */
  #owners: Int32Array = new Int32Array(PARTITIONS);
  /** Feed subject -> channel (null: not a feed a host takes; undefined entry: not seen). */
  readonly #channels = new Map<string, string | null | Error>();
  #routes = new Map<string, Route>();
  /** Channels whose frames passed validation (the host's channel limit counts them). */
  readonly #seenChannels = new Set<string>();
  readonly #channelsMax: number;
  /** The workers' outputs, merged into one host's order. */
  readonly #merged: OutputMerge;
  #next = 0;
  #pendingInputs = 0;
  #failure: Error | undefined;
  #finished = false;
  #closed = false;
  #registryKey = "";
  #waiters: Array<() => void> = [];
  /** Dead letters counted here, and reported by the workers. */
  deadLetters = 0;
  /** Recorded ticks the workers' hosts applied. */
  ticksPlaced = 0;

  private constructor(o: ReplayThreadsOptions) {
    this.threads = o.threads;
    this.#options = o;
    this.#defs = o.kinds.map((k) => o.registry[k]!);
    // The configurations as a host parses them (a bad one throws ConfigError here, before any
    // thread).
    for (const def of this.#defs) {
      const raw = o.config[def.kind];
      this.#configs.set(
        def.kind,
        raw === undefined
          ? def.defaultConfig
          : def.parseConfig(raw, def.defaultConfig, `actors.${def.kind}`),
      );
    }
    this.#channelsMax = o.limits.channelsMax ?? CHANNELS_MAX_DEFAULT;
    this.#merged = new OutputMerge(this.#workers, (subject, data) => o.onOutput(subject, data));
  }

  /** Starts the workers and their hosts. */
  static async start(o: ReplayThreadsOptions): Promise<ReplayThreads> {
    const t = new ReplayThreads(o);
    try {
      await t.#start();
    } catch (err) {
      await t.close();
      throw err;
    }
    return t;
  }

  async #start(): Promise<void> {
    const o = this.#options;
    const registryModule = o.registryModule === undefined
      ? undefined
      : (await workerModuleUrl(new URL(o.registryModule))).href;
    this.#registryKey = registryModule ?? "";
    for (let i = 0; i < o.threads; i++) {
      this.#workers.push({
        worker: undefined,
        detach: undefined,
        writer: new BatchWriter(),
        reader: new BatchReader(),
        queue: [],
        head: 0,
        inFlight: 0,
        through: -1,
        idleThrough: -1,
        ready: false,
        ended: false,
        inspect: undefined,
      });
    }
    const started = this.#workers.map(async (w, i) => {
      const worker = await acquireWorker(this.#registryKey);
      w.worker = worker;
      if (this.#closed) await worker.terminate();
      else w.detach = this.#attach(worker, i);
    });
    // The spread is worked out while the threads start.
    const spreading = spreadPartitions({
      path: o.path,
      threads: this.threads,
      defs: this.#defs,
      configs: this.#configs,
    }).then((owners) => {
      this.#owners = owners;
    });
    const [spread, ...rest] = await Promise.allSettled([spreading, ...started]);
    for (const r of [spread, ...rest]) if (r.status === "rejected") throw r.reason;
    const owned: number[][] = this.#workers.map(() => []);
    for (let p = 0; p < PARTITIONS; p++) owned[this.#owners[p]!]!.push(p);
    this.#workers.forEach((w, i) =>
      this.#post(w, {
        type: "init",
        kinds: o.kinds,
        config: o.config,
        limits: o.limits,
        snapshotEveryInputs: o.snapshotEveryInputs,
        outputs: o.outputs,
        skips: o.skips,
        ticks: o.ticks,
        partitions: PARTITIONS,
        owned: owned[i]!,
      })
    );
    await this.#until(() => this.#workers.every((w) => w.ready));
  }

  /** Listens to a worker; returns what stops listening. */
  #attach(worker: Worker, i: number): () => void {
    const name = `Replay worker ${i + 1} of ${this.threads}`;
    const onMessage = (msg: FromWorker) => {
      try {
        this.#onMessage(this.#workers[i]!, msg, name);
      } catch (err) {
        this.#fail(new ReplayThreadError(`${name}: ${(err as Error).message}`, { cause: err }));
      }
    };
    const onError = (err: unknown) => {
      const e = err as Error;
      this.#fail(
        new ReplayThreadError(`${name} failed: ${e?.stack ?? e?.message ?? String(err)}`, {
          cause: err,
        }),
      );
    };
    const onMessageError = (err: unknown) => {
      this.#fail(new ReplayThreadError(`${name} sent a message that cannot be read: ${err}`));
    };
    const onExit = (code: number) => {
      if (this.#closed) return;
      this.#fail(new ReplayThreadError(`${name} exited (code ${code}) before the replay ended`));
    };
    worker.on("message", onMessage);
    worker.on("error", onError);
    worker.on("messageerror", onMessageError);
    worker.on("exit", onExit);
    worker.ref();
    return () => {
      worker.off("message", onMessage);
      worker.off("error", onError);
      worker.off("messageerror", onMessageError);
      worker.off("exit", onExit);
    };
  }

  #onMessage(w: WorkerState, msg: FromWorker, name: string): void {
    switch (msg.type) {
      case "ready":
        w.ready = true;
        break;
      case "done":
        this.#take(w, msg);
        w.inFlight--;
        w.through = Math.max(w.through, msg.through, w.inFlight === 0 ? w.idleThrough : -1);
        this.#merged.merge();
        break;
      case "ended":
        this.#take(w, msg);
        w.inspect = msg.inspect;
        w.ended = true;
        break;
      case "failed":
        this.#fail(new ReplayThreadError(`${name} failed: ${msg.message}`));
        return;
    }
    this.#wake();
  }

  #take(w: WorkerState, out: WorkerOutputs): void {
    for (const e of w.reader.read(out)) w.queue.push(e);
    if (out.counted > 0) this.#options.onCount(out.counted);
    this.deadLetters += out.deadLetters;
    this.ticksPlaced += out.ticksPlaced;
    for (const line of out.log) this.#options.log(line);
  }

  // --- inputs ------------------------------------------------------------------------------------

  /**
   * Sends a feed frame or control message (`area`: "feed" or "ctl") to the workers that take it.
   */
  publish(area: "feed" | "ctl", subject: string, data: Uint8Array): void {
    if (this.#failure) throw this.#failure;
    const index = this.#next++;
    if (area === "feed") this.#feed(index, subject, data);
    else this.#ctl(index, subject, data);
    if (++this.#pendingInputs >= BATCH_INPUTS) this.#ship();
  }

  #feed(index: number, subject: string, data: Uint8Array): void {
    let channel = this.#channels.get(subject);
    if (channel === undefined) {
      if (!subjectMatches(FEED_PATTERN, subject)) channel = null; // no host would get it
      else {
        try {
          const parsed = parseSubject(subject);
          channel = parsed.kind === "feed" ? parsed.channel : null;
        } catch (err) {
          channel = err as Error;
        }
      }
      if (this.#channels.size >= 100_000) this.#channels.clear();
      this.#channels.set(subject, channel);
    }
    if (channel === null) return;
    if (channel instanceof Error) {
      this.#send(0, index, subject, data, INPUT_FEED); // one host dead-letters it
      return;
    }
    let route: Route;
    try {
      route = this.#route(channel);
    } catch (err) {
      // A bug in a kind: a host would throw out of its input handler.
      throw new ReplayThreadError(
        `Cannot route input ${index} ("${subject}") to its actors: ${(err as Error)?.message}`,
        { cause: err },
      );
    }
    if (route.streams.length === 0) return;
    // Validation as the host does it, so that a rejected frame is dead-lettered once.
    try {
      const { frame } = decodeFrame(data, this.#options.limits);
      if (frame.channel !== channel) throw new Error("channel");
    } catch {
      this.#send(route.workers[0]!, index, subject, data, INPUT_FEED);
      return;
    }
    if (!this.#seenChannels.has(channel)) {
      if (this.#seenChannels.size >= this.#channelsMax) {
        this.deadLetters++; // over the host's channel limit
        return;
      }
      this.#seenChannels.add(channel);
    }
    for (const s of route.streams) this.#merged.created(s);
    if (route.order) this.#merged.several(index, route.order);
    for (const w of route.workers) this.#send(w, index, subject, data, INPUT_FEED);
  }

  #ctl(index: number, subject: string, data: Uint8Array): void {
    if (!subjectMatches(CTL_PATTERN, subject)) return;
    let kind: string, key: string | undefined;
    try {
      const parsed = parseSubject(subject);
      if (parsed.kind !== "ctl") return;
      ({ actor: kind, key } = parsed);
    } catch {
      this.#send(0, index, subject, data, INPUT_CTL);
      return;
    }
    const def = this.#defs.find((d) => d.kind === kind);
    if (!def) return; // a kind not replayed: every host ignores it
    let config: unknown;
    try {
      const envelope = decodeEnvelope(data, this.#options.limits);
      config = def.parseConfig(envelope.body, this.#configs.get(kind), `ctl.${kind}`);
    } catch {
      this.#send(0, index, subject, data, INPUT_CTL); // one host dead-letters it
      return;
    }
    if (key === undefined) {
      this.#configs.set(kind, config);
      this.#routes = new Map(); // routes may depend on the configuration
      if (this.threads > 1) this.#merged.several(index, null);
      for (let w = 0; w < this.threads; w++) this.#send(w, index, subject, data, INPUT_CTL);
    } else {
      const stream = `${kind}/${key}`;
      this.#merged.created(stream);
      this.#send(this.#owner(key), index, subject, data, INPUT_CTL);
    }
  }

  #route(channel: string): Route {
    let route = this.#routes.get(channel);
    if (!route) {
      const streams: string[] = [];
      const workers: number[] = [];
      for (const def of this.#defs) {
        for (const key of def.route(channel, this.#configs.get(def.kind))) {
          streams.push(`${def.kind}/${key}`);
          const w = this.#owner(key);
          if (!workers.includes(w)) workers.push(w);
        }
      }
      const order = workers.length > 1 ? new Map(streams.map((s, i) => [s, i])) : undefined;
      route = { streams, workers, order };
      if (this.#routes.size >= 100_000) this.#routes.clear();
      this.#routes.set(channel, route);
    }
    return route;
  }

  #owner(key: string): number {
    return this.#owners[partitionOf(key, PARTITIONS)]!;
  }

  #send(w: number, index: number, subject: string, data: Uint8Array, flags: number): void {
    const state = this.#workers[w]!;
    state.writer.append(index, subject, data, flags);
    if (state.writer.bytes >= BATCH_BYTES) this.#ship();
  }

  /**
   * Sends every worker its batch (a worker with nothing to do and nothing in hand is caught up).
   */
  #ship(): void {
    this.#pendingInputs = 0;
    const through = this.#next - 1;
    for (const w of this.#workers) {
      if (w.writer.count === 0) {
        // Nothing new for it: caught up to here now, or once the batches it has come back.
        if (w.inFlight === 0) w.through = through;
        else w.idleThrough = through;
        continue;
      }
      const batch = w.writer.take();
      this.#post(w, { type: "inputs", through, ...batch }, [batch.buf]);
      w.inFlight++;
    }
    this.#merged.merge();
  }

  #post(w: WorkerState, msg: ToWorker, transfer: ArrayBuffer[] = []): void {
    w.worker!.postMessage(msg, transfer);
  }

  /** Waits while a worker has too many batches in hand (the replay must not read far ahead). */
  breathe(): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    return this.#until(() => this.#workers.every((w) => w.inFlight < IN_FLIGHT_MAX));
  }

  /** Sends what is batched and waits until every input so far is applied and its outputs merged. */
  async flush(): Promise<void> {
    this.#ship();
    await this.#until(() => this.#workers.every((w) => w.inFlight === 0));
    this.#merged.merge();
  }

  /**
   * Ends the replay: flushes, inspects `which` where it ran, stops every host (their last
   * outputs merged too) and the threads.
   */
  async finish(
    which: { kind: string; key: string } | undefined,
  ): Promise<ReplayInspection | { streams: string[] } | undefined> {
    await this.flush();
    for (const w of this.#workers) this.#post(w, { type: "end", inspect: which });
    await this.#until(() => this.#workers.every((w) => w.ended));
    for (const w of this.#workers) w.through = Infinity;
    this.#merged.merge();
    this.#finished = true;
    if (!which) return undefined;
    const streams: string[] = [];
    for (const w of this.#workers) {
      const r = w.inspect;
      if (r && !("streams" in r)) return r;
      if (r) streams.push(...r.streams);
    }
    const rank = (s: string) => this.#merged.rank.get(s) ?? Infinity;
    return { streams: streams.sort((a, b) => rank(a) - rank(b)) };
  }

  /**
   * Lets go of the threads: after `finish`, back to the pool of idle workers (their hosts are
   * stopped, their code is warm); after a failure, terminated.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const reuse = this.#finished && !this.#failure;
    await Promise.all(this.#workers.map(async (w) => {
      w.detach?.();
      if (!w.worker) return;
      if (reuse) releaseWorker(w.worker, this.#registryKey);
      else await w.worker.terminate().catch(() => {});
    }));
  }

  // --- waiting and failing -----------------------------------------------------------------------

  async #until(done: () => boolean): Promise<void> {
    while (true) {
      if (this.#failure) throw this.#failure;
      if (done()) return;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }

  #fail(err: Error): void {
    this.#failure ??= err;
    this.#wake();
  }
}
