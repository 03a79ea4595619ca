/**
 * Test support for the collab suites: stock y-websocket clients (ws as their WebSocket, no
 * BroadcastChannel, so that clients in one process meet only through the server), raw sockets,
 * token minting for a data directory, waiting for a condition, for replicas to converge
 * (`waitConverged()`) or for the feed stream to keep what was published (`feedStored()`), and
 * `openDashboard()`, the set-up of the dashboard's browser suites (a nats-server, a collab
 * server, a bus, Chromium, pages), and `openDashboardOverHistory()`, the same over a channel's past
 * kept in the feed stream.
 */
import { join } from "node:path";
import type { Page } from "playwright-core";
import { WebSocket } from "ws";
import * as Y from "yjs";
import { WebsocketProvider } from "y-websocket";
import { jetstreamManager } from "@nats-io/jetstream";
import { ensureFeedStream, FEED_STREAM, NatsBus } from "../../actors/runtime/mod.ts";
import {
  type CollabLimits,
  launchCollab,
  type LaunchCollabOptions,
  type LaunchedCollab,
  loadKeyring,
  mintToken,
  type Role,
  type RootSchema,
  SESSION_SCHEMA,
  SessionDoc,
} from "../../collab/mod.ts";
import { encodeFrame, feedSubject } from "../../protocol/mod.ts";
import { launchBrowser } from "../_support/browser.ts";
import { startTestNats, tempDir } from "../_support/nats.ts";

/** Any content under a key: for the suites about transport, whose documents hold keys of their
 *  own (`log`, `notes`, ...); the session schema's own suite is collab_schema.test.ts. */
function anything(type: RootSchema["type"]): RootSchema {
  return { type, check() {} };
}

/** The session schema plus the keys the transport suites write. */
export const TRANSPORT_SCHEMA: Readonly<Record<string, RootSchema>> = {
  ...SESSION_SCHEMA,
  log: anything("array"),
  notes: anything("array"),
  a: anything("array"),
  fuzz: anything("map"),
  fuzzlist: anything("array"),
  fuzztext: anything("text"),
};

/** A y-websocket client of one session. */
export interface Client {
  doc: Y.Doc;
  sdoc: SessionDoc;
  provider: WebsocketProvider;
  destroy(): void;
}

/** Connects a stock y-websocket client; resolves once it has synced. */
export async function connectClient(
  url: string,
  session: string,
  token: string,
  options: { doc?: Y.Doc; waitSync?: boolean } = {},
): Promise<Client> {
  const doc = options.doc ?? new Y.Doc();
  const provider = new WebsocketProvider(url, session, doc, {
    // deno-lint-ignore no-explicit-any
    WebSocketPolyfill: WebSocket as any,
    params: { token },
    disableBc: true,
    maxBackoffTime: 200,
  });
  if (options.waitSync !== false) {
    await waitFor(() => provider.synced, 10_000, `client of ${session} to sync`);
  }
  return {
    doc,
    sdoc: new SessionDoc(doc),
    provider,
    destroy() {
      provider.destroy();
    },
  };
}

/** Mints a token with the keyring of `dataDir` (TROUPE_SECRET unset). */
export async function tokenFor(
  dataDir: string,
  session: string,
  role: Role,
  ttlS = 3600,
): Promise<string> {
  const ring = await loadKeyring({ dataDir, envSecret: undefined });
  return await mintToken(ring, { session, role, ttlS, nowMs: Date.now() });
}

/** Runs `fn` against a collab server of TRANSPORT_SCHEMA on a fresh data directory with `limits`,
 *  and closes both after. */
export async function withCollabServer(
  limits: Partial<CollabLimits>,
  fn: (c: LaunchedCollab, dataDir: string, http: string) => Promise<void>,
): Promise<void> {
  const dir = tempDir("troupe-collab-");
  const c = await launchCollab({ schema: TRANSPORT_SCHEMA, dataDir: dir.path, limits });
  try {
    await fn(c, dir.path, `http://127.0.0.1:${c.server.port}`);
  } finally {
    await c.close();
    dir.remove();
  }
}

/** Blocks this process (its event loop: every server and client in it) for `ms`, as a long
 *  collection or a loaded machine does. */
export function stallProcess(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) { /* stalled */ }
}

/** Polls `cond` every 10 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * What `doc` holds, as bytes two documents share when they hold the same: its state vector (the
 * updates, per Yjs client) and its delete set (what an update past its own state vector carries).
 */
function holding(doc: Y.Doc): string {
  const sv = Y.encodeStateVector(doc);
  return `${sv.join(",")}|${Y.encodeStateAsUpdate(doc, sv).join(",")}`;
}

/**
 * Waits until every doc of `docs` holds the same updates and deletions, polling every 10 ms:
 * what a compare of replicas needs, since a server's own writes (the bridge's answers, say) may
 * still be on their way when the edits a test waited for have arrived. Throws naming `what`.
 */
export async function waitConverged(docs: Y.Doc[], timeoutMs: number, what: string): Promise<void> {
  await waitFor(() => new Set(docs.map(holding)).size === 1, timeoutMs, what);
}

/**
 * Waits until the feed stream holds `messages` frames (published on `bus`, stored a moment
 * later), polling every 10 ms; throws saying how many it held after 5 s.
 */
export async function feedStored(bus: NatsBus, messages: number): Promise<void> {
  const jsm = await jetstreamManager(bus.nc);
  for (let i = 0;; i++) {
    const held = (await jsm.streams.info(FEED_STREAM)).state.messages;
    if (held >= messages) return;
    if (i > 500) throw new Error(`The feed stream kept ${held} frames, not ${messages}, in 5 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Puts `spanS` seconds of `channel`'s feed (a sample a second, values 100 to 112) into the feed
 * stream, ending at the current whole second, and waits for it to be stored; returns that second
 * (µs), the history's newest sample.
 */
export async function feedHistory(bus: NatsBus, channel: string, spanS: number): Promise<number> {
  const S = 1_000_000;
  await ensureFeedStream(bus.nc);
  const now = Math.floor(Date.now() / 1000) * S, t0 = now - spanS * S;
  const t = new Float64Array(spanS).map((_, i) => t0 + i * S);
  const v = new Float64Array(spanS).map((_, i) => 100 + (i % 13));
  bus.publish(
    feedSubject("m", channel),
    encodeFrame({ channel, seq0: 0, t, v }, { id: `${channel}-0`, src: "test" }),
  );
  await feedStored(bus, 1);
  return now;
}

/** Opens a raw WebSocket; resolves with the upgrade's HTTP status when refused, or the socket. */
export function rawConnect(
  url: string,
): Promise<{ status: number; body: string } | { ws: WebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.binaryType = "nodebuffer";
    ws.on("open", () => resolve({ ws }));
    ws.on("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on("error", reject);
  });
}

/** Reads a metric's value (the sum over its label sets matching `labels`) from /metrics text. */
export function metric(text: string, name: string, labels = ""): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name + "{") && !line.startsWith(name + " ")) continue;
    if (labels && !line.includes(labels)) continue;
    sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

/** GETs a URL's text. */
export async function getText(url: string): Promise<string> {
  const res = await fetch(url);
  return await res.text();
}

/**
 * Waits until the metric `name` of the /metrics page at `url` reaches `atLeast` (polling every
 * 20 ms): how a test knows the server has decided what it counts. Throws naming the metric.
 */
export async function waitForMetric(
  url: string,
  name: string,
  atLeast: number,
  timeoutMs = 5000,
): Promise<number> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = metric(await getText(url), name);
    if (value >= atLeast) return value;
    if (Date.now() > end) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${name} ≥ ${atLeast}: ${value}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** What `openDashboard()` starts. */
export interface DashboardOptions {
  /** Names the temporary directory and the test's bus connection (`dash-<name>`). */
  name: string;
  /** The collab server's options beyond its data directory and NATS URL (`bridge` defaults to
   *  false: the suites that want threshold changes sent to actors say so). */
  collab?: Omit<LaunchCollabOptions, "dataDir" | "nats">;
  /** Started after the nats-server and before the collab server (a host the server should find
   *  there); closed after the collab server. */
  before?(natsUrl: string, dir: string): Promise<{ close(): Promise<void> }>;
  /** The browser's viewport (1600 x 1000 by default). */
  width?: number;
  height?: number;
}

/** How `Dashboard.open()` opens a page. */
export interface DashboardPageOptions {
  /** The session (`ops`). */
  session?: string;
  /** The token's role (`viewer`). */
  role?: Role;
  /** Start from the gateway's buffer (false: `&backfill=0`, live only, the default here). */
  backfill?: boolean;
  /** Run on the new page before it loads (init scripts, listeners: drawn_text.ts). */
  prepare?(page: Page): Promise<void> | void;
  /** The selector waited for once the page loads (`body[data-stream-subscribed]`), and how long
   *  (20 s). */
  waitFor?: string;
  timeoutMs?: number;
}

/** A dashboard under test: what runs it, and pages of it. */
export interface Dashboard {
  natsUrl: string;
  /** The temporary directory; the collab server's data is in `collabDir`. */
  dir: string;
  collabDir: string;
  collab: LaunchedCollab;
  /** The test's own connection, to publish what the page should show. */
  bus: NatsBus;
  /** A new page of the dashboard, loaded and subscribed (see `DashboardPageOptions`). */
  open(options?: DashboardPageOptions): Promise<Page>;
  /** Stops everything it started, the last started first. */
  close(): Promise<void>;
}

/**
 * Starts a nats-server on a free port, a collab server on it (its data in `<dir>/collab`), a bus
 * for the test and headless Chromium: the set-up every dashboard browser suite had written out.
 * What started is stopped if a later part fails to.
 */
export async function openDashboard(options: DashboardOptions): Promise<Dashboard> {
  const stops: Array<() => Promise<void> | void> = [];
  const close = async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  };
  try {
    const nats = await startTestNats();
    stops.push(() => nats.cleanup());
    const dir = tempDir(`troupe-dash-${options.name}-`);
    stops.push(() => dir.remove());
    const collabDir = join(dir.path, "collab");
    const before = await options.before?.(nats.url, dir.path);
    if (before) stops.push(() => before.close());
    const collab = await launchCollab({
      bridge: false,
      ...options.collab,
      dataDir: collabDir,
      nats: nats.url,
    });
    stops.push(() => collab.close());
    const bus = await NatsBus.connect(nats.url, { name: `dash-${options.name}` });
    stops.push(() => bus.close());
    const browser = await launchBrowser({
      width: options.width ?? 1600,
      height: options.height ?? 1000,
    });
    stops.push(() => browser.cleanup());
    const base = `http://127.0.0.1:${collab.server.port}/`;
    return {
      natsUrl: nats.url,
      dir: dir.path,
      collabDir,
      collab,
      bus,
      async open(o = {}) {
        const session = o.session ?? "ops";
        const token = await tokenFor(collabDir, session, o.role ?? "viewer");
        const page = await browser.newPage();
        await o.prepare?.(page);
        await page.goto(
          `${base}?session=${session}&token=${token}${o.backfill ? "" : "&backfill=0"}`,
        );
        await page.waitForSelector(o.waitFor ?? "body[data-stream-subscribed]", {
          timeout: 20_000,
        });
        return page;
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** A channel's past, kept in the feed stream (see `openDashboardOverHistory`). */
export interface FeedHistory {
  channel: string;
  /** How long it spans, a sample a second, in frames of a minute; it ends 5 s before now. */
  spanS: number;
  /** The value of the `k`-th sample. */
  value(k: number): number;
}

/**
 * `openDashboard()` over a feed stream that holds `options.history` before the collab server
 * starts, published and flushed by a connection of its own (`dash-<name>-feed`); with the time of
 * the history's first sample (µs).
 */
export async function openDashboardOverHistory(
  options: Omit<DashboardOptions, "before"> & { history: FeedHistory },
): Promise<Dashboard & { historyStartUs: number }> {
  const { channel, spanS, value } = options.history;
  let historyStartUs = 0;
  const dash = await openDashboard({
    ...options,
    async before(natsUrl) {
      const pub = await NatsBus.connect(natsUrl, { name: `dash-${options.name}-feed` });
      await ensureFeedStream(pub.nc);
      const t0 = (Math.floor(Date.now() / 1000) - spanS - 5) * 1_000_000;
      for (let f = 0; f < spanS / 60; f++) {
        const t = new Float64Array(60).map((_, i) => t0 + (f * 60 + i) * 1_000_000);
        const v = new Float64Array(60).map((_, i) => value(f * 60 + i));
        const id = `${channel.toLowerCase()}-${f}`;
        pub.publish(
          feedSubject("m", channel),
          encodeFrame({ channel, seq0: f * 60, t, v }, { id, src: "test" }),
        );
      }
      await pub.flush();
      historyStartUs = t0;
      return pub;
    },
  });
  return Object.assign(dash, { historyStartUs });
}
