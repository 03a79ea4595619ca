/**
 * The collaboration server's bounds (message size, rate, idle unload, liveness, compaction, the
 * buffers it keeps, the periods of its batching and of the nodes' anti-entropy), their defaults,
 * and the close codes of a connection that passed one of them or outlived its token.
 */
/** The server's bounds. */
export interface CollabLimits {
  /** A larger message closes its socket (1009): 1 MiB. */
  message_bytes_max: number;
  /** Sustained messages per second per connection: 200. */
  messages_per_s: number;
  /** Messages a connection may send in a burst above the rate: 400. */
  messages_burst: number;
  /** A session with no connection for this long is unloaded: 60 s. */
  idle_unload_ms: number;
  /** Every connection is pinged this often; one that left the last two pings unanswered is closed
   *  (one could be this server's stall, not the peer's): 30 s. */
  ping_ms: number;
  /** Compact a document after this many journal records: 500. */
  compact_every_updates: number;
  /** ... or after this long with records past the snapshot: 60 s. */
  compact_every_ms: number;
  /**
   * Bytes of updates a document keeps while their dependencies are missing: 0, none. Yjs retries
   * them on every later update, so a client sending gaps would make every update dearer; a
   * y-websocket client's next sync step 2 carries whatever was dropped, since it is computed
   * against the server's state vector.
   */
  pending_bytes_max: number;
  /**
   * Bytes a connection may have waiting to be sent (its socket's queue) when another message is
   * due: 8 MiB. Past it the client is not reading; the connection is closed with 4008 and the
   * reason, and its client resyncs on reconnecting (sync step 1 and 2), so it loses nothing.
   */
  send_buffered_bytes_max: number;
  /** Awareness changes are relayed in batches, one message per connection this often: 50 ms. */
  awareness_batch_ms: number;
  /** Awareness renewals (a client re-sending its unchanged state, every 15 s) likewise: 1000 ms
   *  (see _awareness_relay.ts). */
  awareness_renewal_batch_ms: number;
  /** How long a node waits for another node's copy of a session it loads: 300 ms. */
  catch_up_ms: number;
  /** How long after that a late copy is still merged when it comes, reaching the clients as an
   *  update (a node held up answers late; anti-entropy covers what comes later; 0 takes none):
   *  10 s. */
  catch_up_late_ms: number;
  /** Nodes compare each session's digest this often on average and repair what differs
   *  (anti_entropy.ts): 5000 ms; 0 turns it off. */
  anti_entropy_ms: number;
  /** With several nodes able to repair a stale one, the k-th in rank waits k times this for the
   *  others' repairs before it sends what they did not carry: 500 ms. */
  anti_entropy_holdoff_ms: number;
}

/** The defaults of CollabLimits. */
export const DEFAULT_COLLAB_LIMITS: CollabLimits = {
  message_bytes_max: 1 << 20,
  messages_per_s: 200,
  messages_burst: 400,
  idle_unload_ms: 60_000,
  ping_ms: 30_000,
  compact_every_updates: 500,
  compact_every_ms: 60_000,
  catch_up_ms: 300,
  catch_up_late_ms: 10_000,
  anti_entropy_ms: 5000,
  anti_entropy_holdoff_ms: 500,
  pending_bytes_max: 0,
  send_buffered_bytes_max: 8 << 20,
  awareness_batch_ms: 50,
  awareness_renewal_batch_ms: 1000,
};

/** The close code of a connection whose unsent bytes passed `send_buffered_bytes_max` (the stream
 *  gateway's slow-consumer code). */
export const COLLAB_CLOSE_SLOW = 4008;

/** The close code of a connection whose token expired while it was open (the stream gateway's). */
export const COLLAB_CLOSE_EXPIRED = 4401;

/**
 * The close code of a socket whose write the session schema refused (the reason names the field
 * and the value): nothing of it was stored. In 4400-4499, so the stock client does not reconnect
 * (it would send the same write again); our page rebuilds its document from the server's state.
 */
export const COLLAB_CLOSE_REFUSED = 4422;
