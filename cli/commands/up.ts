/**
 * `troupe up`: everything on one machine. A nats-server child process with JetStream in the data
 * directory when the binary is on PATH (otherwise the in-process bus, said in one line), an actor
 * host running every actor kind, and a synthetic feed so that something flows (the market by
 * default, or with `--feed metrics` the service metrics feed, with the settings that suit it).
 * Ctrl-C stops the feed, drains and snapshots the host, and stops nats-server. `--journal
 * jetstream` keeps the host's journal in JetStream, and the collaboration server's documents with
 * it. The cluster (its hosts, on threads or by lease with `--hosts N`, and the incident stage) is
 * the runtime's startCluster, in up's preset (actors/cluster/up_cluster.ts).
 */
import process from "node:process";
import {
  describeError,
  type HostConfig,
  InProcessBus,
  type NatsAuth,
  NatsServer,
} from "../../actors/runtime/mod.ts";
import type { Bus } from "../../protocol/mod.ts";
import { describeRecording, type Recorder, startUpRecorder } from "../../sim/mod.ts";
import { COLLAB_PORT, type LaunchedCollab, startCollab } from "../../collab/mod.ts";
import {
  type CollabFile,
  removeCollabFile,
  removeHttpUrl,
  removeNatsUrl,
  writeHttpUrl,
} from "../../actors/cluster/data_dir/mod.ts";
import { announceCollab } from "../announce_collab.ts";
import { startFeed } from "../up_feed.ts";
import { UP_OPTIONS, type UpOptions, upOptions } from "../up_options.ts";
import {
  type FeedLeft,
  feedTaken,
  lockDataDir,
  NATS_SERVER_ENV,
  type NatsRoleUsers,
  natsServerBinary,
  type RunningCluster,
  startUpCluster,
  upClusterLines,
  upHostConfig,
  upHostsOf,
  upThreads,
  whyNoNatsServer,
} from "../../actors/cluster/mod.ts";
import { type Command } from "../args.ts";
import { catchSignals, waitForSignal } from "../signals.ts";
import { startNats, stopNatsWithProcess } from "../up_nats.ts";

export const command: Command = {
  name: "up",
  summary: "everything on one machine: NATS, a host, a synthetic feed, the dashboard",
  usage:
    "[--feed market|metrics|remote-write] [--channels N] [--rate N] [--duration S] [--seed N] " +
    "[--data-dir DIR] [--http-port N] [--collab-port N] [--no-nats] [--nats-port N] " +
    "[--nats-open] [--journal file|jetstream] " +
    "[--hosts N] [--threads N] [--kinds MODULES] [--record FILE] [--alertmanager URL]... " +
    "[--remote-write-port N] [--match SELECTOR]... [--preset NAME] [--token TOKEN] " +
    "[--history-url URL] " +
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
    // One troupe up per data directory (actors/cluster/data_dir_lock.ts), checked first.
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
    const config = upHostConfig(o, { nats, threads });
    config.nats_auth = auth?.roles.host ?? {};
    const recorder = startUpRecorder(bus, config, o);
    if (typeof recorder === "string") return await abandon(recorder);
    undo.push(() => recorder?.stop());
    const cluster = await startUpCluster(config, {
      hosts: o.hosts,
      threads,
      bus,
      nats,
      kinds: o.kinds,
    });
    if (typeof cluster === "string") return await abandon(cluster);
    undo.push(() => cluster.close(Infinity));
    const launched = upHostsOf(cluster);
    const httpUrl = `http://127.0.0.1:${launched.httpPort}`;
    // troupe scan finds the host's port through this file, wherever it listens.
    writeHttpUrl(o.dataDir, httpUrl);
    undo.push(
      () => removeHttpUrl(o.dataDir, httpUrl),
      () => nats && removeNatsUrl(o.dataDir, nats.url),
    );
    for (const line of upClusterLines(cluster)) console.log(`troupe up: ${line}`);
    let collab: LaunchedCollab;
    try {
      collab = await startCollab(bus, launched, {
        ...o,
        ...(auth && nats ? { bridge: { nats: nats.url, auth: auth.roles.bridge } } : {}),
      });
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
    if (recorder) console.log(`troupe up: ${recordingLine(o, cluster)}`);
    const receiverAuth = auth?.roles.receiver;
    const stopping = { collab, collabFile, bus, launched, cluster, recorder, nats, httpUrl };
    return await feedUntilEnd(o, config, { ...stopping, receiverAuth });
  },
};

/** The line that says where the session is recorded, and what a replay of it will lack. */
function recordingLine(o: UpOptions, cluster: RunningCluster): string {
  // Actors recovered from an earlier run carry state the recording lacks.
  const recovered = cluster.instances();
  const restored = cluster.stage?.restored ?? 0;
  const note = recovered === 0 && restored === 0
    ? ""
    : `; note: ${recovered} actor instances and ${restored} incident findings ` +
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
): Promise<{ nats: NatsServer | undefined; bus: Bus; auth?: NatsRoleUsers | undefined } | string> {
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

/** What troupe up runs, stopped in order by stopUp. */
interface Running {
  collab: LaunchedCollab;
  collabFile: CollabFile;
  bus: Bus;
  launched: ReturnType<typeof upHostsOf>;
  cluster: RunningCluster;
  recorder: Recorder | undefined;
  nats: NatsServer | undefined;
  httpUrl: string;
  /** The receiver role's credentials, when troupe up's nats-server has users. */
  receiverAuth: NatsAuth | undefined;
}

/** Drains and stops everything, the files other commands read removed. */
async function stopUp(o: UpOptions, r: Running): Promise<void> {
  const { collab, collabFile, bus, cluster, recorder, nats, httpUrl } = r;
  removeCollabFile(o.dataDir, collabFile.stream);
  await collab.close();
  // What the feed published before it stopped reaches the hosts before they stop taking input:
  // the recorder, also subscribed, would otherwise hold inputs the hosts never applied.
  await bus.flush().catch(() => {});
  await feedDrained(cluster, recorder);
  // The hosts drain, then the stage takes what they published (up's bus flushed between).
  await cluster.close(Infinity);
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

/** How long a stop waits for leased hosts to take the rest of their feed stream, ms. */
export const FEED_DRAIN_MS = 60_000;

/**
 * Leased hosts read the feed from its stream and may run behind it: they take the rest before
 * they stop (FEED_DRAIN_MS at most), saying so while it takes long; past it, the recording says
 * it may lack the outputs of inputs it holds.
 */
async function feedDrained(cluster: RunningCluster, recorder: Recorder | undefined): Promise<void> {
  if (cluster.leased.length === 0) return;
  const partitions = cluster.configs[0]?.partitions.count ?? 0;
  const left = await feedTaken(cluster.leased, {
    partitions,
    maxMs: FEED_DRAIN_MS,
    onWait: (l, ms) =>
      console.error(
        `troupe up: the hosts are taking the rest of the feed stream (${describeLeft(l)} after ` +
          `${(ms / 1000).toFixed(0)} s)`,
      ),
  });
  if (left.behind === 0 && left.unheld === 0) return;
  console.error(
    `troupe up: the hosts had not taken the rest of the feed stream after ` +
      `${FEED_DRAIN_MS / 1000} s (${describeLeft(left)}); stopping them, the next start takes it` +
      (recorder ? ": the recording may lack the outputs of its last inputs" : ""),
  );
  recorder?.outputsMayLack();
}

function describeLeft(l: FeedLeft): string {
  const parts = [];
  if (l.behind > 0) parts.push(`${l.behind} messages behind`);
  if (l.unheld > 0) parts.push(`${l.unheld} partitions held by no host`);
  return parts.join(", ");
}
