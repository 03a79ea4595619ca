/**
 * The collaboration server's Prometheus metrics: connections, sessions loaded, updates in and out,
 * bytes, refused tokens by reason, dropped viewer writes, sockets closed for bad messages, and the
 * persistence lag (from an update's arrival to its journal record being durable).
 */
import { Counter, Gauge, Registry } from "prom-client";
import { scrapedCounter } from "../actors/runtime/http/mod.ts";

export class CollabMetrics {
  readonly registry = new Registry();
  /** Counted on every send to every client, in plain numbers read when scraped: prom-client
   *  validates and hashes on every `inc`, which at 500 clients is 1,000 calls per update. */
  readonly tally = { updatesOut: 0, bytesOut: 0, bytesIn: 0, messagesIn: 0 };
  readonly connections: Gauge;
  readonly sessionsLoaded: Gauge;
  readonly messagesIn: Counter;
  readonly updatesIn: Counter;
  readonly updatesOut: Counter;
  readonly updatesMerged: Counter;
  readonly bytesIn: Counter;
  readonly bytesOut: Counter;
  readonly tokensRejected: Counter<"reason">;
  readonly viewerWritesDropped: Counter;
  readonly writesRefused: Counter;
  readonly awarenessRefused: Counter;
  readonly socketsClosed: Counter<"reason">;
  readonly persistLagSeconds: Gauge;
  readonly compactions: Counter;
  readonly pendingDropped: Counter;
  readonly peerMessagesIn: Counter;
  readonly antiEntropyRepairs: Counter;
  readonly antiEntropyRepairsCovered: Counter;
  readonly antiEntropyRepairsAsUpdate: Counter;

  constructor(labels: Record<string, string> = {}) {
    this.registry.setDefaultLabels(labels);
    const registers = [this.registry];
    const counter = (name: string, help: string) => new Counter({ name, help, registers });
    const tally = this.tally;
    const tallied = (name: string, help: string, key: keyof CollabMetrics["tally"]) =>
      scrapedCounter(this.registry, { name, help, read: () => tally[key] });
    this.connections = new Gauge({
      name: "troupe_collab_connections",
      help: "Open client connections",
      registers,
    });
    this.sessionsLoaded = new Gauge({
      name: "troupe_collab_sessions_loaded",
      help: "Session documents in memory",
      registers,
    });
    this.messagesIn = tallied(
      "troupe_collab_messages_in_total",
      "Client messages handled (taken or refused), past the size cap and the rate limit",
      "messagesIn",
    );
    this.updatesIn = counter(
      "troupe_collab_updates_in_total",
      "Document updates accepted from clients",
    );
    this.updatesOut = tallied(
      "troupe_collab_updates_out_total",
      "Document updates sent to clients",
      "updatesOut",
    );
    this.updatesMerged = counter(
      "troupe_collab_updates_merged_total",
      "Updates relayed to clients merged with others into one message (they became durable together), once per merge",
    );
    this.bytesIn = tallied(
      "troupe_collab_bytes_in_total",
      "Bytes received from clients",
      "bytesIn",
    );
    this.bytesOut = tallied("troupe_collab_bytes_out_total", "Bytes sent to clients", "bytesOut");
    this.tokensRejected = new Counter({
      name: "troupe_collab_tokens_rejected_total",
      help: "Upgrades refused for their token, by reason",
      labelNames: ["reason"],
      registers,
    });
    this.viewerWritesDropped = counter(
      "troupe_collab_viewer_writes_dropped_total",
      "Document updates from viewers, dropped",
    );
    this.writesRefused = counter(
      "troupe_collab_writes_refused_total",
      "Editors' document updates refused by the session schema (nothing stored, the socket closed)",
    );
    this.awarenessRefused = counter(
      "troupe_collab_awareness_refused_total",
      "Awareness entries a connection sent for another client's id, dropped",
    );
    this.socketsClosed = new Counter({
      name: "troupe_collab_sockets_closed_total",
      help:
        "Sockets the server closed, by reason (malformed, oversize, rate, slow: unsent bytes past the bound, liveness, expired: the token expired while open, refused: a write the session schema refused, error)",
      labelNames: ["reason"],
      registers,
    });
    this.persistLagSeconds = new Gauge({
      name: "troupe_collab_persistence_lag_seconds",
      help:
        "From an update's arrival to its journal record being durable (the oldest of the last batch written)",
      registers,
    });
    this.compactions = counter("troupe_collab_compactions_total", "Snapshots of session documents");
    this.pendingDropped = counter(
      "troupe_collab_pending_dropped_total",
      "Times a document dropped updates it could not integrate, past pending_bytes_max",
    );
    this.peerMessagesIn = counter(
      "troupe_collab_peer_messages_in_total",
      "Updates and awareness received from other nodes over NATS",
    );
    this.antiEntropyRepairs = counter(
      "troupe_collab_anti_entropy_repairs_total",
      "Repairs sent to another node whose digest showed it lacked them",
    );
    this.antiEntropyRepairsCovered = counter(
      "troupe_collab_anti_entropy_repairs_covered_total",
      "Repairs this node held off and then did not send: another node's repair covered them",
    );
    this.antiEntropyRepairsAsUpdate = counter(
      "troupe_collab_anti_entropy_repairs_as_update_total",
      "Repairs sent as updates, because a node heard from lately does not read repair messages",
    );
  }
}
