/**
 * A host's Prometheus metrics, in the text exposition format through prom-client: inputs and
 * outputs per actor kind, lag, processing time, restarts, dead letters, journal bytes.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** The metrics of one host. */
export class HostMetrics {
  readonly registry = new Registry();
  readonly inputs: Counter<"kind">;
  readonly outputs: Counter<"kind">;
  readonly duplicates: Counter<"kind">;
  readonly deadLetters: Counter<"reason">;
  readonly restarts: Counter<"kind">;
  readonly stopped: Counter<"kind">;
  readonly snapshots: Counter<"kind">;
  readonly processing: Histogram<"kind">;
  readonly lag: Gauge<"kind">;
  readonly instances: Gauge<"kind">;
  readonly mailbox: Gauge;
  readonly journalBytes: Gauge;
  readonly journalTruncatedBytes: Gauge;

  constructor(labels: Record<string, string> = {}) {
    this.registry.setDefaultLabels(labels);
    const registers = [this.registry];
    this.inputs = new Counter({
      name: "troupe_inputs_total",
      help: "Inputs applied to actor instances",
      labelNames: ["kind"],
      registers,
    });
    this.outputs = new Counter({
      name: "troupe_outputs_total",
      help: "Messages published by actor instances",
      labelNames: ["kind"],
      registers,
    });
    this.duplicates = new Counter({
      name: "troupe_duplicate_inputs_total",
      help: "Redelivered inputs ignored because they were already applied",
      labelNames: ["kind"],
      registers,
    });
    this.deadLetters = new Counter({
      name: "troupe_dead_letters_total",
      help: "Messages sent to troupe.dlq.<reason>",
      labelNames: ["reason"],
      registers,
    });
    this.restarts = new Counter({
      name: "troupe_actor_restarts_total",
      help: "Actor instances restarted after a failure",
      labelNames: ["kind"],
      registers,
    });
    this.stopped = new Counter({
      name: "troupe_actor_stopped_total",
      help: "Actor instances stopped after too many failures",
      labelNames: ["kind"],
      registers,
    });
    this.snapshots = new Counter({
      name: "troupe_snapshots_total",
      help: "Snapshots saved",
      labelNames: ["kind"],
      registers,
    });
    this.processing = new Histogram({
      name: "troupe_processing_seconds",
      help: "Time to apply one input (kernel, machine, publish)",
      labelNames: ["kind"],
      buckets: [1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 1e-2, 5e-2, 0.1, 0.5],
      registers,
    });
    this.lag = new Gauge({
      name: "troupe_lag_seconds",
      help: "Wall time minus the event time of the last input applied",
      labelNames: ["kind"],
      registers,
    });
    this.instances = new Gauge({
      name: "troupe_actor_instances",
      help: "Live actor instances",
      labelNames: ["kind"],
      registers,
    });
    this.mailbox = new Gauge({
      name: "troupe_mailbox_depth",
      help: "Inputs waiting in mailboxes",
      registers,
    });
    this.journalBytes = new Gauge({
      name: "troupe_journal_bytes",
      help: "Bytes in the journal",
      registers,
    });
    this.journalTruncatedBytes = new Gauge({
      name: "troupe_journal_truncated_bytes",
      help: "Bytes of torn journal tail truncated on open",
      registers,
    });
  }

  /** The exposition text. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** The exposition format's content type. */
  get contentType(): string {
    return this.registry.contentType;
  }
}
