/**
 * A host on several worker threads (`troupe run --threads N`): the partitions it owns are shared
 * out among N threads (partition p to thread p mod N, whatever else the host owns, so that a
 * partition stays in its thread's journal when the owned list changes), each a host of its own
 * (_host_thread.ts) with its own mailboxes, kernels, journal and snapshots under
 * `<data_dir>/thread-<i>`, its own NATS connection for outputs and control, and its own recovery.
 * The edge's subscription is on the main thread: a feed frame's subject is parsed there, routed
 * (the kinds' routes, the keys' partitions) and its bytes handed to the threads that own a target;
 * each thread decodes, checks, admits (under its share of the host's channel limit) and journals
 * it as a lone host would. So each instance still has one writer, its journal and its outputs are
 * what one host would make of the same frames, and replay is exact whatever N is. The main thread
 * serves /healthz (every thread's health, the channels summed, and what each thread's scans are
 * still warming, which the thread tells as it changes) and /metrics (every thread's series,
 * labelled by its host id `<host_id>-t<i>`, but the channel series, summed as the host's, and its
 * own registry's: `troupe up`'s incident stage registers there). With `scans`, each thread runs the
 * scan worker for its partitions' bars and thread 0 the scan API, which the main thread's port
 * forwards to (_thread_http_proxy.ts).
 *
 * The frames a thread gets from one read of the client's socket go to it in one message. Between
 * the edge and a thread at most `mailbox_max` frames wait; past that a frame is dropped
 * and counted, as a slow core-NATS subscriber's would be (the thread's edge then sees the gap in
 * the channel's sequence, like any loss on core NATS). A data directory is for one thread count:
 * `threads.json` says which (data_dir_claim.ts), and a start with another is refused (an
 * instance's journal is in the
 * thread that owned it).
 *
 * A team's steps are tried on each thread's own trials threads (step_trials.ts), so one that
 * never returns ends its trials thread, not the process; the others run under a step watchdog
 * the main thread starts for each thread. A thread runs from a bundle on Node from TypeScript,
 * which can start neither: the main thread starts the watchdogs and builds the trials threads'
 * modules.
 *
 * A thread's V8 young generation is kept small (THREAD_YOUNG_GENERATION_MB), for the memory of
 * its frames' byte arrays: see there.
 */
import type { Server } from "node:http";
import type { ResourceLimits, Worker } from "node:worker_threads";
import { Registry } from "prom-client";
import { startWorker, stopThread, untilStarted, workerModuleUrls } from "../../threads/mod.ts";
import {
  type BusSubscription,
  feedOfBatchSubject,
  parseSubject,
  SUBJECT_ROOT,
} from "../../../protocol/mod.ts";
import { NatsBus } from "../transport/mod.ts";
import { HostFatalError } from "../operations/mod.ts";
import {
  type HostConfig,
  type HostHealth,
  kindConfigs,
  type KindRegistry,
  loadKindsModule,
  natsLiveness,
  partitionOf,
  STEP_OVERRUN_FILE,
  stepTrialModules,
  StepWatch,
  type StuckStep,
  type TeamKinds,
  triedKinds,
} from "../host/mod.ts";
import { join } from "node:path";
import { closeServer, type HttpExtension, serveHostHttp, serverPort } from "../operations/mod.ts";
import { mergeMetricsText } from "./_metrics_text_merge.ts";
import { hostChannelSeries, summedChannelRoom } from "./_thread_channel_room.ts";
import { threadConfig, threadCount, threadsUnsupported } from "./thread_config.ts";
import { claimDataDir } from "./data_dir_claim.ts";
import { threadHttpProxy } from "./_thread_http_proxy.ts";
import { HandedBatch } from "./_handed_batch.ts";
import {
  countsBase,
  type FromHostThread,
  type HostThreadData,
  type HostThreadStarted,
  type ToHostThread,
} from "./_host_thread_wire.ts";

/** Options of `ThreadedHost.start`. */
export interface ThreadedHostOptions {
  /**
   * The URL of the module of the kinds the host runs (kinds_module.ts): the main thread routes
   * by its definitions, each thread loads it.
   */
  kinds: string | URL;
  /** Where the main thread's lines go (default: stderr, prefixed with the host id). */
  log?: (message: string) => void;
  /** The feed subjects the host takes (default every feed: `troupe.feed.>`). */
  feeds?: string;
  /**
   * Run the kinds module's `hostService` beside the threads' hosts (the built-in kinds' is the
   * scan service: each thread a scan worker for its partitions, thread 0 the scan API, served on
   * the host's port). Default false.
   */
  scans?: boolean;
  /** Milliseconds between the threads' looks for due clock ticks (0: none, while recording). */
  tickEveryMs?: number;
  /**
   * The team's kinds among `kinds`: each thread tries their steps on trials threads of its own
   * (step_trials.ts), unless `supervision.isolate_user_kinds` is false; the main thread builds
   * the trials threads' modules, which a thread, running from a bundle, cannot.
   */
  teamKinds?: TeamKinds;
  /**
   * Run once the threads have recovered, before the host takes feeds: a stage that folds the
   * threads' outputs (the incident stage) subscribes here, so that it misses none of them. A
   * rejection fails the start.
   */
  beforeFeeds?: (host: ThreadedHost) => Promise<void>;
}

/**
 * The young generation of each thread's V8 heap, in MiB (Node's default for a worker is 48: three
 * semi-spaces of 16). A thread's frames live in ArrayBuffers outside the heap (the frame handed
 * to it, the kernel's result columns, the encoded output and nats.js's copy of it, ~60 KB a frame
 * of 500 samples), and V8 frees an ArrayBuffer's memory only when a collection finds it dead; it
 * counts the memory not yet freed against the old generation's allocation limit. With the
 * default, the young generation filled so slowly (the heap objects of a frame are few) that those
 * bytes reached the limit first: a full mark-compact every ~150-200 ms on a 14 MB heap, with
 * incremental marking running most of the time, more mark-compacts than scavenges. Three MiB
 * (semi-spaces of 1) makes a scavenge every few dozen frames, each freeing the dead frames'
 * buffers while they are young, and the threaded anomaly host takes less CPU a sample
 * (`troupe bench pipeline --threads 2`). A process-wide `--max-semi-space-size` (the `troupe`
 * command's) takes precedence over it: V8's flags win over a worker's limits.
 */
export const THREAD_YOUNG_GENERATION_MB = 3;

/** A thread as the main thread sees it. */
interface HostThread {
  worker: Worker;
  health: HostHealth | undefined;
  /** Frames handed to it, all told (what it took is in the shared counters). */
  handed: number;
  /** Frames dropped because `mailbox_max` were waiting for it. */
  dropped: number;
  /** What its service is warming (the scans), as it last said: /healthz names it. */
  warming: string[];
  /** Its host's own HTTP port (thread 0's, for the scan API), once started. */
  httpPort: number | undefined;
  /** Its V8 heap's limit in bytes, as it said once started (NaN before). */
  heapLimitBytes: number;
  /** Whether its worker has exited: a stop is then not asked (it would wait for no answer). */
  exited: boolean;
  /**
   * Frames handed since the last post: one message a thread for all the frames the client
   * delivers from one read (posted once they are delivered, in a microtask), not one a frame, in
   * one transferred buffer (_handed_batch.ts), not one a frame.
   */
  batch: HandedBatch;
  post(): void;
}

/** A step watchdog started for a thread (StepWatch.startFor). */
type ThreadWatchdog = Awaited<ReturnType<typeof StepWatch.startFor>>;

/** A host on several threads, as `troupe run --threads N` runs it. */
export class ThreadedHost {
  readonly config: HostConfig;
  readonly #threads: HostThread[] = [];
  /** The stops of the threads' step watchdogs (step_watch.ts), which this thread started. */
  readonly #watchdogs: Array<() => Promise<void>> = [];
  #counts = new BigInt64Array(new SharedArrayBuffer(0));
  readonly #kinds: string[];
  readonly #registry: KindRegistry;
  /** Each kind's configuration, parsed (a kind's route reads it: coherence's groups). */
  readonly #configs: Map<string, unknown>;
  readonly #bus: NatsBus;
  readonly #log: (message: string) => void;
  /** The threads each feed subject goes to (empty: none consumes it). */
  readonly #routes = new Map<string, number[]>();
  #sub: BusSubscription | undefined;
  #http: Server | undefined;
  #metricsId = 0;
  readonly #metricsWaits = new Map<number, (text: string) => void>();
  #reportFatal: (err: HostFatalError) => void = () => {};
  /** Resolves with the error that stopped a thread's host while it ran; never rejects. */
  readonly fatal: Promise<HostFatalError>;
  #closed = false;
  readonly #options: ThreadedHostOptions;
  /** Series of the main thread's own (an incident stage's), merged into /metrics. */
  readonly registry = new Registry();

  private constructor(
    config: HostConfig,
    bus: NatsBus,
    registry: KindRegistry,
    options: ThreadedHostOptions,
  ) {
    this.config = config;
    this.#registry = registry;
    this.#bus = bus;
    this.#options = options;
    this.#log = options.log ?? ((m: string) => console.error(`[${config.host_id}] ${m}`));
    this.#kinds = Object.keys(config.actors);
    this.#configs = kindConfigs(this.#kinds.map((k) => registry[k]!), config.actors);
    this.fatal = new Promise<HostFatalError>((r) => (this.#reportFatal = r));
  }

  /**
   * Starts a host of `threads` threads (see threadCount) from `config`: each thread recovers,
   * then the main thread subscribes to the feeds. Rejects with a HostFatalError (one line) when
   * the configuration cannot be split, the data directory is another thread count's, or a thread
   * fails to start; whatever was started is stopped first.
   */
  static async start(
    config: HostConfig,
    threads: number,
    options: ThreadedHostOptions,
  ): Promise<ThreadedHost> {
    const feeds = options.feeds ?? `${SUBJECT_ROOT}.feed.>`;
    const why = threadsUnsupported(config);
    if (why !== undefined) throw new HostFatalError(`Cannot run on ${threads} threads: ${why}`);
    const n = threadCount(config, threads);
    const { registry } = await loadKindsModule(options.kinds);
    const unknown = Object.keys(config.actors).filter((k) => !Object.hasOwn(registry, k));
    if (unknown.length > 0) {
      throw new HostFatalError(
        `Cannot run kind ${unknown.join(", ")}: module ${options.kinds} has ${
          Object.keys(registry).join(", ")
        }`,
      );
    }
    claimDataDir(config.data_dir, n);
    const bus = await NatsBus.connect(config.nats!, {
      name: `${config.host_id}-edge`,
      auth: config.nats_auth,
    });
    const host = new ThreadedHost(config, bus, registry, options);
    try {
      await host.#startThreads(n);
      if (config.http_port !== undefined) await host.#serve(config.http_port);
      await options.beforeFeeds?.(host);
      host.#sub = bus.subscribe(feeds, (m) => host.#hand(m.subject, m.data));
      await bus.flush();
      return host;
    } catch (err) {
      await host.close();
      throw err instanceof HostFatalError
        ? err
        : new HostFatalError((err as Error).message, { cause: err });
    }
  }

  /** The threads the host runs on. */
  get threads(): number {
    return this.#threads.length;
  }

  /** The HTTP port of /healthz and /metrics, when served. */
  get httpPort(): number | undefined {
    return serverPort(this.#http);
  }

  /** Inputs of `kind` applied, all threads, or those of thread `index`. */
  applied(kind: string, index?: number): number {
    const k = this.#kinds.indexOf(kind);
    if (k < 0) return 0;
    let sum = 0;
    for (let i = 0; i < this.#threads.length; i++) {
      if (index !== undefined && i !== index) continue;
      sum += Number(Atomics.load(this.#counts, countsBase(i, this.#kinds.length) + 1 + k));
    }
    return sum;
  }

  /** Each thread's V8 heap limits as its worker reports them (empty once it has stopped). */
  resourceLimits(): ResourceLimits[] {
    return this.#threads.map((t) => ({ ...t.worker.resourceLimits }));
  }

  /** Frames dropped at the hand-off because a thread had `mailbox_max` waiting, all threads. */
  get dropped(): number {
    return this.#threads.reduce((n, t) => n + t.dropped, 0);
  }

  /** Fails while the main thread's NATS connection (the feed subscription's) is down. */
  readonly #edgeLiveness = natsLiveness(() => this.#bus.state);

  /**
   * Every thread's health and the edge's: ok when each is; the reasons prefixed with where; the
   * steps running long on the threads' trials threads among `stuck`, each naming its thread and
   * that thread's host id.
   */
  health(): HostHealth & { stuck: Array<StuckStep & { thread: number; host_id: string }> } {
    const out: ReturnType<ThreadedHost["health"]> = {
      ok: !this.#closed,
      ready: !this.#closed,
      reasons: [],
      instances: { recovering: 0, running: 0, backoff: 0, stopped: 0 },
      stuck: [],
    };
    const edge = this.#edgeLiveness();
    if (edge !== undefined) {
      out.ok = false;
      out.reasons.push(`edge: ${edge}`);
    }
    this.#threads.forEach((t, i) => {
      const h = t.health;
      if (!h) {
        out.ok = out.ready = false;
        out.reasons.push(`thread ${i}: no health yet`);
        return;
      }
      out.ok &&= h.ok;
      out.ready &&= h.ready;
      for (const r of h.reasons) out.reasons.push(`thread ${i}: ${r}`);
      const host_id = `${this.config.host_id}-t${i}`;
      for (const s of h.stuck ?? []) out.stuck.push({ thread: i, host_id, ...s });
      for (const [s, c] of Object.entries(h.instances)) {
        out.instances[s as keyof HostHealth["instances"]] += c;
      }
    });
    const channels = summedChannelRoom(this.#threads.map((t) => t.health?.channels));
    if (channels !== undefined) out.channels = channels;
    return out;
  }

  /**
   * What the threads' services are still warming, each line prefixed with its thread (empty once
   * every thread is warm): /healthz's `warming`, as a lone host's names its service's.
   */
  warming(): string[] {
    return this.#threads.flatMap((t, i) => t.warming.map((w) => `thread ${i}: ${w}`));
  }

  /**
   * Every thread's /metrics, merged into one exposition; the channel series summed as the host's
   * (_thread_channel_room.ts).
   */
  async metricsText(): Promise<string> {
    const threadTexts = await Promise.all(this.#threads.map((t) => {
      const id = ++this.#metricsId;
      return new Promise<string>((resolve) => {
        this.#metricsWaits.set(id, resolve);
        t.worker.postMessage({ type: "metrics", id } satisfies ToHostThread);
      });
    }));
    const byThread = (name: string, value: (t: HostThread) => number) =>
      this.#threads.map((t, i) => `${name}{host="${this.config.host_id}-t${i}"} ${value(t)}`)
        .join("\n");
    const { texts, series } = hostChannelSeries(threadTexts, this.config.host_id);
    return mergeMetricsText([
      ...texts,
      series,
      await this.registry.metrics(),
      "# HELP troupe_thread_handoff_dropped_total Feed frames dropped at the hand-off to a " +
      "thread that had mailbox_max waiting\n# TYPE troupe_thread_handoff_dropped_total counter\n" +
      byThread("troupe_thread_handoff_dropped_total", (t) => t.dropped),
      "# HELP troupe_thread_heap_limit_bytes The thread's V8 heap limit, young and old " +
      "generations\n# TYPE troupe_thread_heap_limit_bytes gauge\n" +
      byThread("troupe_thread_heap_limit_bytes", (t) => t.heapLimitBytes),
    ]);
  }

  /** Stops the feed, then every thread (each drains, snapshots and closes), then the bus. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#sub?.unsubscribe();
    await Promise.all(this.#threads.map((t) => t.exited ? undefined : stopThread(t.worker)));
    await Promise.all(this.#watchdogs.splice(0).map((stop) => stop()));
    await closeServer(this.#http);
    this.#http = undefined;
    await this.#bus.close().catch(() => {});
  }

  /**
   * Starts the step watchdog of the thread of `config` here (the thread runs from a bundle, which
   * cannot start it), where the thread's host has a data directory of its own for the overrun
   * file. A step it watches (troupe's own kinds', and a team's kinds' when they are not tried on
   * a trials thread) past its deadline on any thread ends the whole process, as on one thread.
   */
  async #watchdogFor(config: HostConfig): Promise<ThreadWatchdog | undefined> {
    if (config.journal.kind !== "file") return undefined;
    const file = join(config.data_dir, STEP_OVERRUN_FILE);
    const watchdog = await StepWatch.startFor({ file, hostId: config.host_id });
    this.#watchdogs.push(watchdog.stop);
    return watchdog;
  }

  /**
   * The team's kinds as a thread is given them, with the trials threads' modules built here (a
   * thread runs from a bundle: the trials thread's module URL it would make names no file);
   * undefined when the host tries none (none configured, or `isolate_user_kinds` false).
   */
  async #teamKinds(): Promise<TeamKinds | undefined> {
    const team = this.#options.teamKinds;
    const kinds = triedKinds(this.config, team);
    if (!team || kinds.length === 0) return undefined;
    const module = String(team.module);
    return { module, kinds, modules: await stepTrialModules(module) };
  }

  async #startThreads(n: number): Promise<void> {
    const shared = new SharedArrayBuffer(8 * n * (this.#kinds.length + 1));
    this.#counts = new BigInt64Array(shared);
    // One bundle for the thread and its kinds on Node from TypeScript: they share every module.
    const [entry, kinds] = await workerModuleUrls([
      new URL("./_host_thread.ts", import.meta.url),
      new URL(this.#options.kinds),
    ]);
    const teamKinds = await this.#teamKinds();
    const started: Array<Promise<void>> = [];
    for (let i = 0; i < n; i++) {
      const scans = this.#options.scans ?? false;
      const config = threadConfig(this.config, i, n);
      const data: HostThreadData = {
        hostThread: true,
        index: i,
        answerers: Array.from({ length: n }, (_, j) => threadConfig(this.config, j, n).host_id),
        hostChannelsMax: this.config.limits.channels_max,
        // Thread 0 serves the scan API on a loopback port of its own, forwarded to; it asks the
        // same credentials, which the forwarding passes on as they came.
        config: scans && i === 0 ? { ...config, http_port: 0, http_host: "127.0.0.1" } : config,
        counts: shared,
        kindsModule: kinds!.href,
        scans,
        ...(this.#options.tickEveryMs === undefined
          ? {}
          : { tickEveryMs: this.#options.tickEveryMs }),
        ...(teamKinds ? { teamKinds } : {}),
      };
      const watchdog = await this.#watchdogFor(config);
      if (watchdog) data.stepWatchdog = watchdog.handle;
      const worker = await startWorker(entry!, {
        workerData: data,
        transferList: watchdog ? [watchdog.handle.port] : [],
        resourceLimits: { maxYoungGenerationSizeMb: THREAD_YOUNG_GENERATION_MB },
      });
      const thread: HostThread = {
        worker,
        health: undefined,
        warming: [],
        handed: 0,
        dropped: 0,
        httpPort: undefined,
        heapLimitBytes: NaN,
        exited: false,
        batch: new HandedBatch(),
        post: () => {
          const { frames, transfer } = thread.batch.take();
          worker.postMessage(frames, transfer);
        },
      };
      this.#threads.push(thread);
      const listening = this.#listen(thread, i);
      // Handled here at once: it may fail while the next thread starts, before the wait below.
      listening.catch(() => {});
      started.push(listening);
    }
    await Promise.all(started);
  }

  /** Follows a thread's messages; resolves once its host has started, rejects if it cannot. */
  #listen(thread: HostThread, index: number): Promise<void> {
    thread.worker.on("error", (err: Error) => {
      this.#reportFatal(new HostFatalError(`thread ${index}: ${err.message}`, { cause: err }));
    });
    thread.worker.once("exit", () => (thread.exited = true));
    thread.worker.on("message", (m: FromHostThread) => {
      switch (m.type) {
        case "health":
          thread.health = m.health;
          return;
        case "warming":
          thread.warming = m.warming;
          return this.#log(
            `thread ${index}: ${m.warming.length ? `warming: ${m.warming.join("; ")}` : "warm"}`,
          );
        case "metrics":
          this.#metricsWaits.get(m.id)?.(m.text);
          this.#metricsWaits.delete(m.id);
          return;
        case "log":
          return this.#log(`thread ${index}: ${m.message}`);
        case "fatal":
          this.#log(`thread ${index} stopped: ${m.message}`);
          return this.#reportFatal(new HostFatalError(`thread ${index}: ${m.message}`));
      }
    });
    return untilStarted<HostThreadStarted>(thread.worker, { thread: `thread ${index}` }).then(
      (m) => {
        thread.httpPort = m.httpPort;
        thread.heapLimitBytes = m.heapLimitBytes;
      },
      (err: Error) => {
        throw new HostFatalError(err.message, { cause: err });
      },
    );
  }

  /** Hands a feed frame to the threads that own an instance consuming it. */
  #hand(subject: string, data: Uint8Array): void {
    let to = this.#routes.get(subject);
    if (to === undefined) {
      to = this.#route(subject);
      if (this.#routes.size >= this.config.limits.channels_max) this.#routes.clear();
      this.#routes.set(subject, to);
    }
    const max = this.config.limits.mailbox_max;
    const kinds = this.#kinds.length;
    for (const i of to) {
      const t = this.#threads[i]!;
      const taken = Number(Atomics.load(this.#counts, countsBase(i, kinds)));
      if (t.handed - taken >= max) {
        t.dropped++;
        continue;
      }
      t.handed++;
      // A copy, in the batch's buffer, to transfer: the message's bytes may be a view of the
      // client's read buffer (and a Buffer's slice() would be another view of it).
      if (t.batch.size === 0) queueMicrotask(t.post);
      t.batch.add(subject, data);
    }
  }

  /**
   * The threads that own an instance the frames of `subject` go to. A subject that is no feed's
   * (or is malformed) goes to thread 0, whose edge dead-letters it as a lone host's would.
   */
  #route(subject: string): number[] {
    // A feed batch holds channels of every thread's: each thread's edge takes its own.
    if (feedOfBatchSubject(subject) !== undefined) return this.#threads.map((_, i) => i);
    let channel: string;
    try {
      const parsed = parseSubject(subject);
      if (parsed.kind !== "feed") return [];
      channel = parsed.channel;
    } catch {
      return [0];
    }
    const { count, owned } = this.config.partitions;
    const n = this.#threads.length;
    const to = new Set<number>();
    for (const kind of this.#kinds) {
      const def = this.#registry[kind]!;
      for (const key of def.route(channel, this.#configs.get(kind))) {
        const p = partitionOf(key, count);
        if (owned.includes(p)) to.add(p % n);
      }
    }
    return [...to].sort((a, b) => a - b);
  }

  async #serve(port: number): Promise<void> {
    const proxy = this.#options.scans
      ? threadHttpProxy(() => this.#threads[0]?.httpPort)
      : undefined;
    const extra: HttpExtension = {
      handle: (req, res) => proxy?.handle(req, res) ?? Promise.resolve(false),
      upgrade: (req, socket, head) => proxy?.upgrade(req, socket, head) ?? false,
      warming: () => this.warming(),
    };
    this.#http = await serveHostHttp(port, {
      hostId: this.config.host_id,
      health: () => this.health(),
      metrics: {
        text: () => this.metricsText(),
        contentType: "text/plain; version=0.0.4; charset=utf-8",
      },
      refreshGauges: () => {},
      ...(this.config.partitions.leases ? {} : {
        partitions: { count: this.config.partitions.count, owned: this.config.partitions.owned },
      }),
    }, { extra, bind: this.config.http_host, auth: this.config.http_auth });
  }
}
