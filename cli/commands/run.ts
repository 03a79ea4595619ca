/**
 * `troupe run`: one actor host, from a JSON configuration file (or the defaults), until Ctrl-C,
 * which drains, snapshots and stops it cleanly.
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import { ACTOR_KINDS } from "../../actors/mod.ts";
import { kindsModuleUrl, teamKindsOf } from "../kinds_module_file.ts";
import {
  checkNatsUrl,
  defaultThreads,
  describeError,
  type HostConfig,
  type HostConfigOverrides,
  type LaunchedHost,
  launchHost,
  launchLeasedHost,
  type LeasedHost,
  type LeaseSettings,
  leaseSettings,
  leasesUnsupported,
  mergeNatsAuth,
  parseHostConfig,
  parsePartitions,
  ThreadedHost,
  threadsUnsupported,
} from "../../actors/runtime/mod.ts";
import { scanHostService } from "../../actors/scan/mod.ts";
import { type Bus, ConfigError } from "../../protocol/mod.ts";
import {
  type Command,
  EXIT_FAILURE,
  EXIT_USAGE,
  flag,
  optNum,
  type ParsedArgs,
  str,
  UsageError,
} from "../args.ts";
import {
  type ClusterIncidents,
  incidentConfigOf,
  startClusterIncidents,
  startThreadedIncidents,
} from "../run_incidents.ts";
import { startLeasedIncidents } from "../run_leased_incidents.ts";
import { NATS_AUTH_OPTIONS, NATS_AUTH_USAGE, natsAuthOf } from "../nats_auth_options.ts";
import { alertingConfigOf } from "../stage_alerting.ts";
import { waitForSignal } from "../signals.ts";
import {
  applyHttpSettings,
  HTTP_TOKEN_ENV,
  httpBaseUrl,
  openHttpWarning,
  REMOTE_WRITE_TOKEN_ENV,
} from "../http_settings.ts";
import { RECEIVER_BLOCK_FILE } from "../receiver_block_file.ts";
import { receiverLines, type StartedReceiver, startReceiver } from "../metrics_receiver.ts";
import { parseIngestSettings } from "../../actors/ingest/mod.ts";
import {
  BUILT_IN_KINDS,
  configDir,
  type HostKinds,
  hostKinds,
  kindSpecsOf,
} from "../host_kinds.ts";

/** A host's configuration and the kinds it runs (troupe's own and those its `kinds` name). */
export interface HostSetup {
  config: HostConfig;
  kinds: HostKinds;
}

/**
 * Reads and parses a host config file, loading the kind modules it names (paths from the file's
 * folder), with the command line's `overrides` over it; a mistake is reported with the path and
 * the field.
 */
export async function loadHostConfig(
  path: string | undefined,
  overrides: HostConfigOverrides = {},
): Promise<HostSetup> {
  if (path === undefined) {
    return { config: parseHostConfig({}, ACTOR_KINDS, overrides), kinds: BUILT_IN_KINDS };
  }
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError("", `Cannot read config file ${path}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError("", `Config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  const kinds = await hostKinds(kindSpecsOf(raw), configDir(path));
  const config = parseHostConfig(raw, kinds.registry, overrides);
  incidentConfigOf(config); // fail early: the stage starts only on partition 0's host
  if (config.remote_write) parseIngestSettings(config.remote_write); // and the receiver's
  alertingConfigOf(config);
  return { config, kinds };
}

export const command: Command = {
  name: "run",
  summary: "an actor host, from a JSON config file",
  usage: "[--config FILE] [--nats URL] [--partitions LIST] [--threads N] [--http-port N] " +
    "[--http-host ADDR] [--data-dir DIR] [--accept-journal-loss]" + NATS_AUTH_USAGE,
  options: {
    config: {
      type: "string",
      arg: "FILE",
      help: "Host configuration (JSON)",
      defaultText: "none; docs/configuration.md lists every field and what it is when absent",
    },
    nats: {
      type: "string",
      arg: "URL",
      help: 'NATS server URL, over the file\'s "nats"',
      defaultText: "the file's, else the in-process bus, which only this process sees",
    },
    ...NATS_AUTH_OPTIONS,
    partitions: {
      type: "string",
      arg: "LIST",
      help: 'Partitions this host owns of the file\'s partitions.count, e.g. "0-3,7" or "all", ' +
        'or "auto": shared out among the live hosts by lease, taken over when a host dies ' +
        '(needs the JetStream journal and input and KV snapshots), over the file\'s "owned"',
      defaultText: "the file's, else all",
    },
    threads: {
      type: "string",
      arg: "N",
      help: "Run the owned partitions on N worker threads, each with its own journal and " +
        "snapshots under DIR/thread-<i>; at most one a partition; needs NATS, core input and " +
        "a file or memory journal",
      defaultText: "as many as the data directory was written by, else the cores less one " +
        "where the configuration allows, else 1",
      number: { min: 1, max: 256, integer: true },
    },
    "http-port": {
      type: "string",
      arg: "N",
      help: "Serve /healthz, /metrics and the scans on this port; 0: a free one",
      defaultText: 'the file\'s "http_port", else none',
      number: { min: 0, max: 65535, integer: true },
    },
    "http-host": {
      type: "string",
      arg: "ADDR",
      help: "The address the HTTP port listens on: 0.0.0.0 for every interface (then set a " +
        `token: http_bearer_token in the file or ${HTTP_TOKEN_ENV}, asked of every request ` +
        "but /healthz)",
      defaultText: 'the file\'s "http_host", else 127.0.0.1 (this machine only)',
    },
    "data-dir": {
      type: "string",
      arg: "DIR",
      help: "Journal and snapshots directory",
      defaultText: 'the file\'s "data_dir", else .troupe/host-1',
    },
    "accept-journal-loss": {
      type: "boolean",
      help: "Start even where the journal lost inputs the input cannot give back (named)",
    },
  },
  details: `Config file fields (all optional):
  host_id, nats, data_dir, input ("jetstream", what a host with NATS reads unless told |
  "core": at most once), accept_journal_loss,
  partitions { count, owned }, journal { kind: "file" | "jetstream" | "memory",
  fsync: "always" | "interval" | "never", fsync_interval_ms }, snapshots { store: "file" | "kv" |
  "memory", every_inputs, every_ms }, http_port, http_host, http_bearer_token | http_basic_auth
  (asked of every request to the HTTP port but /healthz), output_msg_id, limits { frame_bytes_max,
  samples_per_frame_max, channels_max, mailbox_max }, actors { <kind>: { enabled, ...kind's
  options } }, remote_write { port, feed, match, channels_max, bearer_token | basic_auth, ... }
  (the Prometheus remote write and OTLP receiver, on a thread of its own: docs/prometheus.md).
Every kind runs unless its section says "enabled": false.
Environment: ${HTTP_TOKEN_ENV} (the HTTP port's bearer token) and ${REMOTE_WRITE_TOKEN_ENV} (the
receiver's), over the file's. With credentials, the remote_write block for prometheus.yml is
written to DIR/${RECEIVER_BLOCK_FILE} (mode 0600), not printed.
A file: { "nats": "nats://127.0.0.1:4222", "partitions": { "count": 16, "owned": "0-7" },
  "actors": { "stats": { "every_samples": 500 }, "coherence": { "enabled": false } } }
Examples:
  troupe run --config host.json --http-port 9465
  troupe run --nats nats://127.0.0.1:4222 --data-dir .troupe/host-2 --http-port 0`,
  async run(args) {
    const setup = await readRunConfig(args);
    if (setup === undefined) return EXIT_USAGE;
    const { config, kinds } = setup;
    applyRunOptions(config, args);
    if (config.partitions.leases) {
      const why = leasesUnsupported(config);
      if (why === undefined) {
        return await runLeased({
          ...config,
          partitions: { ...config.partitions, leases: config.partitions.leases },
        }, kinds);
      }
      keepAllPartitions(config, why);
    }
    const threads = optNum(args, "threads") ?? defaultThreads(config);
    if (threads > 1) {
      const why = threadsUnsupported(config);
      if (why !== undefined) throw new UsageError(`Option --threads ${threads}: ${why}`);
      return await runThreaded(config, threads, kinds);
    }
    return await runHost(config, kinds);
  },
};

/** The host's configuration from `--config`, or undefined when it is wrong (said on stderr). */
async function readRunConfig(args: ParsedArgs): Promise<HostSetup | undefined> {
  const nats = natsOption(args);
  try {
    const setup = await loadHostConfig(str(args, "config"), nats === undefined ? {} : { nats });
    if (setup.config.nats !== undefined && setup.config.input === "core") {
      console.error(
        `troupe run: input "core": frames sent while host ${setup.config.host_id} is down or ` +
          'behind are lost (at most once); without "input": "core" it reads them from JetStream',
      );
    }
    return setup;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const where = str(args, "config");
    console.error(`troupe run: ${where ? `${where}: ` : ""}${err.message}`);
    return undefined;
  }
}

/** The --nats URL, checked, or undefined. */
function natsOption(args: ParsedArgs): string | undefined {
  const nats = str(args, "nats");
  if (nats === undefined) return undefined;
  try {
    return checkNatsUrl(nats, "--nats");
  } catch (err) {
    throw new UsageError((err as Error).message.replace('Field "--nats"', "Option --nats"));
  }
}

/** The command line over the file: NATS credentials, --data-dir, --partitions, --http-port, ... */
function applyRunOptions(config: HostConfig, args: ParsedArgs): void {
  // The command line, then the environment, then the URL's and the file's "nats" section.
  config.nats_auth = mergeNatsAuth(natsAuthOf(args), config.nats_auth);
  const dataDir = str(args, "data-dir");
  if (dataDir !== undefined) config.data_dir = dataDir;
  const parts = str(args, "partitions");
  if (parts?.trim() === "auto") {
    config.partitions.leases ??= leaseSettings();
  } else if (parts !== undefined) {
    delete config.partitions.leases;
    try {
      config.partitions.owned = parsePartitions(parts, config.partitions.count);
    } catch (err) {
      // Its numbers count in the file's partitions.count (1 without a file): say where that is.
      const file = str(args, "config");
      throw new UsageError(
        `Option --partitions: ${(err as Error).message} (${
          file === undefined
            ? 'without a config file there is 1; set "partitions": { "count": N } in one'
            : `partitions.count is ${config.partitions.count} in ${file}`
        })`,
      );
    }
  }
  const httpPort = optNum(args, "http-port");
  if (httpPort !== undefined) config.http_port = httpPort;
  applyHttpSettings(config, { host: str(args, "http-host"), env: process.env });
  const open = openHttpWarning(config);
  if (open !== undefined) console.error(`troupe run: warning: ${open}`);
  if (flag(args, "accept-journal-loss")) config.accept_journal_loss = true;
}

/** A host whose journal others cannot read cannot hand its partitions on: it keeps them all. */
function keepAllPartitions(config: HostConfig, why: string): void {
  console.error(
    `troupe run: host ${config.host_id}: ${why}; it keeps static ownership of all ` +
      `${config.partitions.count} partitions`,
  );
  delete config.partitions.leases;
  config.partitions.owned = parsePartitions("all", config.partitions.count);
}

/** The incident stage a host starts before it takes input, or the error that stopped it. */
interface StageStart {
  incidents: ClusterIncidents | undefined;
  error: unknown;
  /** Starts it with `begin`, keeping what it gives or throws (and throwing that on). */
  start(begin: () => Promise<ClusterIncidents | undefined>): Promise<void>;
}

function stageStart(): StageStart {
  const s: StageStart = {
    incidents: undefined,
    error: undefined,
    async start(begin) {
      try {
        s.incidents = await begin();
      } catch (err) {
        s.error = err;
        throw err;
      }
    },
  };
  return s;
}

/** Says which failed to start, the host or its stage (closing the stage if it had started). */
async function failedStart(config: HostConfig, stage: StageStart, err: unknown): Promise<number> {
  await stage.incidents?.close().catch(() => {});
  console.error(
    stage.error === undefined
      ? `troupe run: cannot start host ${config.host_id}: ${describeError(err)}`
      : `troupe run: cannot start the incident stage: ${describeError(stage.error)}`,
  );
  return EXIT_FAILURE;
}

/**
 * Runs a host in this thread, with the scan service and, on partition 0's host, the incident
 * stage, until a signal or its fatal error.
 */
async function runHost(config: HostConfig, kinds: HostKinds): Promise<number> {
  const stage = stageStart();
  let launched: LaunchedHost;
  try {
    const team = teamKindsOf(kinds);
    launched = await launchHost(config, kinds.registry, {
      service: scanHostService(),
      ...(team ? { teamKinds: team } : {}),
      // The stage takes the actors' findings from the bus as they are published: it is running
      // before the actors take input, or those a restarted host publishes as it catches up
      // with what waited in the stream would never reach it (and a replay would differ).
      beforeStart: (parts) => stage.start(() => startClusterIncidents(config, parts)),
    });
  } catch (err) {
    return await failedStart(config, stage, err);
  }
  const incidents = stage.incidents;
  // Listening for signals before saying it runs: a supervisor (or a test) that stops the host
  // as soon as it reads the line would otherwise meet the default action, which kills it.
  const signalled = waitForSignal();
  const receiver = await configuredReceiver(config, launched.bus);
  if (receiver === null) {
    await incidents?.close().catch(() => {});
    await closeWithin(launched, CLOSE_TIMEOUT_MS);
    return EXIT_FAILURE;
  }
  console.log(runningLine(config, launched.host.httpPort, kinds));
  if (incidents) console.log(`troupe run: ${incidents.line}`);
  if (receiver) console.log(`troupe run: ${receiverLines(receiver, config.data_dir)}`);
  const stopped = await Promise.race([
    signalled.then((signal) => ({ signal, fatal: undefined })),
    launched.fatal.then((fatal) => ({ signal: undefined, fatal })),
    ...receiverFatal(receiver),
  ]);
  if (stopped.fatal) {
    console.error(`troupe run: host ${config.host_id} stopped: ${stopped.fatal.message}`);
  } else {
    console.error(`troupe run: ${stopped.signal}: draining and stopping`);
  }
  await receiver?.close();
  await incidents?.close().catch((err) =>
    console.error(`troupe run: while stopping the incident stage: ${describeError(err)}`)
  );
  const closed = await closeWithin(launched, CLOSE_TIMEOUT_MS);
  if (!closed) {
    console.error(
      `troupe run: host ${config.host_id} did not stop within ${
        CLOSE_TIMEOUT_MS / 1000
      } s (NATS unreachable?); exiting without a final snapshot`,
    );
  }
  const code = stopped.fatal || !closed ? EXIT_FAILURE : 0;
  process.exitCode = code;
  return code;
}

/** The line that says the host runs: its kinds (and those off), bus, partitions and URLs. */
function runningLine(config: HostConfig, port: number | undefined, kinds: HostKinds): string {
  const off = Object.keys(kinds.registry).filter((k) => !(k in config.actors));
  return `troupe run: host ${config.host_id} running ${Object.keys(config.actors).join(", ")}${
    off.length ? ` (off: ${off.join(", ")})` : ""
  } on ${config.nats ?? "the in-process bus"}, partitions ${
    config.partitions.owned.join(",")
  } of ${config.partitions.count}` +
    (port ? `; ${httpBaseUrl(config, port)}/metrics` : "") +
    (port && "bars" in config.actors
      ? `; scans: POST ${httpBaseUrl(config, port)}/scan/stream`
      : "");
}

/**
 * Runs a host on several threads (threaded_host.ts) until a signal or a thread's fatal error;
 * with bars, each thread runs a scan worker and thread 0 the scan API, on the host's port. On
 * partition 0's host the main thread runs the incident stage, as a one-thread host does.
 */
async function runThreaded(
  config: HostConfig,
  threads: number,
  kinds: HostKinds,
): Promise<number> {
  const stage = stageStart();
  let host: ThreadedHost;
  try {
    host = await ThreadedHost.start(config, threads, {
      kinds: kindsModuleUrl(kinds),
      scans: "bars" in config.actors,
      // Before the feeds, as on one thread: the stage misses none of the threads' findings.
      beforeFeeds: (h) => stage.start(() => startThreadedIncidents(config, h.registry)),
    });
  } catch (err) {
    return await failedStart(config, stage, err);
  }
  const incidents = stage.incidents;
  const signalled = waitForSignal();
  // The main thread has no bus (its hosts run on the worker threads): NATS, always.
  const receiver = await configuredReceiver(config);
  if (receiver === null) {
    await incidents?.close().catch(() => {});
    await closeWithin(host, CLOSE_TIMEOUT_MS);
    return EXIT_FAILURE;
  }
  const port = host.httpPort;
  console.log(
    `troupe run: host ${config.host_id} running ${
      Object.keys(config.actors).join(", ")
    } on ${host.threads} threads on ${config.nats}, partitions ${
      config.partitions.owned.join(",")
    } of ${config.partitions.count}` + (port ? `; ${httpBaseUrl(config, port)}/metrics` : "") +
      (port && "bars" in config.actors
        ? `; scans: POST ${httpBaseUrl(config, port)}/scan/stream`
        : ""),
  );
  if (incidents) console.log(`troupe run: ${incidents.line}`);
  if (receiver) console.log(`troupe run: ${receiverLines(receiver, config.data_dir)}`);
  const stopped = await Promise.race([
    signalled.then((signal) => ({ signal, fatal: undefined })),
    host.fatal.then((fatal) => ({ signal: undefined, fatal })),
    ...receiverFatal(receiver),
  ]);
  console.error(
    stopped.fatal
      ? `troupe run: host ${config.host_id} stopped: ${stopped.fatal.message}`
      : `troupe run: ${stopped.signal}: draining and stopping`,
  );
  await receiver?.close();
  await incidents?.close().catch((err) =>
    console.error(`troupe run: while stopping the incident stage: ${describeError(err)}`)
  );
  const closed = await closeWithin(host, CLOSE_TIMEOUT_MS);
  if (!closed) {
    console.error(
      `troupe run: host ${config.host_id} did not stop within ${CLOSE_TIMEOUT_MS / 1000} s`,
    );
  }
  const code = stopped.fatal || !closed ? EXIT_FAILURE : 0;
  process.exitCode = code;
  return code;
}

/** Runs a host that shares partitions by lease, until a signal hands them off. */
async function runLeased(
  config: HostConfig & { partitions: { leases: LeaseSettings } },
  kinds: HostKinds,
): Promise<number> {
  let launched: LeasedHost;
  try {
    launched = await launchLeasedHost(config, kinds.registry);
  } catch (err) {
    console.error(`troupe run: cannot start host ${config.host_id}: ${describeError(err)}`);
    return EXIT_FAILURE;
  }
  const signalled = waitForSignal();
  // Each host of the file runs one: Prometheus writes to one of them, and the batches reach
  // whichever host holds a channel's partition through the feed stream.
  const receiver = await configuredReceiver(config);
  if (receiver === null) {
    await closeWithin(launched, CLOSE_TIMEOUT_MS);
    return EXIT_FAILURE;
  }
  const port = launched.httpPort;
  const { ttl_ms, heartbeat_ms } = config.partitions.leases;
  console.log(
    `troupe run: host ${config.host_id} running ${
      Object.keys(config.actors).join(", ")
    } on ${config.nats}, partitions auto of ${config.partitions.count} ` +
      `(lease TTL ${ttl_ms} ms, heartbeat ${heartbeat_ms} ms; holds ${
        launched.leases.owned().join(",") || "none yet"
      })` + (port ? `; ${httpBaseUrl(config, port)}/metrics` : ""),
  );
  const incidents = await startLeasedIncidents(config, launched).catch((err) => {
    console.error(`troupe run: cannot start the incident stage's lease: ${describeError(err)}`);
    return undefined;
  });
  if (incidents) console.log(`troupe run: incidents: ${incidents.line}`);
  if (receiver) console.log(`troupe run: ${receiverLines(receiver, config.data_dir)}`);
  const stopped = await Promise.race([
    signalled.then((signal) => ({ signal, fatal: undefined })),
    ...receiverFatal(receiver),
  ]);
  console.error(
    stopped.fatal
      ? `troupe run: host ${config.host_id} stopped: ${stopped.fatal.message}; handing ` +
        `partitions off`
      : `troupe run: ${stopped.signal}: handing partitions off and stopping`,
  );
  await receiver?.close();
  await incidents?.close().catch((err) =>
    console.error(`troupe run: while handing the incident stage off: ${describeError(err)}`)
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((
    resolve,
  ) => (timer = setTimeout(() => resolve(false), CLOSE_TIMEOUT_MS)));
  const closed = await Promise.race([launched.close().then(() => true), timeout]);
  clearTimeout(timer);
  if (!closed) {
    console.error(
      `troupe run: host ${config.host_id} did not hand off within ${
        CLOSE_TIMEOUT_MS / 1000
      } s; its leases expire on their own`,
    );
  }
  const code = closed && !stopped.fatal ? 0 : EXIT_FAILURE;
  process.exitCode = code;
  return code;
}

/**
 * The metrics receiver the config's `remote_write` block sets up (none without one), on NATS when
 * the config names a server, else on `bus`; null once a failure to start it is printed.
 */
async function configuredReceiver(
  config: HostConfig,
  bus?: Bus,
): Promise<StartedReceiver | undefined | null> {
  if (!config.remote_write) return undefined;
  try {
    return await startReceiver(config.remote_write, {
      nats: config.nats,
      natsAuth: config.nats_auth,
      ...(bus ? { bus } : {}),
      name: `${config.host_id}-receiver`,
      defaults: { channelsMax: config.limits.channels_max }, // the host edge's own limit
    });
  } catch (err) {
    console.error(`troupe run: cannot start the metrics receiver: ${describeError(err)}`);
    return null;
  }
}

/** A receiver's unasked end as a reason the host stops (none without a receiver). */
function receiverFatal(
  receiver: StartedReceiver | undefined,
): Array<Promise<{ signal: undefined; fatal: Error }>> {
  return receiver ? [receiver.fatal.then((fatal) => ({ signal: undefined, fatal }))] : [];
}

/** How long a host may take to drain and stop before the command gives up on it. */
const CLOSE_TIMEOUT_MS = 10_000;

/** Closes the host; false when it did not finish within `ms`. */
async function closeWithin(launched: { close(): Promise<void> }, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const done = launched.close().then(() => true, (err) => {
    console.error(`troupe run: while stopping: ${describeError(err)}`);
    return true;
  });
  const closed = await Promise.race([done, timeout]);
  clearTimeout(timer);
  return closed;
}
