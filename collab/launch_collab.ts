/**
 * Starts a collaboration server from a data directory: the file journal in `<dir>/collab/journal`,
 * snapshots in `<dir>/collab/snapshots`, the token secret of TROUPE_SECRET or
 * `<dir>/collab.secret`, and, given a NATS URL (or a bus), the fan-out to other nodes over NATS and
 * the stream gateway at `/stream`. What `troupe collab` and `troupe up` run.
 *
 * With `journal: "jetstream"` (as a host's `journal.kind`), documents live in NATS instead: the
 * journal in the JetStream stream `TROUPE_COLLAB_JOURNAL` (subjects
 * `troupe.journal_collab.collab.<node>.<session>`) and snapshots in the KV bucket
 * `troupe_collab_snapshots`, so a node restarted anywhere with the same node id finds its
 * documents. Each node journals its own copy (a JetStream journal stream has one writer), which is
 * why the node id is required and must stay the same across restarts.
 */
import { join } from "node:path";
import { FileJournal, type FsyncPolicy, type Journal } from "../actors/runtime/journal/mod.ts";
import { FileSnapshotStore, type SnapshotStore } from "../actors/runtime/snapshots/mod.ts";
import { type Bus, checkName, COLLAB_JOURNAL_SUBJECT_PREFIX } from "../protocol/mod.ts";
import { type CollabLimits, CollabServer, DocStore, loadKeyring, type Room } from "./server/mod.ts";
import type { Keyring, RootSchema } from "./session/mod.ts";
import { attachBridge, attachIncidentBridge, type BridgeOptions } from "./bridge/mod.ts";
import { StreamGateway, type StreamGatewayLimits } from "./gateway/mod.ts";
import {
  BusFeedHistory,
  FindingLog,
  HistoryService,
  type HistorySource,
  IncidentListService,
  IncidentLog,
  IncidentSeed,
} from "./history/mod.ts";

/** Options of `launchCollab`. */
export interface LaunchCollabOptions {
  dataDir: string;
  port?: number;
  host?: string;
  /** A NATS URL to fan out over (a connection of its own), or a bus to share. */
  nats?: string | undefined;
  /** The credentials for `nats` (actors/runtime's NatsAuth: files by path, or values). */
  natsAuth?: import("../actors/runtime/mod.ts").NatsAuth | undefined;
  bus?: Bus | undefined;
  nodeId?: string;
  /** The journal's fsync policy: `never` (default: a killed process loses nothing written, the
   *  operating system's page cache keeps it), `interval` or `always` (machine crashes too). */
  fsync?: FsyncPolicy;
  /** Where documents are kept: `file` (default, in the data directory) or `jetstream` (in NATS:
   *  needs `nats` or a NatsBus as `bus`, and `nodeId`). */
  journal?: "file" | "jetstream";
  limits?: Partial<CollabLimits>;
  /** Send threshold changes to the actors over the bus (default: when there is a bus). */
  bridge?: boolean;
  /** Options of the bridge (its answer timeout, an answer callback). */
  bridgeOptions?: Omit<BridgeOptions, "bus" | "src">;
  onRoom?(room: Room): void;
  /** The host's HTTP base URL for the dashboard's scan proxy (`/api/*`). */
  scanUrl?: string | undefined;
  /** Serve the stream gateway at `/stream` (default: when there is a bus; it needs one). */
  stream?: boolean;
  streamLimits?: Partial<StreamGatewayLimits>;
  /** What an editor may write (default SESSION_SCHEMA; see session_schema.ts). */
  schema?: Readonly<Record<string, RootSchema>>;
}

/** A running collaboration server and what it opened. */
export interface LaunchedCollab {
  server: CollabServer;
  /** The keyring tokens are checked with (mint with `mintToken(keyring, ...)`). */
  keyring: Keyring;
  store: DocStore;
  bus: Bus | undefined;
  /** The stream gateway, when there is a bus. */
  stream: StreamGateway | undefined;
  close(): Promise<void>;
}

/**
 * The runtime's NATS parts (the bus, the JetStream journal, the KV snapshot store), loaded only
 * by a server that uses NATS: with them, `actors/runtime/mod.ts` loads the host and the NATS
 * clients, which a server without NATS would keep resident for nothing (see
 * `actors/runtime/mod.ts`).
 */
function natsParts(): Promise<typeof import("../actors/runtime/mod.ts")> {
  return import("../actors/runtime/mod.ts");
}

/** A bus on the NATS server at `url`; an error says it is NATS at `url` that failed. */
async function connectNats(url: string, options: LaunchCollabOptions) {
  try {
    return await (await natsParts()).NatsBus.connect(url, {
      name: options.nodeId ?? "troupe-collab",
      auth: options.natsAuth,
    });
  } catch (err) {
    const shown = (await natsParts()).redactNatsUrl(url);
    throw new Error(`cannot connect to NATS at ${shown}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Opens the journal, snapshots and keyring of `dataDir` and starts a server. */
export async function launchCollab(options: LaunchCollabOptions): Promise<LaunchedCollab> {
  const keyring = await loadKeyring({ dataDir: options.dataDir });
  const ownBus = options.nats !== undefined ? await connectNats(options.nats, options) : undefined;
  const bus = options.bus ?? ownBus;
  let store: DocStore;
  try {
    store = await openStore(options, bus);
  } catch (err) {
    await ownBus?.close().catch(() => {});
    if (options.journal === "jetstream" && options.nats !== undefined) {
      throw new Error(
        `cannot open the JetStream journal on NATS at ${
          (await natsParts()).redactNatsUrl(options.nats)
        }: ${(err as Error).message}`,
        { cause: err },
      );
    }
    throw err;
  }
  const stream = bus && options.stream !== false
    ? StreamGateway.start({
      bus,
      keyring,
      ...(options.streamLimits ? { limits: options.streamLimits } : {}),
    })
    : undefined;
  const history = await startHistory(bus, keyring);
  // The WebSocket form of /history, on the stream socket the page already has.
  if (history && stream) stream.serveHistory((request) => history.service.encoded(request));
  let server: CollabServer;
  try {
    server = await CollabServer.start({
      keyring,
      store,
      port: options.port ?? 0,
      host: options.host ?? "127.0.0.1",
      bus,
      stream,
      history: history?.service,
      incidentList: history && new IncidentListService({ incidents: history.incidents, keyring }),
      ...(options.nodeId !== undefined ? { nodeId: options.nodeId } : {}),
      ...(options.limits ? { limits: options.limits } : {}),
      scanUrl: options.scanUrl,
      schema: options.schema,
      onRoom: (room) => {
        if (bus && options.bridge !== false) {
          attachBridge(room, { ...options.bridgeOptions, bus, src: server.nodeId });
          attachIncidentBridge(room, { ...options.bridgeOptions, bus, src: server.nodeId });
        }
        options.onRoom?.(room);
      },
    });
  } catch (err) {
    history?.close();
    await stream?.close();
    await store.close();
    await ownBus?.close();
    throw err;
  }
  return {
    server,
    keyring,
    store,
    bus,
    stream,
    async close() {
      history?.close();
      await server.close();
      await store.close();
      await ownBus?.close().catch(() => {});
    },
  };
}

/**
 * `/history` and the findings and incidents logs it lists, on any bus. With NATS the samples come
 * from the feed stream in JetStream (the reader's JetStream client is loaded only then), held in
 * columns by the history cache; on another bus (the in-process one of `troupe up` without
 * nats-server) from the frames seen on it since the server started, held in bounded columns
 * (bus_feed_history.ts). The incident log is seeded from the incident stage's list now, and on
 * each NATS reconnect.
 */
async function startHistory(bus: Bus | undefined, keyring: Keyring) {
  if (!bus) return undefined;
  const nc = "nc" in bus
    ? (bus as { nc: import("@nats-io/transport-node").NatsConnection }).nc
    : undefined;
  const nowUs = () => Date.now() * 1000;
  const findings = new FindingLog({ nowUs }).follow(bus);
  const incidents = new IncidentLog({ nowUs }).follow(bus);
  const seed = new IncidentSeed(incidents, bus);
  seed.ask();
  let source: HistorySource;
  let stopSource = () => {};
  if (nc) {
    void (async () => {
      for await (const s of nc.status()) if (s.type === "reconnect") seed.ask();
    })().catch(() => {});
    const { FeedStreamHistory, HistoryCache } = await import("./history/feed_stream/mod.ts");
    // Answers read the channels' samples from memory, and the stream only for frames since.
    source = new HistoryCache(new FeedStreamHistory(nc));
  } else {
    const held = new BusFeedHistory({ nowUs }).follow(bus);
    source = held;
    stopSource = () => held.close();
  }
  const service = new HistoryService({ source, findings, incidents, keyring });
  const close = () => (seed.stop(), stopSource(), findings.close(), incidents.close());
  return { service, findings, incidents, seed, close };
}

/** The JetStream stream of collab journals, and its subject prefix. */
export const COLLAB_JOURNAL_STREAM = "TROUPE_COLLAB_JOURNAL";
export const COLLAB_JOURNAL_PREFIX = COLLAB_JOURNAL_SUBJECT_PREFIX;
/** The KV bucket of collab snapshots. */
export const COLLAB_SNAPSHOT_BUCKET = "troupe_collab_snapshots";

async function openStore(options: LaunchCollabOptions, bus: Bus | undefined): Promise<DocStore> {
  const kind = options.journal ?? "file";
  if (kind === "file") {
    const dir = join(options.dataDir, "collab");
    const journal = await FileJournal.open(join(dir, "journal"), {
      fsync: options.fsync ?? "never",
      // Each relayed update waits for its batch to be written: a small one is written at once,
      // without a hop to an I/O thread and back, which set the relay's tail latency at 200
      // clients (docs/performance.md, "Figures behind the code").
      inlineWriteBytesMax: 64 << 10,
    });
    const snapshots = await FileSnapshotStore.open(join(dir, "snapshots"));
    return new DocStore(journal, snapshots);
  }
  if (kind !== "jetstream") {
    throw new Error(`launchCollab option "journal" must be file or jetstream, got "${kind}"`);
  }
  const { NatsBus, JetStreamJournal, KvSnapshotStore } = await natsParts();
  if (!(bus instanceof NatsBus)) {
    throw new Error(
      `launchCollab journal "jetstream" needs a NATS connection ("nats" or a NatsBus)`,
    );
  }
  if (options.nodeId === undefined) {
    throw new Error(
      `launchCollab journal "jetstream" needs a "nodeId" (each node journals its own copy)`,
    );
  }
  checkName(options.nodeId, "collab node id");
  let journal: Journal | undefined;
  let snapshots: SnapshotStore | undefined;
  try {
    journal = await JetStreamJournal.open(bus.nc, {
      stream: COLLAB_JOURNAL_STREAM,
      subjectPrefix: COLLAB_JOURNAL_PREFIX,
      loadPositions: "lazy",
    });
    snapshots = await KvSnapshotStore.open(bus.nc, { bucket: COLLAB_SNAPSHOT_BUCKET });
    return new DocStore(journal, snapshots, { node: options.nodeId });
  } catch (err) {
    await journal?.close().catch(() => {});
    throw err;
  }
}
