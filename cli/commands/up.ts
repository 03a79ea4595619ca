/**
 * `troupe up`: everything on one machine. A nats-server child process with JetStream in the data
 * directory when the binary is on PATH (otherwise the in-process bus, said in one line), an actor
 * host running every actor kind, and a synthetic feed so that something flows (the market by
 * default, or with `--feed metrics` the service metrics feed, with the settings that suit it). Ctrl-C
 * stops the feed, drains and snapshots the host, and stops nats-server. `--journal jetstream`
 * keeps the host's journal in JetStream, and the collaboration server's documents with it.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import {
  ACTOR_KINDS,
  defaultIncidentConfig,
  registerIncidentMetrics,
  runIncidentStage,
} from "../../actors/mod.ts";
import { scanHostService } from "../../actors/scan/mod.ts";
import {
  defaultHostConfig,
  describeError,
  type DirLock,
  DirLockedError,
  type HostConfig,
  InProcessBus,
  type LaunchedHost,
  launchHost,
  lockDir,
  NatsServer,
} from "../../actors/runtime/mod.ts";
import { areaPattern, type Bus } from "../../protocol/mod.ts";
import { createMarketFeed, createMetricsFeed, type Feed, inject } from "../../sim/feeds/mod.ts";
import {
  DEMO_CRASH_RATE,
  demoActorConfigs,
  describeDemo,
  describeMetricsSettings,
  describeRecording,
  metricsActorConfigs,
  Recorder,
} from "../../sim/mod.ts";
import {
  COLLAB_JOURNAL_STREAM,
  launchCollab,
  type LaunchedCollab,
  mintToken,
} from "../../collab/mod.ts";
import { type CollabFile, removeCollabFile, writeCollabFile } from "../collab_file.ts";
import { LatestFindings } from "../latest_findings.ts";
import { type Command, duration, flag, num, str, UsageError } from "../args.ts";
import { catchSignals, waitForSignal } from "../signals.ts";
import { DATA_DIR_DEFAULT, removeNatsUrl } from "../nats_url.ts";
import { removeHttpUrl, writeHttpUrl } from "../host_url.ts";
import {
  NATS_SERVER_ENV,
  natsServerBinary,
  onPreferredPort,
  portOr,
  startNats,
  whyNoNatsServer,
} from "../up_nats.ts";

export const command: Command = {
  name: "up",
  summary: "everything on one machine: NATS, a host, a synthetic feed, the dashboard",
  usage:
    "[--feed market|metrics] [--channels N] [--rate N] [--duration S] [--seed N] [--data-dir DIR] " +
    "[--http-port N] [--collab-port N] [--no-nats] [--journal KIND] [--record FILE] " +
    "[--accept-journal-loss]",
  options: {
    feed: {
      type: "string",
      arg: "NAME",
      help: "market (default): the synthetic market, with demo settings; metrics: the service " +
        "metrics feed (a sample a minute of event time), with the settings for service metrics",
    },
    channels: {
      type: "string",
      arg: "N",
      help: "Symbols of the synthetic market feed, or series of the metrics feed (default 8)",
    },
    rate: { type: "string", arg: "N", help: "Samples per second over all channels (default 2000)" },
    duration: {
      type: "string",
      arg: "S",
      help: "Stop after S seconds, or 30s, 5m, 1h (default: until Ctrl-C)",
    },
    seed: { type: "string", arg: "N", help: "Seed of the synthetic feed (default 1)" },
    "data-dir": {
      type: "string",
      arg: "DIR",
      help: "Journals, snapshots, NATS store (default .troupe)",
    },
    "http-port": {
      type: "string",
      arg: "N",
      help: "Port of /healthz, /metrics and the scans (default 9464, or a free one when it is " +
        "taken; 0: a free one)",
    },
    "collab-port": {
      type: "string",
      arg: "N",
      help: "Port of the collaboration server and the dashboard (default 1234, or a free one " +
        "when it is taken; 0: a free one)",
    },
    "no-nats": {
      type: "boolean",
      help: "Use the in-process bus even when nats-server is installed",
    },
    journal: {
      type: "string",
      arg: "KIND",
      help: "file (default, in the data directory) or jetstream (in NATS, for the host and the " +
        "collaboration server's documents; needs nats-server)",
    },
    record: {
      type: "string",
      arg: "FILE",
      help: "Record the session from its start into FILE (default: no recording; replay it " +
        "with troupe replay FILE --verify)",
    },
    "accept-journal-loss": {
      type: "boolean",
      help: "Start even where the journal lost inputs the input cannot give back (named)",
    },
  },
  details: `It prints the host's /healthz and /metrics URL, the dashboard's URL with an owner token,
and every 10 s a status line with the latest findings; Ctrl-C drains, snapshots and stops.
Journals, snapshots, the NATS store and the URLs other commands read (nats.url, http.url,
collab.json) go to the data directory; run it again there and the actors recover from it. One
troupe up at a time per data directory (a second one says which process holds it).
Examples:
  troupe up
  troupe up --feed metrics --duration 5m
  troupe up --data-dir /tmp/demo --http-port 0 --collab-port 0 --record demo.rec
Install nats-server for the full cluster: apt-get install nats-server (Debian/Ubuntu), brew
install nats-server (macOS). TROUPE_NATS_SERVER=PATH names the binary to start instead of the one
on PATH; without one, everything runs on the in-process bus (said in one line).`,
  async run(args) {
    const feedKind = str(args, "feed") ?? "market";
    if (feedKind !== "market" && feedKind !== "metrics") {
      throw new UsageError(`Option --feed must be market or metrics, got "${feedKind}"`);
    }
    const channels = num(args, "channels", 8, { min: 1, max: 10_000, integer: true });
    const rate = num(args, "rate", 2000, { min: 0, exclusiveMin: true });
    const durationS = duration(args, "duration", 0);
    const seed = num(args, "seed", 1, { integer: true });
    const dataDir = str(args, "data-dir") ?? ".troupe";
    const httpPort = str(args, "http-port") !== undefined
      ? num(args, "http-port", 0, { min: 0, max: 65535, integer: true })
      : await portOr(9464);

    const journal = str(args, "journal") ?? "file";
    if (journal !== "file" && journal !== "jetstream") {
      throw new UsageError(`Option --journal must be file or jetstream, got "${journal}"`);
    }
    let nats: NatsServer | undefined;
    let bus: Bus;
    const noNats = flag(args, "no-nats");
    if (journal === "jetstream" && noNats) {
      throw new UsageError("Option --journal jetstream needs NATS: it cannot go with --no-nats");
    }
    // One troupe up per data directory, checked before anything starts: a second one started a
    // second nats-server on the same JetStream store and took nats.url over, pointing the
    // first one's inject, ctl and record at a server that was gone once the host's journal
    // lock stopped it.
    // From here a Ctrl-C is kept until the cluster is up, which then drains and stops: killed
    // mid-start, up would leave its nats-server (a process group of its own) running.
    catchSignals();
    const lock = lockDataDir(dataDir);
    if (typeof lock === "string") {
      console.error(`troupe up: ${lock}`);
      return 1;
    }
    // Every way out releases it (a process killed outright leaves a lock a later up takes over).
    process.once("exit", () => lock.release());
    const binary = noNats ? undefined : natsServerBinary();
    if (journal === "jetstream" && !binary) {
      console.error(
        `troupe up: --journal jetstream needs nats-server, ${whyNoNatsServer()} ` +
          "(apt-get install nats-server, or brew install nats-server)",
      );
      return 1;
    }
    if (binary) {
      const started = await startNats(binary, dataDir);
      if (typeof started === "string") {
        const why = journal === "jetstream"
          ? "--journal jetstream needs it"
          : "--no-nats runs everything on the in-process bus";
        console.error(`troupe up: ${started}; ${why}`);
        return 1;
      }
      ({ nats, bus } = started);
    } else {
      console.log(
        noNats
          ? "troupe up: --no-nats: everything runs on the in-process bus"
          : process.env[NATS_SERVER_ENV]
          ? `troupe up: no nats-server to start: ${NATS_SERVER_ENV} names ` +
            `"${process.env[NATS_SERVER_ENV]}", which does not exist, so everything runs on the ` +
            `in-process bus (unset it to use the nats-server on PATH)`
          : "troupe up: nats-server is not on PATH, so everything runs on the in-process bus " +
            "(apt-get install nats-server, or brew install nats-server, for the NATS cluster)",
      );
      bus = new InProcessBus();
    }

    const config = defaultHostConfig();
    config.host_id = "up-1";
    config.data_dir = join(dataDir, "up-1");
    config.nats = nats?.url;
    config.input = nats ? "jetstream" : "core";
    config.journal.kind = journal;
    config.http_port = httpPort;
    // Settings that suit a demo of the synthetic market, or service metrics (sim/demo.ts), said
    // in one line below.
    const intervalUs = Math.max(1, Math.round((channels * 1e6) / rate));
    const demo = feedKind === "metrics" ? metricsActorConfigs() : demoActorConfigs(intervalUs);
    config.actors = Object.fromEntries(Object.keys(ACTOR_KINDS).map((k) => [k, demo[k] ?? {}]));
    config.accept_journal_loss = flag(args, "accept-journal-loss");
    // The incident stage's settings, in the recording's header so that a replay makes the same.
    const incidentConfig = defaultIncidentConfig;
    // --- --record (sim/recording/): subscribe before the host starts, so that the recording
    // holds every input and every output of the session.
    const recordPath = str(args, "record");
    let recorder: Recorder | undefined;
    if (recordPath !== undefined) {
      try {
        recorder = Recorder.start(bus, {
          path: recordPath,
          header: {
            source: "troupe up",
            bus: nats?.url ?? "in-process",
            config: { actors: config.actors, limits: config.limits, incidents: incidentConfig },
            seed,
          },
        });
      } catch (err) {
        console.error(`troupe up: cannot record into ${recordPath}: ${(err as Error).message}`);
        await bus.close().catch(() => {});
        await nats?.stop();
        return 1;
      }
    }
    // --- end --record
    let launched: LaunchedHost;
    try {
      const service = scanHostService();
      // A recording holds the bus, not the host's clock ticks: recorded, the host makes none.
      const ticks = recorder ? { tickEveryMs: 0 } : {};
      launched = await launchHost(
        config,
        ACTOR_KINDS,
        nats ? { service, ...ticks } : { bus, service, ...ticks },
      );
    } catch (err) {
      // One line naming the cause and the value (the port, the file, the other process id).
      console.error(`troupe up: cannot start the host: ${describeError(err)}`);
      try {
        recorder?.stop();
      } catch {
        // The recording is as complete as it could be.
      }
      await bus.close().catch(() => {});
      await nats?.stop();
      return 1;
    }
    // One incident stage for the cluster, on the bus: the findings in, troupe.out.incident.* out.
    const incidents = runIncidentStage(bus, { config: incidentConfig });
    registerIncidentMetrics(launched.host.metrics.registry, incidents.stage);
    const httpUrl = `http://127.0.0.1:${launched.host.httpPort}`;
    // troupe scan finds the host's port through this file, wherever it listens.
    writeHttpUrl(dataDir, httpUrl);
    console.log(
      `troupe up: host up-1 running ${Object.keys(config.actors).join(", ")} ` +
        `(journal ${
          config.journal.kind === "jetstream" ? "in JetStream" : "in " + config.data_dir
        }); ` +
        `${httpUrl}/healthz and /metrics; scans: troupe scan, or POST ${httpUrl}/scan/stream`,
    );
    // --- the collaboration server beside the host, on the same bus (its bridge reaches the host).
    const collabPort = str(args, "collab-port") !== undefined
      ? num(args, "collab-port", 0, { min: 0, max: 65535, integer: true })
      : undefined;
    let collab: LaunchedCollab;
    try {
      const launch = (port: number) =>
        launchCollab({
          dataDir,
          port,
          bus,
          // The node id names the collab journal's streams in JetStream: the same on every run.
          nodeId: "up-1-collab",
          journal: collabJournalOf(config.journal.kind),
          // The dashboard's /api/* proxy reaches the scan service on the host's HTTP port.
          scanUrl: launched.host.httpPort === undefined
            ? undefined
            : `http://127.0.0.1:${launched.host.httpPort}`,
        });
      collab = collabPort === undefined
        ? await onPreferredPort(COLLAB_PORT, launch)
        : await launch(collabPort);
    } catch (err) {
      // One line, and nothing left running: the host and nats-server were up already (an
      // explicit --collab-port that was taken once left nats-server running after exit 1).
      console.error(
        `troupe up: cannot start the collaboration server on port ${collabPort ?? COLLAB_PORT}: ${
          describeError(err)
        }`,
      );
      try {
        recorder?.stop();
      } catch {
        // The recording is as complete as it could be.
      }
      incidents.stop();
      await launched.close().catch(() => {});
      await bus.close().catch(() => {});
      await nats?.stop();
      if (nats) removeNatsUrl(dataDir, nats.url);
      removeHttpUrl(dataDir, httpUrl);
      return 1;
    }
    // The owner's token (issue 17): whoever ran troupe up owns the session; links for the team
    // (viewer or editor) come from troupe token.
    const ownerToken = await mintToken(collab.keyring, {
      session: "main",
      role: "owner",
      ttlS: 8 * 3600,
      nowMs: Date.now(),
    });
    console.log(
      `troupe up: collab server ${collab.server.url} (y-websocket; session "main", owner token ` +
        `${ownerToken}; more with troupe token --data-dir ${dataDir})`,
    );
    if (journal === "jetstream") {
      console.log(
        `troupe up: collab documents in JetStream (stream ${COLLAB_JOURNAL_STREAM}, ` +
          `node ${collab.server.nodeId})`,
      );
    }
    // --- the dashboard and the stream gateway (issue 17): the URL to open, and collab.json for
    // troupe watch (a viewer token: watching needs no more).
    const collabFile = await dashboardFile(collab, dataDir);
    console.log(`troupe up: dashboard ${collabFile.dashboard}?session=main&token=${ownerToken}`);
    console.log(
      `troupe up: share it read-only or to edit: troupe token --session main --role ` +
        `viewer|editor --data-dir ${dataDir}, then ${collabFile.dashboard}?session=main&token=<token>`,
    );
    console.log(
      `troupe up: findings live in the terminal: troupe watch` +
        (join(dataDir) === join(DATA_DIR_DEFAULT) ? "" : ` --data-dir ${dataDir}`) +
        ` (stream ${collabFile.stream})`,
    );
    const findings = new LatestFindings(bus);
    // --- --record: actors recovered from an earlier run carry state the recording lacks.
    if (recorder) {
      const recovered = launched.host.instances().length;
      const note = recovered === 0 ? "" : `; note: ${recovered} actor instances were recovered ` +
        `from ${dataDir}, so a replay will not reproduce their outputs (use a fresh --data-dir)`;
      console.log(`troupe up: recording the session into ${recordPath}${note}`);
    }
    // --- end --record

    let outputs = 0, dead = 0;
    bus.subscribe(areaPattern("out"), () => outputs++);
    bus.subscribe(areaPattern("dlq"), () => dead++);

    // Live-looking event times: the feed starts now, one step per channel-share of the rate.
    const batch = Math.max(1, Math.round(rate / channels / 20));
    const startUs = Math.round((performance.timeOrigin + performance.now()) * 1000);
    // The metrics feed keeps its minute between samples: a day of event time passes in
    // 1440 * channels / rate seconds, so its daily cycle shows.
    const feed: Feed = feedKind === "metrics"
      ? createMetricsFeed({ series: channels, seed, batch, startUs })
      : createMarketFeed({
        symbols: channels,
        seed,
        batch,
        volume: false,
        startUs,
        intervalUs,
        crashRate: DEMO_CRASH_RATE,
      });
    console.log(
      `troupe up: ${feedKind === "metrics" ? describeMetricsSettings() : describeDemo(intervalUs)}`,
    );
    console.log(
      `troupe up: injecting the synthetic ${feedKind} feed: ${channels} channels, ${rate} ` +
        `samples/s on troupe.feed.${feedKind}.*, ${batch} samples of a channel to a message ` +
        `(one input to each actor kind that takes it)  (Ctrl-C to stop)`,
    );
    const t0 = performance.now();
    const abort = new AbortController();
    let sent = 0;
    const injecting = inject(bus, feed, {
      rate,
      durationS: Infinity,
      feedName: feedKind,
      // Unique per run: input ids (and so output ids, and JetStream's Nats-Msg-Id) must not repeat
      // across runs that share a data directory.
      src: `up-${Math.round(performance.timeOrigin).toString(36)}`,
      signal: abort.signal,
      onProgress: (samples) => {
        sent = samples;
      },
    }).catch((err) => {
      // Handled at once: a feed that fails while up waits for Ctrl-C (a NATS flush unanswered
      // for 2 s on a loaded machine) was an unhandled rejection, which ended the whole process
      // with a stack trace and left nats-server running. The host and the dashboard run on.
      if (!abort.signal.aborted) {
        console.error(
          `\ntroupe up: the feed stopped: ${describeError(err)}; the host runs on (Ctrl-C to stop)`,
        );
      }
      return undefined;
    });
    // A live line on a terminal; a line every 10 s when the output is a file or a pipe.
    const tty = process.stderr.isTTY === true;
    let ticks = 0;
    const status = setInterval(() => {
      ticks++;
      if (!tty && ticks % 10 !== 0) return;
      const s = (performance.now() - t0) / 1000;
      const applied = [...launched.host.applied.values()].reduce((a, b) => a + b, 0);
      const line = `${s.toFixed(0)} s: ${sent} samples sent, ${applied} inputs applied, ` +
        `${outputs} outputs, ${dead} dead letters`;
      // The latest findings every 10 s: a line or three above the status line.
      const found = ticks % 10 === 0 ? findings.take() : [];
      const above = found.map((l) => `troupe up: ${l}\n`).join("");
      process.stderr.write(tty ? `\r\x1b[K${above}${line}   ` : `${above}${line}\n`);
    }, 1000);

    const signal = await waitForSignal(durationS > 0 ? durationS * 1000 : undefined);
    abort.abort();
    const result = await injecting;
    if (result) sent = result.samples;
    clearInterval(status);
    console.error(
      `\ntroupe up: ${signal === "timeout" ? "duration reached" : signal}: draining and stopping`,
    );
    findings.close();
    removeCollabFile(dataDir, collabFile.stream);
    await collab.close();
    await bus.flush().catch(() => {});
    await launched.close();
    await bus.flush().catch(() => {});
    incidents.stop();
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
    if (nats) removeNatsUrl(dataDir, nats.url);
    removeHttpUrl(dataDir, httpUrl);
    const applied = [...launched.host.applied.values()].reduce((a, b) => a + b, 0);
    console.log(
      `troupe up: stopped cleanly: ${sent} samples sent, ${applied} inputs applied, ${outputs} outputs, ${dead} dead letters`,
    );
    return 0;
  },
};

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

/** Writes `<dataDir>/collab.json` (the gateway's URL and a viewer token) and returns it. */
async function dashboardFile(collab: LaunchedCollab, dataDir: string): Promise<CollabFile> {
  const base = `127.0.0.1:${collab.server.port}`;
  const ttlS = 8 * 3600;
  const token = await mintToken(collab.keyring, {
    session: "main",
    role: "viewer",
    ttlS,
    nowMs: Date.now(),
  });
  const file: CollabFile = {
    stream: `ws://${base}/stream`,
    dashboard: `http://${base}/`,
    session: "main",
    token,
    exp: Math.floor(Date.now() / 1000 + ttlS),
  };
  writeCollabFile(dataDir, file);
  return file;
}

/**
 * Where the collaboration server keeps documents for a host journal kind: beside the host's
 * journal, in JetStream when the host's is there, in the data directory otherwise (a memory
 * journal keeps nothing across a restart; documents should).
 */
function collabJournalOf(kind: HostConfig["journal"]["kind"]): "file" | "jetstream" {
  return kind === "jetstream" ? "jetstream" : "file";
}

/** The collaboration server's and dashboard's port when it is free (y-websocket's usual one). */
const COLLAB_PORT = 1234;
