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
import type { AnyActorDefinition } from "../protocol/mod.ts";
import { Host, type InputSource } from "../actors/runtime/mod.ts";
import { InProcessBus } from "../actors/runtime/in_process_bus.ts";
import { ACTOR_KINDS } from "../actors/mod.ts";
import {
  type Bus,
  type BusHandler,
  type BusMessage,
  type BusSubscription,
  type FrameLimits,
  type PublishOptions,
  type RequestOptions,
  SUBJECT_ROOT,
  type SubscribeOptions,
} from "../protocol/mod.ts";
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
  /** Outputs counted and not sent (in "count" mode), dead letters and host log lines since the last report. */
  counted: number;
  deadLetters: number;
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

  const bus = new CaptureBus();
  const outputs = new BatchWriter(1 << 20);
  let current = 0;
  let failure: Error | undefined;
  let counted = 0;
  bus.onOutput = init.outputs === "bytes"
    ? (subject, bytes) => outputs.append(current, subject, bytes)
    : () => counted++;
  bus.onError = (err, msg) => {
    failure ??= new Error(
      `the host threw on input ${current} ("${msg.subject}"): ${(err as Error)?.stack ?? err}`,
    );
  };
  let log: string[] = [];
  let deliver: ((msg: BusMessage, srcPos: number) => void) | undefined;
  const input: InputSource = {
    start(fn) {
      deliver = fn;
      return Promise.resolve();
    },
    stop() {
      deliver = undefined;
      return Promise.resolve();
    },
  };
  const journal = new ReplayJournal();
  const host = new Host({
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
    log: (m) => log.push(m),
  });
  await host.start();
  port.postMessage({ type: "ready" } satisfies FromWorker);

  const report = (): WorkerOutputs & { transfer: ArrayBuffer[] } => {
    const taken = outputs.take();
    const out = {
      ...taken,
      counted,
      deadLetters: bus.deadLetters,
      log,
      transfer: [taken.buf],
    };
    counted = 0;
    bus.deadLetters = 0;
    log = [];
    return out;
  };

  const inputs = new BatchReader();
  const apply = async (msg: Extract<ToWorker, { type: "inputs" }>) => {
    for (const e of inputs.read(msg)) {
      current = e.index;
      if (e.flags === INPUT_CTL) {
        bus.inner.publish(e.subject, e.data);
        await bus.inner.flush();
      } else {
        try {
          deliver!({ subject: e.subject, data: e.data, headers: undefined, reply: undefined }, 0);
        } catch (err) {
          throw new Error(
            `the host threw on input ${e.index} ("${e.subject}"): ${(err as Error)?.stack ?? err}`,
          );
        }
      }
      if (failure) throw failure;
    }
    const { transfer, ...out } = report();
    port.postMessage({ type: "done", through: msg.through, ...out } satisfies FromWorker, transfer);
  };
  const end = async (msg: Extract<ToWorker, { type: "end" }>) => {
    await bus.flush();
    const inspect = msg.inspect ? inspectInstance(host, msg.inspect) : undefined;
    await host.stop();
    if (failure) throw failure;
    const { transfer, ...out } = report();
    port.postMessage({ type: "ended", inspect, ...out } satisfies FromWorker, transfer);
  };

  return (msg) =>
    msg.type === "inputs" ? apply(msg) : msg.type === "end" ? end(msg) : Promise.resolve();
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
