/**
 * A replay worker thread: runs a Host over an InProcessBus for a share of a replay's actor
 * instances (the partitions it is given), applies the batches of inputs the replay sends it, and
 * sends back, per batch, every output with the index of the input that caused it, so that the
 * replay can merge the outputs of all its workers into one deterministic order.
 *
 * Inputs reach the host synchronously, one by one: frames through the host's input source, control
 * messages through the bus (then flushed before the next input). The host's outputs are taken off
 * as it publishes them, so each is attributed to exactly the input being applied. An exception
 * out of the host (a bug: its own failures are supervised) fails the worker, and with it the
 * replay, naming the input; it is never swallowed.
 *
 * A worker serves one replay at a time, from its "init" to its "end", and then the next one it is
 * given with a fresh host: a replay keeps its workers, their code compiled and warm, for the next.
 */
import { isMainThread, type MessagePort, parentPort, workerData } from "node:worker_threads";
import {
  type AnyActorDefinition,
  Host,
  InProcessBus,
  type InputSource,
  type RecordedSkip,
  RecordedSkips,
  RecordedTicks,
} from "../../actors/runtime/mod.ts";
import { ACTOR_KINDS } from "../../actors/mod.ts";
import {
  type Bus,
  type BusHandler,
  type BusMessage,
  type BusSubscription,
  findingOutputSubject,
  type FrameLimits,
  type PublishOptions,
  type RequestOptions,
  SUBJECT_ROOT,
  type SubscribeOptions,
  type TickNotice,
} from "../../protocol/mod.ts";
import { BatchReader, BatchWriter } from "./_replay_batch.ts";
import { inspectInstance, type ReplayInspection } from "./_replay_inspect.ts";
import { CompactingSnapshots, ReplayJournal } from "./_replay_journal.ts";

/** What a replay worker is started with. */
export interface ReplayWorkerData {
  troupeReplayWorker: true;
  /** A module exporting `registry` (kinds by name), importable here; default ACTOR_KINDS. */
  registryModule: string | undefined;
}

/** What a worker's host runs: sent at the start of each replay (a worker serves one at a time). */
export interface ReplayWorkerInit {
  type: "init";
  kinds: string[];
  config: Record<string, unknown>;
  limits: FrameLimits & { channelsMax?: number };
  snapshotEveryInputs: number;
  partitions: number;
  owned: number[];
  /** "bytes": send every output back; "count": only how many (no one reads them). */
  outputs: "bytes" | "count";
  /** The inputs the recording says its live host skipped (recorded_skips.ts). */
  skips: RecordedSkip[];
  /** The ticks the recording says its live host applied (recorded_ticks.ts). */
  ticks: TickNotice[];
}

/** Messages to a worker. */
export type ToWorker =
  | ReplayWorkerInit
  | {
    type: "inputs";
    /** The replay's last input index when it sent this batch (echoed back). */
    through: number;
    buf: ArrayBuffer;
    bytes: number;
    subjects: string[];
  }
  | { type: "end"; inspect: { kind: string; key: string } | undefined };

/** What a worker sends with each batch it has applied, and at the end. */
export interface WorkerOutputs {
  buf: ArrayBuffer;
  bytes: number;
  subjects: string[];
  /**
   * Outputs counted and not sent (in "count" mode), dead letters and host log lines since the last
   * report.
   */
  counted: number;
  deadLetters: number;
  /** Recorded ticks put in a mailbox. */
  ticksPlaced: number;
  log: string[];
}

/** Messages from a worker. */
export type FromWorker =
  | { type: "ready" }
  | ({ type: "done"; through: number } & WorkerOutputs)
  | (
    & { type: "ended"; inspect: ReplayInspection | { streams: string[] } | undefined }
    & WorkerOutputs
  )
  | { type: "failed"; message: string };

/** Entry flags: what kind of input an entry is. */
export const INPUT_FEED = 0;
export const INPUT_CTL = 1;

const OUT_PREFIX = `${SUBJECT_ROOT}.out.`;
const FINDING_PREFIX = `${SUBJECT_ROOT}.finding.`;
const DLQ_PREFIX = `${SUBJECT_ROOT}.dlq.`;

/**
 * The host's bus: an InProcessBus, except that outputs are handed to `onOutput` as they are
 * published (they have no subscriber here) and dead letters are counted on the way.
 */
class CaptureBus implements Bus {
  readonly inner = new InProcessBus({
    onHandlerError: (err, msg) => this.onError(err, msg),
  });
  deadLetters = 0;
  onOutput: (subject: string, data: Uint8Array) => void = () => {};
  onError: (err: unknown, msg: BusMessage) => void = () => {};

  publish(subject: string, data: Uint8Array, options?: PublishOptions): void {
    if (subject.startsWith(OUT_PREFIX)) {
      this.onOutput(subject, data);
      return;
    }
    // A finding is an output, keyed by its actor's output subject as a recording's are.
    const finding = subject.startsWith(FINDING_PREFIX) ? findingOutputSubject(subject) : undefined;
    if (finding !== undefined) {
      this.onOutput(finding, data);
      return;
    }
    if (subject.startsWith(DLQ_PREFIX)) this.deadLetters++;
    this.inner.publish(subject, data, options);
  }

  subscribe(pattern: string, handler: BusHandler, options?: SubscribeOptions): BusSubscription {
    return this.inner.subscribe(pattern, handler, options);
  }

  request(subject: string, data: Uint8Array, options: RequestOptions): Promise<BusMessage> {
    return this.inner.request(subject, data, options);
  }

  flush(): Promise<void> {
    return this.inner.flush();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

type Registry = Readonly<Record<string, AnyActorDefinition>>;
let registryLoaded: Promise<Registry> | undefined;

/** The kinds this worker knows: ACTOR_KINDS, or those of the module it was started with. */
function loadRegistry(data: ReplayWorkerData): Promise<Registry> {
  registryLoaded ??= (async () => {
    if (data.registryModule === undefined) return ACTOR_KINDS;
    const mod = await import(data.registryModule) as { registry?: Registry };
    if (!mod.registry || typeof mod.registry !== "object") {
      throw new Error(`Module ${data.registryModule} exports no "registry" of actor kinds`);
    }
    return mod.registry;
  })();
  return registryLoaded;
}

/** One replay's host in this worker, set up on "init", fed the replay's batches of inputs. */
class WorkerReplay {
  readonly #port: MessagePort;
  readonly #bus = new CaptureBus();
  readonly #outputs = new BatchWriter(1 << 20);
  readonly #inputs = new BatchReader();
  readonly #host: Host;
  /** The index of the input being applied: what outputs and failures are tied to. */
  #current = 0;
  #failure: Error | undefined;
  #counted = 0;
  #log: string[] = [];
  /** The recorded ticks, and how many of them were placed at the last report. */
  readonly #ticks: RecordedTicks;
  #ticksReported = 0;
  #deliver: ((msg: BusMessage, srcPos: number) => void) | undefined;

  constructor(port: MessagePort, actors: AnyActorDefinition[], init: ReplayWorkerInit) {
    this.#port = port;
    this.#ticks = new RecordedTicks(init.ticks);
    const bus = this.#bus;
    bus.onOutput = init.outputs === "bytes"
      ? (subject, bytes) => this.#outputs.append(this.#current, subject, bytes)
      : () => this.#counted++;
    bus.onError = (err, msg) => {
      this.#failure ??= new Error(
        `the host threw on input ${this.#current} ("${msg.subject}"): ${
          (err as Error)?.stack ?? err
        }`,
      );
    };
    const input: InputSource = {
      start: (fn) => {
        this.#deliver = fn;
        return Promise.resolve();
      },
      stop: () => {
        this.#deliver = undefined;
        return Promise.resolve();
      },
    };
    const journal = new ReplayJournal();
    this.#host = new Host({
      hostId: "replay",
      bus,
      actors,
      config: init.config,
      journal,
      snapshots: new CompactingSnapshots(journal),
      partitions: { count: init.partitions, owned: init.owned },
      input,
      limits: init.limits,
      snapshotEveryInputs: init.snapshotEveryInputs,
      snapshotEveryMs: 3_600_000,
      recordedSkips: new RecordedSkips(init.skips),
      recordedTicks: this.#ticks,
      log: (m) => this.#log.push(m),
    });
  }

  /** Starts the host and says so. */
  async start(): Promise<void> {
    await this.#host.start();
    this.#port.postMessage({ type: "ready" } satisfies FromWorker);
  }

  /** Handles a message of the replay after "init". */
  handle(msg: ToWorker): Promise<void> {
    return msg.type === "inputs"
      ? this.#apply(msg)
      : msg.type === "end"
      ? this.#end(msg)
      : Promise.resolve();
  }

  /** Applies a batch of inputs, in order, and sends their outputs back. */
  async #apply(msg: Extract<ToWorker, { type: "inputs" }>): Promise<void> {
    const bus = this.#bus;
    for (const e of this.#inputs.read(msg)) {
      this.#current = e.index;
      if (e.flags === INPUT_CTL) {
        bus.inner.publish(e.subject, e.data);
        await bus.inner.flush();
      } else {
        try {
          this.#deliver!(
            { subject: e.subject, data: e.data, headers: undefined, reply: undefined },
            0,
          );
        } catch (err) {
          throw new Error(
            `the host threw on input ${e.index} ("${e.subject}"): ${(err as Error)?.stack ?? err}`,
          );
        }
      }
      if (this.#failure) throw this.#failure;
    }
    const { transfer, ...out } = this.#report();
    this.#port.postMessage(
      { type: "done", through: msg.through, ...out } satisfies FromWorker,
      transfer,
    );
  }

  /** Ends the replay: inspects what was asked for, stops the host, sends the last outputs. */
  async #end(msg: Extract<ToWorker, { type: "end" }>): Promise<void> {
    await this.#bus.flush();
    const inspect = msg.inspect ? inspectInstance(this.#host, msg.inspect) : undefined;
    await this.#host.stop();
    if (this.#failure) throw this.#failure;
    const { transfer, ...out } = this.#report();
    this.#port.postMessage({ type: "ended", inspect, ...out } satisfies FromWorker, transfer);
  }

  /** The outputs, counts and log lines since the last report. */
  #report(): WorkerOutputs & { transfer: ArrayBuffer[] } {
    const taken = this.#outputs.take();
    const out = {
      ...taken,
      counted: this.#counted,
      deadLetters: this.#bus.deadLetters,
      ticksPlaced: this.#ticks.placed - this.#ticksReported,
      log: this.#log,
      transfer: [taken.buf],
    };
    this.#counted = 0;
    this.#bus.deadLetters = 0;
    this.#ticksReported = this.#ticks.placed;
    this.#log = [];
    return out;
  }
}

/** Sets up a host on "init"; returns what handles the replay's messages after it. */
async function setUp(
  port: MessagePort,
  data: ReplayWorkerData,
  init: ReplayWorkerInit,
): Promise<(msg: ToWorker) => Promise<void>> {
  const registry = await loadRegistry(data);
  const actors = init.kinds.map((k) => {
    const def = registry[k];
    if (!def) throw new Error(`Unknown actor kind "${k}" in this worker's registry`);
    return def;
  });
  const replay = new WorkerReplay(port, actors, init);
  await replay.start();
  return (msg) => replay.handle(msg);
}

/** Handles the messages of the replay strictly in order, each after the previous one settled. */
function run(port: MessagePort, data: ReplayWorkerData): void {
  let handle: ((msg: ToWorker) => Promise<void>) | undefined;
  let chain = Promise.resolve();
  port.on("message", (msg: ToWorker) => {
    chain = chain.then(async () => {
      if (failed) return;
      if (msg.type === "init") handle = await setUp(port, data, msg);
      else if (!handle) throw new Error(`Replay worker got "${msg.type}" before "init"`);
      else await handle(msg);
    }).catch((err) => fail(port, err));
  });
}

let failed = false;
function fail(port: MessagePort, err: unknown): void {
  if (failed) return;
  failed = true;
  const message = err instanceof Error ? err.message : String(err);
  port.postMessage({ type: "failed", message } satisfies FromWorker);
}

const data = workerData as ReplayWorkerData | undefined;
if (!isMainThread && parentPort && data?.troupeReplayWorker === true) {
  run(parentPort, data);
}
