/**
 * Builds a running host from a HostConfig: the bus (NATS or in-process), the journal (file,
 * JetStream or memory), the snapshot store (file, NATS KV or memory), the input (core or
 * JetStream), and the host itself. `troupe run` and `troupe up` both start hosts through here.
 */
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import type { AnyActorDefinition, Bus } from "../../../protocol/mod.ts";
import { FileJournal, type Journal, MemoryJournal } from "../journal/mod.ts";
import {
  type CorruptSnapshotInfo,
  FileSnapshotStore,
  MemorySnapshotStore,
  PackedSnapshotStore,
  type SnapshotStore,
} from "../snapshots/mod.ts";
import {
  HOST_OUTBOUND_FLUSH_BYTES,
  InProcessBus,
  NATS_PING_INTERVAL_MS,
  NatsBus,
  openFindingsStream,
} from "../transport/mod.ts";
import { describeError, HostFatalError } from "../operations/mod.ts";
import { Host } from "./host.ts";
import { SNAPSHOT_MAX_AGE_MS, SNAPSHOT_MIN_INPUTS } from "../recovery/mod.ts";
import { feedStreamOptions, type HostConfig } from "./host_config.ts";
import type { HttpExtension } from "../operations/mod.ts";
import type { HostOptions } from "./host_options.ts";
import { controlStreamSource } from "../control/stream/mod.ts";
import { natsLiveness } from "./liveness.ts";
import { TICK_EVERY_MS } from "./ticker.ts";
import { DEFAULT_PROGRESS, ProgressReporter } from "./progress_reporter.ts";
import { type InputSource, jetStreamInput } from "../edge/mod.ts";
import { jetStreamSetting, requireJetStream } from "./jetstream_required.ts";
import { startStepDeadlines, startStepTrials, type TeamKinds } from "./step_deadlines.ts";
import type { StepWatchHandle } from "./step_watch.ts";
import type { NatsConnection } from "@nats-io/transport-node";
import type { StageTrace } from "../instances/mod.ts";

/** Time-based snapshots a launched host's periodic round captures in one go (host_options.ts). */
export const SNAPSHOTS_PER_SLICE_MAX = 50;

/** A host with what it was built from. */
export interface LaunchedHost {
  host: Host;
  bus: Bus;
  journal: Journal;
  snapshots: SnapshotStore;
  /**
   * Resolves with the error that stopped the host while it ran (e.g. a full disk); never rejects.
   */
  fatal: Promise<HostFatalError>;
  /** Stops the host, then closes the journal, the snapshot store and (if it owns it) the bus. */
  close(): Promise<void>;
}

/** A service run beside a host, on its bus and its HTTP port (the scan service and worker). */
export interface HostService {
  /** Routes it serves on the host's HTTP port. */
  http?: HttpExtension;
  /** Stops it; called before the host stops. */
  close(): Promise<void>;
}

/** What a host service is built from: the started host, its bus and configuration. */
export interface HostServiceParts {
  host: Host;
  bus: Bus;
  config: HostConfig;
  log: (message: string) => void;
  /**
   * Says why the service is not ready yet while it is being built (`"seeding bars history: 1,200
   * of 10,000 files"`), undefined once it is: /healthz answers 503 with that reason meanwhile.
   */
  notReady(reason: string | undefined): void;
  /**
   * Says what the service is still warming once it serves (`"scans: rehearsing the scan path"`),
   * undefined once warm: /healthz stays 200 and names it in `warming` meanwhile.
   */
  warming(what: string | undefined): void;
}

/** Options of `launchHost`. */
export interface LaunchOptions {
  /** A bus to use instead of connecting (e.g. the in-process bus `troupe up` shares). */
  bus?: Bus;
  log?: (message: string) => void;
  /** Milliseconds between looks for due clock ticks (default TICK_EVERY_MS; 0: none). */
  tickEveryMs?: number;
  /** Builds a service once the host has started (recovered); its routes join the host's port. */
  service?: (parts: HostServiceParts) => Promise<HostService>;
  /** Times the stages of each feed frame's trip through the host (bench latency --trace-stages). */
  stageTrace?: StageTrace;
  /**
   * Where feed frames come from instead of the configuration's input (a threaded host's thread).
   */
  input?: InputSource;
  /** False: no step watchdog, steps without a deadline (`bench pipeline --deadline`'s baseline). */
  stepDeadlines?: boolean;
  /** The watchdog a threaded host's main thread started for this thread's host (step_watch.ts). */
  stepWatchdog?: StepWatchHandle;
  /**
   * The team's kinds among `kinds`, and the module they come from: their steps are tried on a
   * worker thread first, unless `supervision.isolate_user_kinds` is false (step_trials.ts).
   */
  teamKinds?: TeamKinds;
  /**
   * Told what the service is warming each time it changes (empty once warm): a threaded host's
   * thread passes it on, for the main thread's /healthz.
   */
  onWarming?: (warming: string[]) => void;
  /**
   * Run once the host is built, before it recovers and takes input: a stage that folds the
   * host's outputs (the incident stage) subscribes here, so that it misses none of what the host
   * publishes as it catches up with input that waited while it was down. A rejection fails the
   * launch.
   */
  beforeStart?: (parts: { host: Host; bus: Bus }) => Promise<void>;
  /** The name of its progress marks (default the host id; a threaded host's thread adds its). */
  progressSource?: string;
  /** On a threaded host's thread: the ids of all the host's threads (HostOptions.answerers). */
  answerers?: readonly string[];
  /** On a threaded host's thread: the whole host's channel limit (HostLimits). */
  routedChannelsMax?: number;
}

/**
 * Builds and starts a host from its configuration. A failure to start closes whatever was opened
 * (the NATS connection, the journal and its lock, the HTTP port) and rejects with a
 * HostFatalError whose message is one line naming the cause and the value.
 */
export async function launchHost(
  config: HostConfig,
  kinds: Readonly<Record<string, AnyActorDefinition>>,
  options: LaunchOptions = {},
): Promise<LaunchedHost> {
  const log = options.log ?? ((m: string) => console.error(`[${config.host_id}] ${m}`));
  const opened: Array<() => Promise<void>> = [];
  let reportFatal: (err: HostFatalError) => void = () => {};
  const fatal = new Promise<HostFatalError>((resolve) => (reportFatal = resolve));
  try {
    const bus = options.bus ?? await connectBus(config, log);
    if (options.bus === undefined) opened.push(() => bus.close());
    if (options.bus === undefined) await journalFindings(bus, config);
    const nc = bus instanceof NatsBus ? bus.nc : undefined;
    const onFatal = (err: unknown) => reportFatal(asFatal(err));
    const built: { host?: Host } = {};
    // The journal's write errors go to the host, which stops consuming, then to onFatal.
    const journal = await openJournal(
      config,
      nc,
      log,
      (err) => built.host ? built.host.fail(err) : onFatal(err),
    );
    opened.push(() => journal.close());
    const snapshots = await openSnapshots(config, nc, log);
    opened.push(() => snapshots.close());
    const deadlines = options.stepDeadlines === false
      ? undefined
      : await startStepDeadlines(config, log, options.stepWatchdog);
    if (deadlines) opened.push(() => deadlines.stop());
    const trials = await startStepTrials(config, options.teamKinds, log);
    if (trials) opened.push(() => trials.stop());
    const mount = serviceMount();
    const base = hostOptions(config, kinds, { bus, nc, journal, snapshots, log, onFatal });
    const host = new Host({
      ...base,
      ...(options.service
        ? { http: mount.http, liveness: [...(base.liveness ?? []), () => mount.notReady] }
        : {}),
      tickEveryMs: options.tickEveryMs ?? TICK_EVERY_MS,
      snapshotsPerSliceMax: SNAPSHOTS_PER_SLICE_MAX,
      ...(options.stageTrace ? { stageTrace: options.stageTrace } : {}),
      ...(options.input ? { input: options.input } : {}),
      ...deadlines?.options,
      ...(trials ? { stepTrials: trials } : {}),
      ...(options.answerers ? { answerers: options.answerers } : {}),
      limits: { ...base.limits, routedChannelsMax: options.routedChannelsMax },
    });
    built.host = host;
    if (bus instanceof NatsBus) host.metrics.watchNats(() => bus.state);
    opened.push(() => host.stop());
    const source = options.progressSource ?? config.host_id;
    const progress = progressOf(host, { bus, config, kinds: Object.keys(kinds), source });
    opened.push(() => Promise.resolve(progress.stop()));
    await options.beforeStart?.({ host, bus });
    await host.start();
    deadlines?.afterStart();
    progress.start();
    if (options.service) {
      mount.notReady = "starting: building the host's services";
      const notReady = (reason: string | undefined) => (mount.notReady = reason);
      const warming = (what: string | undefined) => {
        mount.warming = what;
        options.onWarming?.(what === undefined ? [] : [what]);
      };
      const service = await options.service({ host, bus, config, log, notReady, warming });
      mount.notReady = undefined;
      mount.service = service;
      opened.push(() => service.close());
    }
    const launched = { host, bus, journal, snapshots, fatal };
    const ownBus = options.bus === undefined ? bus : undefined;
    const close = () => (progress.stop(), closeLaunched({ ...launched, mount, ownBus }, log));
    const stopThreads = () => Promise.all([deadlines?.stop(), trials?.stop()]);
    return { ...launched, close: () => close().finally(stopThreads) };
  } catch (err) {
    for (const close of opened.reverse()) await close().catch(() => {});
    throw asFatal(err);
  }
}

/** The reporter of `host`'s progress marks, told of every input the host applies. */
function progressOf(
  host: Host,
  { bus, config, kinds, source }: { bus: Bus; config: HostConfig; kinds: string[]; source: string },
): ProgressReporter {
  const progress = new ProgressReporter(bus, {
    source,
    partitions: config.partitions,
    settings: config.progress ?? DEFAULT_PROGRESS,
  });
  for (const kind of kinds) host.onApplied(kind, (key, ts_us) => progress.applied(key, ts_us));
  return progress;
}

/** Closes what launchHost opened, service first, logging (not throwing) what fails to close. */
async function closeLaunched(
  parts: Omit<LaunchedHost, "close" | "fatal"> & {
    mount: { service?: HostService };
    ownBus: Bus | undefined;
  },
  log: (message: string) => void,
): Promise<void> {
  const { mount, host, journal, snapshots, ownBus } = parts;
  await mount.service?.close().catch((err) => log(`service: ${describeError(err)}`));
  await host.stop().catch((err) => log(`stopping: ${describeError(err)}`));
  // After a fatal disk error the journal cannot sync what it holds: it keeps what is on disk.
  await journal.close().catch((err) => log(`journal: ${describeError(err)}`));
  await snapshots.close().catch((err) => log(`snapshots: ${describeError(err)}`));
  await ownBus?.close().catch(() => {});
}

/** A host service's place beside the host: its routes, why it is not ready yet, what it warms. */
interface ServiceMount {
  http: HttpExtension;
  service?: HostService;
  notReady: string | undefined;
  warming: string | undefined;
}

/**
 * Where a host service's routes join the host's port: built once the host has recovered, the
 * service answers from then on; until then its routes are not found.
 */
function serviceMount(): ServiceMount {
  const mount: ServiceMount = {
    notReady: undefined,
    warming: undefined,
    http: {
      handle: (req, res) => mount.service?.http?.handle(req, res) ?? Promise.resolve(false),
      upgrade: (req, socket, head) => mount.service?.http?.upgrade(req, socket, head) ?? false,
      warming: () => mount.warming === undefined ? [] : [mount.warming],
    },
  };
  return mount;
}

/**
 * Makes a directory and its parents. Node reports a recursive mkdir on a read-only file system
 * as ENOENT: the parent that exists is made again without `recursive`, for the real cause (EROFS).
 */
function makeDir(path: string): string {
  try {
    mkdirSync(path, { recursive: true });
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT" && existsSync(dirname(path))) mkdirSync(path);
    throw err;
  }
  return path;
}

function asFatal(err: unknown): HostFatalError {
  return err instanceof HostFatalError
    ? err
    : new HostFatalError(describeError(err), { cause: err });
}

/**
 * The host's bus: NATS at `config.nats` (checked to reach JetStream when the config needs it,
 * jetstream_required.ts), or the in-process bus.
 */
export async function connectBus(config: HostConfig, log: (m: string) => void): Promise<Bus> {
  if (!config.nats) return new InProcessBus();
  const bus = await connectNats(config.nats, {
    hostId: config.host_id,
    log,
    auth: config.nats_auth,
  });
  try {
    await requireJetStream(bus.nc, config);
  } catch (err) {
    await bus.close().catch(() => {});
    throw err;
  }
  return bus;
}

/**
 * The findings stream is the incident stage's journal: a host that reaches JetStream makes it
 * when missing, before it publishes anything, so that the stream has the findings of its first
 * moments. Its findings go out as plain publishes, in order with its other outputs (a recording
 * keeps that order, and replay compares it); one a kill caught in the client's buffer is published
 * again with its id by the restarted host, as its journal's tail is applied again.
 */
async function journalFindings(bus: Bus, config: HostConfig) {
  if (!(bus instanceof NatsBus) || jetStreamSetting(config) === undefined) return;
  await openFindingsStream(bus.nc, { replicas: config.replicas });
}

async function connectNats(
  url: string,
  options: { hostId: string; log: (m: string) => void; auth: HostConfig["nats_auth"] },
): Promise<NatsBus> {
  const { hostId, log } = options;
  try {
    return await NatsBus.connect(url, {
      name: hostId,
      auth: options.auth,
      outboundFlushBytes: HOST_OUTBOUND_FLUSH_BYTES,
      onStatus: (s) => {
        if (s === "disconnect" || s === "reconnect") log(`NATS ${s}`);
        if (s === "staleConnection") {
          log(
            `NATS connection stale: its server's answers to two pings, ${NATS_PING_INTERVAL_MS} ` +
              `ms apart, were not read (the host's main thread is behind); connecting again`,
          );
        }
      },
    });
  } catch (err) {
    throw new HostFatalError(
      `Cannot connect to NATS at ${url}: ${describeError(err)}`,
      { cause: err },
    );
  }
}

async function openJournal(
  config: HostConfig,
  nc: NatsConnection | undefined,
  log: (m: string) => void,
  onFatal: (err: unknown) => void,
): Promise<Journal> {
  switch (config.journal.kind) {
    case "file":
      return await FileJournal.open(makeDir(join(config.data_dir, "journal")), {
        fsync: config.journal.fsync,
        fsyncIntervalMs: config.journal.fsync_interval_ms,
        onTruncate: (info) =>
          log(
            `journal: torn tail truncated: ${info.bytes} bytes at ${info.segment}:${info.offset}`,
          ),
        onDamage: (d) =>
          log(
            `journal: damaged: ${d.bytes} bytes at ${d.segment}:${d.offset} (${d.reason}); kept ` +
              `on disk, read on at the next intact record`,
          ),
        // A write or fsync that failed: the journal refuses appends from now on.
        onError: onFatal,
      });
    case "jetstream": {
      if (!nc) throw new HostFatalError(`journal.kind "jetstream" needs a NATS connection`);
      const { JetStreamJournal } = await import("../journal/jetstream/mod.ts");
      return await JetStreamJournal.open(nc, {
        replicas: config.replicas,
        onDamage: (d) =>
          log(
            `journal: damaged at ${d.segment} sequence ${d.offset} (${d.reason}); read on past it`,
          ),
      });
    }
    default:
      return new MemoryJournal();
  }
}

export async function openSnapshots(
  config: HostConfig,
  nc: NatsConnection | undefined,
  log: (m: string) => void,
): Promise<SnapshotStore> {
  const onCorrupt = (info: CorruptSnapshotInfo) =>
    log(
      `snapshot of ${info.stream} damaged (${info.where}: ${info.reason}); rebuilding it from ` +
        `the journal`,
    );
  switch (config.snapshots.store) {
    case "file":
    case "packed": {
      // Both in the data directory's `snapshots`: the packed store reads (and supersedes) the
      // file store's files, and the file store refuses a directory the packed store wrote.
      const dir = makeDir(join(config.data_dir, "snapshots"));
      if (config.snapshots.store === "file") {
        return await FileSnapshotStore.open(dir, { onCorrupt });
      }
      const t0 = performance.now();
      const store = await PackedSnapshotStore.open(dir, { onCorrupt });
      // How it opened: a start that read its segments whole after a clean stop is worth seeing.
      if (store.opened !== "") {
        log(`snapshots: ${store.opened}, in ${Math.round(performance.now() - t0)} ms`);
      }
      return store;
    }
    case "kv": {
      if (!nc) throw new HostFatalError(`snapshots.store "kv" needs a NATS connection`);
      const { KvSnapshotStore } = await import("../snapshots/kv/mod.ts");
      return await KvSnapshotStore.open(nc, { onCorrupt, replicas: config.replicas });
    }
    default:
      return new MemorySnapshotStore();
  }
}

export function hostOptions(
  config: HostConfig,
  kinds: Readonly<Record<string, AnyActorDefinition>>,
  parts: {
    bus: Bus;
    nc: NatsConnection | undefined;
    journal: Journal;
    snapshots: SnapshotStore;
    log: (m: string) => void;
    onFatal: (err: unknown) => void;
  },
): HostOptions {
  const { bus, nc, journal, snapshots, log, onFatal } = parts;
  return {
    hostId: config.host_id,
    bus,
    actors: Object.keys(config.actors).map((kind) => kinds[kind]!),
    config: config.actors,
    journal,
    snapshots,
    partitions: { count: config.partitions.count, owned: config.partitions.owned },
    ...(config.input === "jetstream" && nc
      ? {
        input: jetStreamInput(nc, feedStreamOptions(config)),
        control: controlStreamSource(nc, config.host_id, { replicas: config.replicas, log }),
      }
      : {}),
    limits: {
      messageBytesMax: config.limits.frame_bytes_max,
      samplesPerFrameMax: config.limits.samples_per_frame_max,
      channelsMax: config.limits.channels_max,
      mailboxMax: config.limits.mailbox_max,
    },
    snapshotEveryInputs: config.snapshots.every_inputs,
    snapshotEveryMs: config.snapshots.every_ms,
    snapshotMinInputs: config.snapshots.min_inputs ?? SNAPSHOT_MIN_INPUTS,
    snapshotMaxAgeMs: config.snapshots.max_age_ms ?? SNAPSHOT_MAX_AGE_MS,
    supervision: { crashAttemptsMax: config.supervision.crash_attempts_max },
    msgIdHeaders: nc !== undefined && config.output_msg_id,
    acceptJournalLoss: config.accept_journal_loss,
    journalRuns: config.journal.runs !== false,
    ...(config.http_port === undefined ? {} : { httpPort: config.http_port }),
    httpHost: config.http_host,
    httpAuth: config.http_auth,
    log,
    onFatal,
    ...(bus instanceof NatsBus ? { liveness: [natsLiveness(() => bus.state)] } : {}),
  };
}
