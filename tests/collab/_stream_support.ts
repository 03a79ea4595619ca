/**
 * Test support for the stream gateway suites: a real nats-server, a collab server with its
 * gateway on it, a publisher on its own NATS connection, and StreamClients (over `ws`) that record
 * what they are handed and keep their sockets so a test can cut them.
 */
import { WebSocket } from "ws";
import { NatsBus } from "../../actors/runtime/mod.ts";
import {
  launchCollab,
  type LaunchedCollab,
  StreamClient,
  type StreamClientOptions,
  type StreamGatewayLimits,
  type StreamSocketConstructor,
  type StreamSubscription,
} from "../../collab/mod.ts";
import { startTestNats, tempDir } from "../_support/nats.ts";
import { tokenFor, waitFor } from "./_support.ts";
import type { StreamGap, StreamMsg } from "../../protocol/mod.ts";

/** A running gateway and what the test needs around it. */
export interface GatewayEnv {
  collab: LaunchedCollab;
  pub: NatsBus;
  /** `ws://127.0.0.1:PORT/stream` */
  url: string;
  port: number;
  dataDir: string;
  /** A viewer token of session `main`. */
  token: string;
  /** Publishes `n` messages on `subject` (payload: the index as 4 bytes, then `pad` bytes). */
  publish(subject: string, n: number, pad?: number): Promise<void>;
  /** How many messages `publish` has sent in all. */
  published(): number;
  /** Waits until the gateway has received `n` messages in all. */
  received(n: number): Promise<void>;
}

/** Runs `fn` against a fresh nats-server and gateway, and tears both down. */
export async function withGateway(
  fn: (env: GatewayEnv) => Promise<void>,
  streamLimits: Partial<StreamGatewayLimits> = {},
): Promise<void> {
  const nats = await startTestNats();
  const dir = tempDir("troupe-stream-");
  const collab = await launchCollab({ dataDir: dir.path, nats: nats.url, streamLimits });
  const pub = await NatsBus.connect(nats.url, { name: "test-publisher" });
  try {
    await collab.bus!.flush(); // the gateway's subscriptions are at the server
    const port = collab.server.port;
    let counter = 0;
    await fn({
      collab,
      pub,
      url: `ws://127.0.0.1:${port}/stream`,
      port,
      dataDir: dir.path,
      token: await tokenFor(dir.path, "main", "viewer"),
      async publish(subject, n, pad = 0) {
        for (let i = 0; i < n; i++) {
          const data = new Uint8Array(4 + pad);
          new DataView(data.buffer).setUint32(0, counter++);
          pub.publish(subject, data);
          if (i % 200 === 199) await pub.flush();
        }
        await pub.flush();
      },
      published: () => counter,
      received: (n) =>
        waitFor(() => collab.stream!.stats().received >= n, 10_000, `the gateway to receive ${n}`),
    });
  } finally {
    await pub.close();
    await collab.close();
    await nats.cleanup();
    dir.remove();
  }
}

/** A StreamClient recording what it is handed. */
export interface Recorder {
  client: StreamClient;
  msgs: StreamMsg[];
  gaps: StreamGap[];
  refused: { id: number; reason: string }[];
  subscribed: Map<number, { seq: number; oldest: number }>;
  closes: { code: number; reason: string }[];
  /** Every socket the client opened, newest last. */
  sockets: WebSocket[];
  /** Waits until `sub` is taken by the server. */
  ready(id: number): Promise<void>;
}

/** Connects a StreamClient with `subs` and records everything. */
export function record(
  env: Pick<GatewayEnv, "url" | "token">,
  subs: StreamSubscription[],
  options: Partial<StreamClientOptions> = {},
): Recorder {
  const sockets: WebSocket[] = [];
  class Tracked extends WebSocket {
    constructor(url: string) {
      super(url);
      sockets.push(this);
    }
  }
  const r: Omit<Recorder, "client"> = {
    msgs: [],
    gaps: [],
    refused: [],
    subscribed: new Map(),
    closes: [],
    sockets,
    ready: (id) => waitFor(() => r.subscribed.has(id), 10_000, `subscription ${id} to be taken`),
  };
  const client = new StreamClient({
    url: env.url,
    token: env.token,
    WebSocket: Tracked as unknown as StreamSocketConstructor,
    onMessage: (m) => r.msgs.push(m),
    onGap: (g) => r.gaps.push(g),
    onRefused: (id, reason) => r.refused.push({ id, reason }),
    onSubscribed: (id, seq, oldest) => r.subscribed.set(id, { seq, oldest }),
    onStatus: (status, detail) => {
      if (status === "closed" && detail) r.closes.push(detail);
    },
    backoff_ms_min: 50,
    ...options,
  });
  for (const s of subs) client.subscribe(s);
  return Object.assign(r, { client });
}

/** The index a test payload carries. */
export function indexOf(m: StreamMsg): number {
  return new DataView(m.data.buffer, m.data.byteOffset, m.data.byteLength).getUint32(0);
}
