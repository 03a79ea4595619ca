/**
 * `troupe run`: the cluster one configuration file describes (one host, on one thread or several,
 * or holding partitions by lease), with the scan service, the incident stage and the metrics
 * receiver (actors/cluster/), until Ctrl-C, which drains, snapshots and stops it cleanly.
 */
import process from "node:process";
import {
  defaultThreads,
  describeError,
  type HostConfig,
  leasesUnsupported,
  runsOnMetricsHost,
  threadsUnsupported,
} from "../../actors/runtime/mod.ts";
import {
  CLUSTER_CLOSE_MS,
  ClusterStartError,
  type HostKinds,
  kindsModuleUrl,
  receiverLines,
  type RunningCluster,
  startCluster,
  teamOf,
} from "../../actors/cluster/mod.ts";
import { scanHostService } from "../../actors/scan/mod.ts";
import { type Command, EXIT_FAILURE, EXIT_USAGE, optNum, UsageError } from "../args.ts";
import { NATS_AUTH_OPTIONS, NATS_AUTH_USAGE } from "../nats_auth_options.ts";
import { waitForSignal } from "../signals.ts";
import { HTTP_TOKEN_ENV, httpBaseUrl, REMOTE_WRITE_TOKEN_ENV } from "../http_settings.ts";
import {
  HTTP_URL_FILE,
  RECEIVER_BLOCK_FILE,
  removeHttpUrl,
  writeHttpUrl,
} from "../../actors/cluster/data_dir/mod.ts";
import { applyRunOptions, keepAllPartitions, readRunConfig } from "../run_config.ts";

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
      help:
        `Journal and snapshots directory; with an HTTP port, ${HTTP_URL_FILE} in it says where ` +
        "(troupe status --data-dir DIR reads it)",
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
  "memory", every_inputs, every_ms, min_inputs, max_age_ms (which instances a periodic round or a
  stop snapshots: docs/configuration.md) }, http_port, http_host, http_bearer_token |
  http_basic_auth (asked of every request to the HTTP port but /healthz), output_msg_id, limits {
  frame_bytes_max, samples_per_frame_max, memory_budget_mb, channels_max (what the budget holds of
  a channel of the kinds run, unless set), mailbox_max }, actors { <kind>: { enabled, ...kind's
  options } }, remote_write { port, feed, match, channels_max, bearer_token | basic_auth, ... }
  (the Prometheus remote write and OTLP receiver, on a thread of its own: docs/prometheus.md).
Every kind runs unless its section says "enabled": false; with a remote_write block (a host fed
service metrics), a kind for markets (stats, bars) runs only where its section is written.
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
      if (why !== undefined) keepAllPartitions(config, why);
    }
    let threads = 1;
    if (!config.partitions.leases) {
      threads = optNum(args, "threads") ?? defaultThreads(config);
      const why = threads > 1 ? threadsUnsupported(config) : undefined;
      if (why !== undefined) throw new UsageError(`Option --threads ${threads}: ${why}`);
    }
    return await runCluster(config, threads, kinds);
  },
};

/** Runs the cluster `config` describes until a signal or its fatal error; the exit status. */
async function runCluster(config: HostConfig, threads: number, kinds: HostKinds): Promise<number> {
  let cluster: RunningCluster;
  try {
    cluster = await startCluster(config, {
      kinds: kinds.registry,
      threads,
      ...(threads > 1 ? { kindsModule: kindsModuleUrl(kinds) } : {}),
      ...teamOf(kinds),
      service: scanHostService(),
      log: (m) => console.error(`troupe run: ${m}`),
    });
  } catch (err) {
    if (!(err instanceof ClusterStartError)) throw err;
    console.error(`troupe run: cannot start ${err.part}: ${describeError(err.cause)}`);
    return EXIT_FAILURE;
  }
  // Listening for signals before saying it runs: a supervisor (or a test) that stops the host
  // as soon as it reads the line would otherwise meet the default action, which kills it.
  const signalled = waitForSignal();
  // Where `troupe status --data-dir` (and `troupe scan`) find a host that holds no lease.
  const port = cluster.httpPorts[0];
  const httpUrl = port && cluster.kind !== "leased" ? httpBaseUrl(config, port) : undefined;
  if (httpUrl) writeHttpUrl(config.data_dir, httpUrl);
  console.log(`troupe run: ${runningLine(config, cluster, kinds)}`);
  if (cluster.stage) console.log(`troupe run: ${cluster.stage.line}`);
  if (cluster.receiver) {
    console.log(`troupe run: ${receiverLines(cluster.receiver, config.data_dir)}`);
  }
  const stopped = await Promise.race([
    signalled.then((signal) => ({ signal, fatal: undefined })),
    cluster.fatal.then((fatal) => ({ signal: undefined, fatal })),
  ]);
  const leased = cluster.kind === "leased";
  console.error(
    stopped.fatal
      ? `troupe run: host ${config.host_id} stopped: ${stopped.fatal.message}` +
        (leased ? "; handing partitions off" : "")
      : `troupe run: ${stopped.signal}: ` +
        (leased ? "handing partitions off and stopping" : "draining and stopping"),
  );
  const closed = await cluster.close();
  if (httpUrl) removeHttpUrl(config.data_dir, httpUrl);
  if (!closed) {
    console.error(
      `troupe run: host ${config.host_id} did not ${leased ? "hand off" : "stop"} within ${
        CLUSTER_CLOSE_MS / 1000
      } s` + (leased
        ? "; its leases expire on their own"
        : " (NATS unreachable?); exiting without a final snapshot"),
    );
  }
  const code = stopped.fatal || !closed ? EXIT_FAILURE : 0;
  process.exitCode = code;
  return code;
}

/** The line that says the host runs: its kinds (and those off), bus, partitions and URLs. */
function runningLine(config: HostConfig, cluster: RunningCluster, kinds: HostKinds): string {
  const port = cluster.httpPorts[0];
  // A kind for markets is off on a host fed service metrics unless its section is written: such
  // kinds are named together, after those turned off.
  const forMarkets = (k: string) =>
    config.remote_write !== undefined && !runsOnMetricsHost(kinds.registry[k]!);
  const offKinds = Object.keys(kinds.registry).filter((k) => !(k in config.actors));
  const markets = offKinds.filter(forMarkets);
  const off = offKinds.filter((k) => !forMarkets(k));
  if (markets.length > 0) off.push(`${markets.join(", ")} for markets`);
  const on = Object.keys(config.actors).join(", ");
  const metrics = port ? `; ${httpBaseUrl(config, port)}/metrics` : "";
  const scans = port && cluster.kind !== "leased" && "bars" in config.actors
    ? `; scans: POST ${httpBaseUrl(config, port)}/scan/stream`
    : "";
  const leases = config.partitions.leases;
  if (leases) {
    const held = cluster.leased[0]?.leases.owned().join(",") || "none yet";
    return `host ${config.host_id} running ${on} on ${config.nats}, partitions auto of ` +
      `${config.partitions.count} (lease TTL ${leases.ttl_ms} ms, heartbeat ` +
      `${leases.heartbeat_ms} ms; holds ${held})${metrics}`;
  }
  const where = cluster.threads === undefined
    ? `${on}${off.length ? ` (off: ${off.join(", ")})` : ""} on ${
      config.nats ?? "the in-process bus"
    }`
    : `${on} on ${cluster.threads} threads on ${config.nats}`;
  return `host ${config.host_id} running ${where}, partitions ${
    config.partitions.owned.join(",")
  } of ${config.partitions.count}${metrics}${scans}`;
}
