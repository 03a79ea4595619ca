/**
 * `troupe up`: everything on one machine. A nats-server child process with JetStream in the data
 * directory when the binary is on PATH (otherwise the in-process bus, said in one line), an actor
 * host running every actor kind, and a synthetic feed so that something flows (the market by
 * default, or with `--feed metrics` the service metrics feed, with the settings that suit it).
 * Ctrl-C stops the feed, drains and snapshots the host, and stops nats-server. `--journal
 * jetstream` keeps the host's journal in JetStream, and the collaboration server's documents with
 * it; `--hosts N` runs N hosts sharing the partitions by lease instead (up_hosts.ts). The incident
 * stage is up's own, journaled in the data directory (run_incidents.ts); with --hosts it runs under
 * its lease on the host holding it (run_leased_incidents.ts). With NATS and a file journal the host
 * runs on `--threads N` worker threads (up_threaded.ts), a partition each.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { recordingKindsOf } from "../host_kinds.ts";
import { defaultIncidentConfig } from "../../actors/incidents/mod.ts";
import {
  DEFAULT_PROGRESS,
  defaultHostConfig,
  describeError,
  type DirLock,
  DirLockedError,
  type HostConfig,
  InProcessBus,
  lockDir,
  type NatsAuth,
  NatsServer,
} from "../../actors/runtime/mod.ts";
import type { Bus } from "../../protocol/mod.ts";
import {
  demoActorConfigs,
  describeRecording,
  metricsActorConfigs,
  Recorder,
} from "../../sim/mod.ts";
import type { LaunchedCollab } from "../../collab/mod.ts";
import { type CollabFile, removeCollabFile } from "../collab_file.ts";
import { announceCollab, COLLAB_PORT, startCollab } from "../up_collab.ts";
import { startFeed } from "../up_feed.ts";
import { UP_OPTIONS, type UpOptions, upOptions } from "../up_options.ts";
import type { UpNatsAuth } from "../up_nats_auth.ts";
import { launchUpHosts, type UpHosts } from "../up_hosts.ts";
import { launchThreadedUp, upThreads } from "../up_threaded.ts";
import { type ClusterIncidents, startJournaledIncidents } from "../run_incidents.ts";
import { type Command } from "../args.ts";
import { catchSignals, waitForSignal } from "../signals.ts";
import { removeNatsUrl } from "../nats_url.ts";
import { removeHttpUrl, writeHttpUrl } from "../host_url.ts";
import {
  NATS_SERVER_ENV,
  natsServerBinary,
  startNats,
  stopNatsWithProcess,
  whyNoNatsServer,
} from "../up_nats.ts";

export const command: Command = {
  name: "up",
  summary: "everything on one machine: NATS, a host, a synthetic feed, the dashboard",
  usage:
    "[--feed market|metrics|remote-write] [--channels N] [--rate N] [--duration S] [--seed N] " +
    "[--data-dir DIR] [--http-port N] [--collab-port N] [--no-nats] [--nats-port N] " +
    "[--nats-open] [--journal file|jetstream] " +
    "[--hosts N] [--threads N] [--kinds MODULES] [--record FILE] [--alertmanager URL]... " +
    "[--remote-write-port N] [--match SELECTOR]... [--token TOKEN] [--history-url URL] " +
    "[--accept-journal-loss]",
  options: UP_OPTIONS,
  details: `It prints the host's /healthz and /metrics URL, the dashboard's URL with an owner token,
and every 10 s a status line with the latest findings; Ctrl-C drains, snapshots and stops.
Journals, snapshots, the NATS store and the URLs other commands read (nats.url, http.url,
collab.json) go to the data directory; run it again there and the actors recover from it. One
troupe up at a time per data directory (a second one says which process holds it).
Examples:
  troupe up
  troupe up --feed metrics --duration 5m
  troupe up --data-dir /tmp/demo --http-port 0 --collab-port 0 --record demo.rec
  troupe up --hosts 3        three hosts share the partitions by lease (troupe status)
  troupe up --feed remote-write --match '{job="node"}'
                             the receiver for your Prometheus; the block for prometheus.yml,
                             with its generated token, goes to DIR/prometheus-remote-write.yml
Install nats-server for the full cluster: apt-get install nats-server (Debian/Ubuntu), brew
install nats-server (macOS). TROUPE_NATS_SERVER=PATH names the binary to start instead of the one
on PATH; without one, everything runs on the in-process bus (said in one line).`,
  async run(args) {
    const o = await upOptions(args);
    // One troupe up per data directory, checked before anything starts: a second one started a
    // second nats-server on the same JetStream store and took nats.url over, pointing the
    // first one's inject, ctl and record at a server that was gone once the host's journal
    // lock stopped it.
    // From here a Ctrl-C is kept until the cluster is up, which then drains and stops: killed
    // mid-start, up would leave its nats-server (a process group of its own) running.
    catchSignals();
    const lock = lockDataDir(o.dataDir);
    if (typeof lock === "string") {
      console.error(`troupe up: ${lock}`);
      return 1;
    }
    // Every way out releases it (a process killed outright leaves a lock a later up takes over).
    process.once("exit", () => lock.release());
    const started = await startUpBus(o);
    if (typeof started === "string") {
      console.error(`troupe up: ${started}`);
      return 1;
    }
    const { nats, bus, auth } = started;
    // What was started, stopped in reverse order when a later part cannot start.
    const undo: Array<() => unknown> = [() => nats?.stop(), () => bus.close()];
    const abandon = async (why: string) => {
      console.error(`troupe up: ${why}`);
      for (const step of undo.reverse()) await Promise.resolve().then(step).catch(() => {});
      return 1;
    };
    const threads = upThreads(o, nats);
    const config = upHostConfig(o, nats, threads);
    config.nats_auth = auth?.roles.host ?? {};
    const recorder = startRecorder(o, bus, nats, config);
    if (typeof recorder === "string") return await abandon(recorder);
    undo.push(() => recorder?.stop());
    const parts = await startHostsAndStage(o, config, { bus, nats, recorder, undo, threads });
    if (typeof parts === "string") return await abandon(parts);
    const { launched, incidents } = parts;
    const httpUrl = `http://127.0.0.1:${launched.httpPort}`;
    // troupe scan finds the host's port through this file, wherever it listens.
    writeHttpUrl(o.dataDir, httpUrl);
    undo.push(
      () => removeHttpUrl(o.dataDir, httpUrl),
      () => nats && removeNatsUrl(o.dataDir, nats.url),
    );
    for (const line of launched.lines) console.log(`troupe up: ${line}`);
    console.log(`troupe up: ${incidents.line}`);
    let collab: LaunchedCollab;
    try {
      collab = await startCollab(
        { ...o, ...(auth && nats ? { bridge: { nats: nats.url, auth: auth.roles.bridge } } : {}) },
        bus,
        launched,
        config.journal.kind,
      );
    } catch (err) {
      // One line, and nothing left running: the host and nats-server were up already (an
      // explicit --collab-port that was taken once left nats-server running after exit 1).
      return await abandon(
        `cannot start the collaboration server on port ${o.collabPort ?? COLLAB_PORT}: ${
          describeError(err)
        }`,
      );
    }
    const collabFile = await announceCollab(o, collab);
    if (recorder) console.log(`troupe up: ${recordingLine(o, launched, incidents)}`);
    const stopping = {
      collab,
      collabFile,
      bus,
      launched,
      incidents,
      recorder,
      nats,
      httpUrl,
      receiverAuth: auth?.roles.receiver,
    };
    return await feedUntilEnd(o, config, stopping);
  },
};

/** The line that says where the session is recorded, and what a replay of it will lack. */
function recordingLine(o: UpOptions, launched: UpHosts, incidents: ClusterIncidents): string {
  // Actors recovered from an earlier run carry state the recording lacks.
  const recovered = launched.instances();
  const note = recovered === 0 && incidents.restored === 0
    ? ""
    : `; note: ${recovered} actor instances and ${incidents.restored} incident findings ` +
      `were recovered from ${o.dataDir}, so a replay will not reproduce their outputs (use a ` +
      `fresh --data-dir)`;
  return `recording the session into ${o.recordPath}${note}`;
}

/**
 * Feeds the cluster until the duration, a signal or a failed feed, then drains and stops it;
 * the exit status (1 when the feed failed).
 */
async function feedUntilEnd(o: UpOptions, config: HostConfig, r: Running): Promise<number> {
  const feeding = startFeed(
    { ...o, natsUrl: config.nats, natsAuth: r.receiverAuth },
    r.bus,
    r.launched,
  );
  const ended = await Promise.race([
    waitForSignal(o.durationS > 0 ? o.durationS * 1000 : undefined),
    feeding.failed.then((why) => ({ failed: why })),
  ]);
  const counts = await feeding.stop();
  console.error(
    `\ntroupe up: ${
      typeof ended !== "string" ? ended.failed : ended === "timeout" ? "duration reached" : ended
    }: draining and stopping`,
  );
  await stopUp(o, r);
  if (typeof ended !== "string") {
    console.log(`troupe up: stopped: ${counts()}`);
    return 1;
  }
  console.log(`troupe up: stopped cleanly: ${counts()}`);
  return 0;
}

/**
 * Starts nats-server when there is one (or says why the in-process bus runs); a string: why not.
 */
async function startUpBus(
  o: UpOptions,
): Promise<{ nats: NatsServer | undefined; bus: Bus; auth?: UpNatsAuth | undefined } | string> {
  const binary = o.noNats ? undefined : natsServerBinary();
  const needs = o.hosts > 1 ? `--hosts ${o.hosts}` : "--journal jetstream";
  if ((o.threads ?? 1) > 1 && !binary) {
    return `--threads ${o.threads} needs nats-server, ${whyNoNatsServer()}`;
  }
  if (o.journal === "jetstream" && !binary) {
    return `${needs} needs nats-server, ${whyNoNatsServer()} ` +
      "(apt-get install nats-server, or brew install nats-server)";
  }
  if (binary) {
    const started = await startNats(binary, o.dataDir, {
      port: o.natsPort,
      open: o.natsOpen,
    });
    if (typeof started === "string") {
      const why = o.journal === "jetstream"
        ? `${needs} needs it`
        : "--no-nats runs everything on the in-process bus";
      return `${started}; ${why}`;
    }
    stopNatsWithProcess(started.nats, o.dataDir);
    return started;
  }
  console.log(
    o.noNats
      ? "troupe up: --no-nats: everything runs on the in-process bus"
      : process.env[NATS_SERVER_ENV]
      ? `troupe up: no nats-server to start: ${NATS_SERVER_ENV} names ` +
        `"${process.env[NATS_SERVER_ENV]}", which does not exist, so everything runs on the ` +
        `in-process bus (unset it to use the nats-server on PATH)`
      : "troupe up: nats-server is not on PATH, so everything runs on the in-process bus " +
        "(apt-get install nats-server, or brew install nats-server, for the NATS cluster)",
  );
  return { nats: undefined, bus: new InProcessBus() };
}

/** The first host's configuration (--hosts derive theirs); on threads, a partition each. */
function upHostConfig(o: UpOptions, nats: NatsServer | undefined, threads: number): HostConfig {
  const config = defaultHostConfig();
  config.host_id = "up-1";
  config.data_dir = join(o.dataDir, "up-1");
  config.nats = nats?.url;
  // Threads' edge is a core subscription: up's feed starts after the host and stops before it.
  config.input = nats && threads === 1 ? "jetstream" : "core";
  if (threads > 1) config.partitions = { count: threads, owned: [...Array(threads).keys()] };
  config.journal.kind = o.journal;
  config.http_port = o.httpPort;
  // Settings that suit a demo of the synthetic market, or service metrics (sim/demo.ts), said
  // in one line when the feed starts.
  const demo = o.feedKind === "market" ? demoActorConfigs(o.intervalUs) : metricsActorConfigs();
  config.actors = Object.fromEntries(
    Object.keys(o.kinds.registry).map((k) => [k, demo[k] ?? {}]),
  );
  config.accept_journal_loss = o.acceptJournalLoss;
  // The synthetic feeds' event time runs faster than the clock: no wall-clock bound on it.
  if (o.feedKind !== "remote-write") config.progress = { ...DEFAULT_PROGRESS, ahead_ms: 0 };
  // Every channel of the synthetic feed is admitted, however many are asked for.
  config.limits.channels_max = Math.max(config.limits.channels_max, o.channels);
  if (o.alertmanagers.length > 0) {
    config.alerting = {
      alertmanagers: o.alertmanagers,
      // generatorURL opens the dashboard where it is sure to listen: on a port given.
      ...(o.collabPort ? { dashboard_url: `http://127.0.0.1:${o.collabPort}` } : {}),
    };
  }
  return config;
}

/**
 * --record (sim/recording/): subscribes before the host starts, so that the recording holds
 * every input and every output of the session. Undefined without --record; a string: why not.
 */
function startRecorder(
  o: UpOptions,
  bus: Bus,
  nats: NatsServer | undefined,
  config: HostConfig,
): Recorder | undefined | string {
  if (o.recordPath === undefined) return undefined;
  try {
    return Recorder.start(bus, {
      path: o.recordPath,
      header: {
        source: "troupe up",
        bus: nats?.url ?? "in-process",
        // The incident stage's settings too, so that a replay makes the same incidents.
        config: {
          actors: config.actors,
          limits: config.limits,
          incidents: defaultIncidentConfig,
        },
        seed: o.seed,
        kinds: recordingKindsOf(o.kinds),
      },
    });
  } catch (err) {
    return `cannot record into ${o.recordPath}: ${(err as Error).message}`;
  }
}

/**
 * Starts the hosts, then the cluster's incident stage on up's bus (the findings in,
 * troupe.out.incident.* out), journaled in <data-dir>/up-1/incidents so that a troupe up started
 * again on the data directory has the incidents open before it (same ids, states and members);
 * with --hosts the hosts run it under its lease instead. Each started part is pushed on `undo`; a
 * string: what could not start.
 */
async function startHostsAndStage(
  o: UpOptions,
  config: HostConfig,
  r: {
    bus: Bus;
    nats: NatsServer | undefined;
    recorder: Recorder | undefined;
    undo: Array<() => unknown>;
    threads: number;
  },
): Promise<{ launched: UpHosts; incidents: ClusterIncidents } | string> {
  let launched: UpHosts;
  // A recording holds the bus, not the host's clock ticks: recorded, the host makes none.
  const tickEveryMs = r.recorder ? 0 : undefined;
  try {
    const hosts = { hosts: o.hosts, bus: r.nats ? undefined : r.bus, tickEveryMs, kinds: o.kinds };
    launched = r.threads > 1
      ? await launchThreadedUp(config, {
        threads: r.threads,
        bus: r.bus,
        tickEveryMs,
        kinds: o.kinds,
      })
      : await launchUpHosts(config, hosts);
  } catch (err) {
    // One line naming the cause and the value (the port, the file, the other process id).
    return `cannot start the host${o.hosts > 1 ? "s" : ""}: ${describeError(err)}`;
  }
  r.undo.push(() => launched.close());
  // Leased hosts run the stage themselves, under its lease (up_hosts.ts).
  if (launched.incidents) return { launched, incidents: launched.incidents };
  try {
    const incidents = await startJournaledIncidents(config, launched.stageHost, {
      bus: r.bus,
      command: "troupe up",
    });
    r.undo.push(() => incidents.close());
    return { launched, incidents };
  } catch (err) {
    return `cannot start the incident stage: ${describeError(err)}`;
  }
}

/** What troupe up runs, stopped in order by stopUp. */
interface Running {
  collab: LaunchedCollab;
  collabFile: CollabFile;
  bus: Bus;
  launched: UpHosts;
  incidents: ClusterIncidents;
  recorder: Recorder | undefined;
  nats: NatsServer | undefined;
  httpUrl: string;
  /** The receiver role's credentials, when troupe up's nats-server has users. */
  receiverAuth: NatsAuth | undefined;
}

/** Drains and stops everything, the files other commands read removed. */
async function stopUp(o: UpOptions, r: Running): Promise<void> {
  const { collab, collabFile, bus, launched, incidents, recorder, nats, httpUrl } = r;
  removeCollabFile(o.dataDir, collabFile.stream);
  await collab.close();
  await bus.flush().catch(() => {});
  await launched.close();
  await bus.flush().catch(() => {});
  await incidents.close().catch((err) =>
    console.error(`troupe up: while stopping the incident stage: ${describeError(err)}`)
  );
  // --- --record: everything the host published has reached the recorder; close the file.
  if (recorder) {
    await bus.flush().catch(() => {});
    try {
      console.log(`troupe up: recorded ${describeRecording(recorder.stop())}`);
    } catch (err) {
      console.error(`troupe up: ${(err as Error).message}`);
    }
  }
  // --- end --record
  if (nats) await bus.close().catch(() => {});
  await nats?.stop();
  if (nats) removeNatsUrl(o.dataDir, nats.url);
  removeHttpUrl(o.dataDir, httpUrl);
}

/** Takes the data directory's lock for this `troupe up`, or says in one line who holds it. */
function lockDataDir(dataDir: string): DirLock | string {
  try {
    mkdirSync(dataDir, { recursive: true });
    return lockDir(dataDir);
  } catch (err) {
    if (err instanceof DirLockedError) {
      return `the data directory ${dataDir} is in use by process ${err.pid} (another troupe ` +
        `up? its lock file is ${join(dataDir, "LOCK")}): stop it, or pass another --data-dir`;
    }
    return `cannot use the data directory ${dataDir}: ${describeError(err)}`;
  }
}
