/**
 * The stream gateway's Prometheus metrics (`troupe_stream_*`), served on the collab server's
 * `/metrics`: clients, subscriptions, messages received from NATS and relayed, dropped for
 * slowness, gap notices, batches sent, slow, malformed and rate-limited closes, refused upgrades,
 * and the ring's size. Each is read from the gateway's own plain counters when scraped, so the hot
 * path counts with `++`.
 */
import type { Registry } from "prom-client";
import {
  scrapedCounter,
  scrapedGauge,
  scrapedLabelled,
} from "../../actors/runtime/operations/mod.ts";

/** What the gateway holds and has done. */
export interface StreamStats {
  clients: number;
  subscriptions: number;
  /** Clients with a subscription catching up from the ring. */
  lagging_clients: number;
  /** The latest seq. */
  seq: number;
  /** The oldest seq still buffered (seq + 1 when empty). */
  oldest: number;
  buffer_messages: number;
  buffer_bytes: number;
  /** The most bytes queued on any one socket right now. */
  client_buffered_bytes_max: number;
  received: number;
  relayed: number;
  bytes_out: number;
  /** Seqs a lagging subscription lost to the ring's eviction (told in gap notices). */
  dropped_slow: number;
  gaps_sent: number;
  closed_slow: number;
  closed_malformed: number;
  /** Sockets closed for sending too many messages a second (4029). */
  closed_rate: number;
  /** WebSocket messages sent holding a batch of messages (to sockets that asked for them). */
  batches_sent: number;
  /** Refused upgrades by reason (the token's failure, or `full`). */
  refused: Record<string, number>;
}

type NumericStat = {
  [K in keyof StreamStats]: StreamStats[K] extends number ? K : never;
}[keyof StreamStats];

const GAUGES: Array<[NumericStat, string, string]> = [
  ["clients", "troupe_stream_clients", "Open /stream sockets"],
  ["subscriptions", "troupe_stream_subscriptions", "Subscriptions over all sockets"],
  ["lagging_clients", "troupe_stream_lagging_clients", "Sockets with a subscription catching up"],
  ["seq", "troupe_stream_seq", "The latest seq the gateway gave"],
  ["buffer_messages", "troupe_stream_buffer_messages", "Messages held for resume and backfill"],
  ["buffer_bytes", "troupe_stream_buffer_bytes", "Bytes held for resume and backfill"],
  [
    "client_buffered_bytes_max",
    "troupe_stream_client_buffered_bytes_max",
    "Most bytes queued on one socket",
  ],
];

const COUNTERS: Array<[NumericStat, string, string]> = [
  ["received", "troupe_stream_received_total", "Messages received from NATS"],
  ["relayed", "troupe_stream_relayed_total", "Messages sent to clients"],
  ["bytes_out", "troupe_stream_bytes_out_total", "Bytes of messages sent to clients"],
  ["dropped_slow", "troupe_stream_dropped_slow_total", "Messages slow clients missed (in gaps)"],
  ["gaps_sent", "troupe_stream_gaps_sent_total", "Gap notices sent"],
  ["closed_slow", "troupe_stream_closed_slow_total", "Sockets closed as slow consumers (4008)"],
  ["closed_malformed", "troupe_stream_closed_malformed_total", "Sockets closed for a bad message"],
  ["closed_rate", "troupe_stream_closed_rate_total", "Sockets closed for too many messages (4029)"],
  ["batches_sent", "troupe_stream_batches_sent_total", "WebSocket messages holding a batch"],
];

/** Registers the gateway's metrics on `registry`, each read from `stats()` when scraped. */
export function registerStreamMetrics(registry: Registry, stats: () => StreamStats): void {
  for (const [key, name, help] of GAUGES) {
    scrapedGauge(registry, {
      name,
      help,
      read: () => stats()[key],
    });
  }
  for (const [key, name, help] of COUNTERS) {
    scrapedCounter(registry, { name, help, read: () => stats()[key] });
  }
  scrapedLabelled(registry, "counter", {
    name: "troupe_stream_refused_total",
    help: "/stream upgrades refused, by reason",
    label: "reason",
    read: () => Object.entries(stats().refused),
  });
}
