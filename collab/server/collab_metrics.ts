/**
 * The collaboration server's Prometheus metrics: connections, sessions loaded, updates in and out,
 * bytes, refused tokens by reason, dropped viewer writes, sockets closed for bad messages, and the
 * persistence lag (from an update's arrival to its journal record being durable).
 */
import { Counter, Gauge, Registry } from "prom-client";
import { scrapedCounter } from "../../actors/runtime/operations/mod.ts";

export class CollabMetrics {
  readonly registry = new Registry();
  /** Counted on every send to every client, in plain numbers read when scraped: prom-client
   *  validates and hashes on every `inc`, which at 500 clients is 1,000 calls per update. */
  readonly tally = { updatesOut: 0, bytesOut: 0, bytesIn: 0, messagesIn: 0 };

  // The clients' traffic.
  readonly connections = gauge(
    this.registry,
    "troupe_collab_connections",
    "Open client connections",
  );
  readonly sessionsLoaded = gauge(
    this.registry,
    "troupe_collab_sessions_loaded",
    "Session documents in memory",
  );
  readonly messagesIn = this.#tallied(
    "troupe_collab_messages_in_total",
    "Client messages handled (taken or refused), past the size cap and the rate limit",
    "messagesIn",
  );
  readonly updatesIn = counter(
    this.registry,
    "troupe_collab_updates_in_total",
    "Document updates accepted from clients",
  );
  readonly updatesOut = this.#tallied(
    "troupe_collab_updates_out_total",
    "Document updates sent to clients",
    "updatesOut",
  );
  readonly updatesMerged = counter(
    this.registry,
    "troupe_collab_updates_merged_total",
    "Updates relayed to clients merged with others into one message (they became durable " +
      "together), once per merge",
  );
  readonly bytesIn = this.#tallied(
    "troupe_collab_bytes_in_total",
    "Bytes received from clients",
    "bytesIn",
  );
  readonly bytesOut = this.#tallied(
    "troupe_collab_bytes_out_total",
    "Bytes sent to clients",
    "bytesOut",
  );

  // What was refused or dropped.
  readonly tokensRejected = byReason(
    this.registry,
    "troupe_collab_tokens_rejected_total",
    "Upgrades refused for their token, by reason",
  );
  readonly viewerWritesDropped = counter(
    this.registry,
    "troupe_collab_viewer_writes_dropped_total",
    "Document updates from viewers, dropped",
  );
  readonly writesRefused = counter(
    this.registry,
    "troupe_collab_writes_refused_total",
    "Editors' document updates refused by the session schema (nothing stored, the socket closed)",
  );
  readonly awarenessRefused = counter(
    this.registry,
    "troupe_collab_awareness_refused_total",
    "Awareness entries a connection sent for another client's id, dropped",
  );
  readonly socketsClosed = byReason(
    this.registry,
    "troupe_collab_sockets_closed_total",
    "Sockets the server closed, by reason (malformed, oversize, rate, slow: unsent bytes past " +
      "the bound, liveness, expired: the token expired while open, refused: a write the session " +
      "schema refused, error)",
  );
  readonly pendingDropped = counter(
    this.registry,
    "troupe_collab_pending_dropped_total",
    "Times a document dropped updates it could not integrate, past pending_bytes_max",
  );

  // The documents' journal.
  readonly persistLagSeconds = gauge(
    this.registry,
    "troupe_collab_persistence_lag_seconds",
    "From an update's arrival to its journal record being durable (the oldest of the last batch " +
      "written)",
  );
  readonly compactions = counter(
    this.registry,
    "troupe_collab_compactions_total",
    "Snapshots of session documents",
  );

  // The other nodes.
  readonly peerMessagesIn = counter(
    this.registry,
    "troupe_collab_peer_messages_in_total",
    "Updates and awareness received from other nodes over NATS",
  );
  readonly antiEntropyRepairs = counter(
    this.registry,
    "troupe_collab_anti_entropy_repairs_total",
    "Repairs sent to another node whose digest showed it lacked them",
  );
  readonly antiEntropyRepairsCovered = counter(
    this.registry,
    "troupe_collab_anti_entropy_repairs_covered_total",
    "Repairs this node held off and then did not send: another node's repair covered them",
  );
  readonly antiEntropyRepairsAsUpdate = counter(
    this.registry,
    "troupe_collab_anti_entropy_repairs_as_update_total",
    "Repairs sent as updates, because a node heard from lately does not read repair messages",
  );

  /** `labels` go on every series (prom-client adds a registry's default labels when scraped). */
  constructor(labels: Record<string, string> = {}) {
    this.registry.setDefaultLabels(labels);
  }

  /** A counter read from `tally[key]` when scraped. */
  #tallied(name: string, help: string, key: keyof CollabMetrics["tally"]): Counter {
    const tally = this.tally;
    return scrapedCounter(this.registry, { name, help, read: () => tally[key] });
  }
}

function counter(registry: Registry, name: string, help: string): Counter {
  return new Counter({ name, help, registers: [registry] });
}

function byReason(registry: Registry, name: string, help: string): Counter<"reason"> {
  return new Counter({ name, help, labelNames: ["reason"], registers: [registry] });
}

function gauge(registry: Registry, name: string, help: string): Gauge {
  return new Gauge({ name, help, registers: [registry] });
}
