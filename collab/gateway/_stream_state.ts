/**
 * The stream gateway's state per socket, shared by its parts (the gateway and its catch-up pump):
 * each socket's subscriptions and where each is, the counters they add to, and which of a
 * socket's subscriptions a message is sent under.
 */
import type { WebSocket } from "ws";
import type { RingEntry } from "./stream_ring.ts";
import type { TokenClaims } from "../session/mod.ts";
import type { SlowPolicy } from "../../protocol/mod.ts";
import { filterMatches, type StreamFilter } from "../stream/mod.ts";

/** One subscription of a socket. */
export interface Sub {
  id: number;
  filter: StreamFilter;
  /** Identical filters share one match per message. */
  key: string;
  slow: SlowPolicy;
  /** Protocol version 2 or later: told `live` and `lag`. */
  notices: boolean;
  /** This subscription covers seqs above `from`. */
  from: number;
  live: boolean;
  /** Catching up: every seq up to `cursor` has been handled. */
  cursor: number;
  /** Seqs lost to the ring's eviction, not yet told. */
  gap: { from: number; to: number; missed: number } | undefined;
  /**
   * Ended by its client while it still owed messages (catching up): the latest seq then. It stays
   * in the socket's subscriptions, under a key no client uses, owning what it owes beyond its
   * cursor (up to here) so that the catch-up pump hands each to the subscription that owns it
   * next, then it is dropped.
   */
  retiredTo: number | undefined;
}

/** One socket: its subscriptions (in the order taken) and its bounds' state. */
export interface Client {
  ws: WebSocket;
  claims: TokenClaims;
  subs: Map<number, Sub>;
  closing: boolean;
  expiry: ReturnType<typeof setTimeout> | undefined;
  /** Whether it asked for batches (protocol/stream_batch.ts). */
  batches: boolean;
  /** What it is sent this turn, and its bytes (_stream_outbox.ts). */
  outbox: OutboxEntry[];
  outboxBytes: number;
  /** Messages it may still send now (a token bucket refilled at client_messages_per_s_max). */
  allowance: number;
  /** When the allowance was last refilled (ms). */
  allowanceAt: number;
}

/** A message waiting in a socket's outbox. */
export interface OutboxEntry {
  payload: Uint8Array;
  /** Its WebSocket frame, when built once for every socket. */
  wire: Uint8Array | undefined;
}

/** Plain counters read by `stats()` and `/metrics`. */
export interface Tally {
  received: number;
  relayed: number;
  bytesOut: number;
  droppedSlow: number;
  gapsSent: number;
  closedSlow: number;
  closedMalformed: number;
  closedRate: number;
  /** WebSocket messages sent holding a batch of messages. */
  batchesSent: number;
  refused: Record<string, number>;
}

/**
 * The first subscription of `client` that covers `entry` (`from < seq`) and whose filter matches.
 * A retired subscription covers only what it still owes (above its cursor, up to `retiredTo`).
 */
export function ownerOf(
  client: Client,
  entry: RingEntry,
  cache: Map<string, boolean> | undefined,
): Sub | undefined {
  for (const sub of client.subs.values()) {
    if (sub.from >= entry.seq) continue;
    if (
      sub.retiredTo !== undefined && (entry.seq > sub.retiredTo || entry.seq <= sub.cursor)
    ) continue;
    let match = cache?.get(sub.key);
    if (match === undefined) {
      match = filterMatches(sub.filter, entry.subject);
      cache?.set(sub.key, match);
    }
    if (match) return sub;
  }
  return undefined;
}
