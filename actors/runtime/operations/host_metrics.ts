/**
 * A host's Prometheus metrics, in the text exposition format through prom-client: inputs,
 * outputs and events (findings) per actor kind, lag behind arrival, processing time, restarts,
 * dead letters, journal bytes, the NATS connection's state, whether the host is healthy, and
 * prom-client's process metrics (CPU, memory, event loop lag, open files, garbage collection).
 *
 * The figures updated on every input (inputs, outputs, events, processing time) are kept in plain
 * per-kind tallies and read into the exposition when it is scraped: prom-client validates and
 * hashes the labels on every call, which cost a host several percent of its time per input.
 */
import { collectDefaultMetrics, Counter, Gauge, type Metric, Registry } from "prom-client";
import { LabelTally } from "./_label_tally.ts";

/** Upper bounds of the processing-time histogram's buckets, in seconds. */
export const PROCESSING_BUCKETS = [1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 1e-2, 5e-2, 0.1, 0.5];

/** What the host counts per actor kind on every input. */
export class KindTally {
  inputs = 0;
  outputs = 0;
  /** Sum of processing times, seconds. */
  sum = 0;
  /** Inputs per processing-time bucket (not cumulative); the last counts those above all bounds. */
  readonly buckets = new Float64Array(PROCESSING_BUCKETS.length + 1);
  /** Events (findings) published, by event type. */
  readonly events = new Map<string, number>();

  /** Counts one input that took `seconds` and produced `outputs` messages. */
  input(seconds: number, outputs: number): void {
    this.inputs++;
    this.outputs += outputs;
    this.sum += seconds;
    let b = 0;
    while (b < PROCESSING_BUCKETS.length && seconds > PROCESSING_BUCKETS[b]!) b++;
    this.buckets[b]!++;
  }

  /** Counts one event of `type`. */
  event(type: string): void {
    this.events.set(type, (this.events.get(type) ?? 0) + 1);
  }
}

/** The counters the host increments where things happen. */
interface EventCounters {
  readonly duplicates: LabelTally<"kind">;
  readonly deadLetters: LabelTally<"reason">;
  readonly controlRefused: LabelTally<"kind">;
  readonly restarts: LabelTally<"kind">;
  readonly stopped: LabelTally<"kind">;
  readonly journalConflicts: LabelTally<"kind">;
  readonly snapshots: LabelTally<"kind">;
  readonly stepOverruns: LabelTally<"kind">;
}

/** The gauges the host sets. */
interface HostGauges {
  readonly lag: LabelTally<"kind">;
  readonly instances: LabelTally<"kind">;
  readonly mailbox: LabelTally;
  readonly journalBytes: LabelTally;
  readonly journalTruncatedBytes: LabelTally;
  readonly healthy: LabelTally;
  readonly recoverySeconds: LabelTally;
  readonly recoveryInputs: LabelTally;
  readonly recoveryDormant: LabelTally;
  readonly inputJournaledThrough: LabelTally;
}

/**
 * The metrics of one host. Its prom-client registry is made when first asked for (a scrape):
 * until then every figure is a plain tally (see LabelTally), so a host that is never scraped
 * makes no prom-client metric at all.
 */
export class HostMetrics implements EventCounters, HostGauges {
  readonly duplicates!: LabelTally<"kind">;
  readonly deadLetters!: LabelTally<"reason">;
  readonly controlRefused!: LabelTally<"kind">;
  readonly restarts!: LabelTally<"kind">;
  readonly stopped!: LabelTally<"kind">;
  readonly journalConflicts!: LabelTally<"kind">;
  readonly snapshots!: LabelTally<"kind">;
  readonly stepOverruns!: LabelTally<"kind">;
  readonly lag!: LabelTally<"kind">;
  readonly instances!: LabelTally<"kind">;
  readonly mailbox!: LabelTally;
  readonly journalBytes!: LabelTally;
  readonly journalTruncatedBytes!: LabelTally;
  readonly healthy!: LabelTally;
  readonly recoverySeconds!: LabelTally;
  readonly recoveryInputs!: LabelTally;
  readonly recoveryDormant!: LabelTally;
  readonly inputJournaledThrough!: LabelTally;

  readonly #labels: Record<string, string>;
  readonly #tallies = new Map<string, KindTally>();
  #channels: (() => ChannelFigures) | undefined;
  /** What registers the metrics, in order: the host's own, then each `watch*` as called. */
  readonly #registrations: Array<(registry: Registry) => void> = [];
  #registry: Registry | undefined;

  constructor(labels: Record<string, string> = {}) {
    this.#labels = labels;
    const counters = eventCounters(), gauges = hostGauges();
    Object.assign(this, counters, gauges);
    this.#registrations.push((registry) => {
      talliedCounters(registry, this.#tallies);
      for (const t of Object.values(counters)) t.register(registry);
      for (const t of Object.values(gauges)) t.register(registry);
      registry.registerMetric(processingHistogram(this.#tallies) as unknown as Metric);
    });
  }

  /** The host's prom-client registry, made (with every metric in it) on first use. */
  get registry(): Registry {
    if (!this.#registry) {
      const registry = this.#registry = new Registry();
      registry.setDefaultLabels(this.#labels);
      for (const register of this.#registrations) register(registry);
    }
    return this.#registry;
  }

  /** Registers metrics now if the registry is made, else when it is. */
  #register(register: (registry: Registry) => void): void {
    this.#registrations.push(register);
    if (this.#registry) register(this.#registry);
  }

  /**
   * Shows a NATS connection's state: `troupe_nats_connected` (1 or 0), the seconds since it last
   * changed, and the disconnections so far.
   */
  watchNats(state: () => { connected: boolean; sinceMs: number; disconnects: number }): void {
    this.#register((registry) => natsMetrics(registry, state));
  }

  /**
   * Shows the samples an input without positions lost (SequenceGaps): `troupe_input_gaps_total`
   * and `troupe_input_lost_samples_total`.
   */
  watchGaps(gaps: { readonly gaps: number; readonly samples: number }): void {
    this.#register((registry) => gapMetrics(registry, gaps));
  }

  /**
   * Shows the host's channels against its limit: `troupe_channels` admitted,
   * `troupe_channels_max`, `troupe_channels_free` (how many more fit), and
   * `troupe_channel_frames_refused_total`, frames of new channels refused (and dead-lettered) past
   * the limit.
   */
  watchChannels(channels: () => ChannelFigures): void {
    this.#channels = channels;
    this.#register((registry) => registerChannelMetrics(registry, channels));
  }

  /** The channels admitted, the limit and the frames refused, once `watchChannels` says them. */
  channelFigures(): ChannelFigures | undefined {
    return this.#channels?.();
  }

  /** The tally of `kind`, which the host updates on every input. */
  tally(kind: string): KindTally {
    let t = this.#tallies.get(kind);
    if (!t) this.#tallies.set(kind, t = new KindTally());
    return t;
  }

  /** The exposition text: this host's metrics and the process's. */
  async text(): Promise<string> {
    const own = await this.registry.metrics();
    return `${own.trimEnd()}\n\n${await processRegistry().metrics()}`;
  }

  /** The exposition format's content type. */
  get contentType(): string {
    return this.registry.contentType;
  }
}

/** The NATS connection's metrics (see `HostMetrics.watchNats`). */
function natsMetrics(
  registry: Registry,
  state: () => { connected: boolean; sinceMs: number; disconnects: number },
): void {
  const registers = [registry];
  new Gauge({
    name: "troupe_nats_connected",
    help: "1 while the host's NATS connection is up, 0 while it is disconnected",
    registers,
    collect() {
      this.set(state().connected ? 1 : 0);
    },
  });
  new Gauge({
    name: "troupe_nats_state_seconds",
    help: "Seconds since the NATS connection last connected or disconnected",
    registers,
    collect() {
      this.set(Math.max(0, (Date.now() - state().sinceMs) / 1000));
    },
  });
  new Counter({
    name: "troupe_nats_disconnects_total",
    help: "Times the host's NATS connection was lost",
    registers,
    collect() {
      this.reset();
      this.inc(state().disconnects);
    },
  });
}

/** The lost samples' metrics (see `HostMetrics.watchGaps`). */
function gapMetrics(
  registry: Registry,
  gaps: { readonly gaps: number; readonly samples: number },
): void {
  const registers = [registry];
  new Counter({
    name: "troupe_input_gaps_total",
    help: "Gaps in feed channels' sample sequences on an input without positions (core NATS): " +
      "frames lost on the way, never redelivered",
    registers,
    collect() {
      this.reset();
      this.inc(gaps.gaps);
    },
  });
  new Counter({
    name: "troupe_input_lost_samples_total",
    help: "Samples missing in those gaps",
    registers,
    collect() {
      this.reset();
      this.inc(gaps.samples);
    },
  });
}

/** A host's channels: admitted, its limit, and the frames of new channels refused past it. */
export interface ChannelFigures {
  readonly admitted: number;
  readonly max: number;
  readonly refused: number;
}

/**
 * Registers the channel limit's metrics in `registry` (see `HostMetrics.watchChannels`): a host's,
 * or a process's of several hosts (operations' channel_series.ts).
 */
export function registerChannelMetrics(registry: Registry, channels: () => ChannelFigures): void {
  const registers = [registry];
  new Gauge({
    name: "troupe_channels",
    help: "Feed channels admitted by this host (journaled: they count across restarts)",
    registers,
    collect() {
      this.set(channels().admitted);
    },
  });
  new Gauge({
    name: "troupe_channels_max",
    help: "The host's limit on channels (limits.channels_max): frames of a new channel past it " +
      "are refused",
    registers,
    collect() {
      this.set(channels().max);
    },
  });
  new Gauge({
    name: "troupe_channels_free",
    help: "Channels this host can still admit before its limit (limits.channels_max, by default " +
      "what limits.memory_budget_mb holds)",
    registers,
    collect() {
      const c = channels();
      this.set(Math.max(0, c.max - c.admitted));
    },
  });
  new Counter({
    name: "troupe_channel_frames_refused_total",
    help: "Frames refused and dead-lettered because their channel was new past channels_max",
    registers,
    collect() {
      this.reset();
      this.inc(channels().refused);
    },
  });
}

/** The counters of inputs, outputs and events, read from the per-kind tallies when scraped. */
function talliedCounters(registry: Registry, tallies: Map<string, KindTally>): void {
  const tallied = <L extends string>(
    name: string,
    help: string,
    labelNames: L[],
    read: (c: Counter<L>, kind: string, t: KindTally) => void,
  ) =>
    new Counter<L>({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        for (const [kind, t] of tallies) read(this, kind, t);
      },
    });
  tallied(
    "troupe_inputs_total",
    "Inputs applied to actor instances",
    ["kind"],
    (c, kind, t) => c.inc({ kind }, t.inputs),
  );
  tallied(
    "troupe_outputs_total",
    "Messages published by actor instances",
    ["kind"],
    (c, kind, t) => t.outputs > 0 && c.inc({ kind }, t.outputs),
  );
  tallied(
    "troupe_events_total",
    "Events (findings) published by actor instances, by kind and event type",
    ["kind", "type"],
    (c, kind, t) => t.events.forEach((n, type) => c.inc({ kind, type }, n)),
  );
}

/** The counters the host increments where things happen. */
function eventCounters(): EventCounters {
  const counter = <L extends string>(name: string, help: string, labelNames: L[]) =>
    new LabelTally<L>("counter", name, help, labelNames);
  return {
    duplicates: counter(
      "troupe_duplicate_inputs_total",
      "Redelivered inputs ignored because they were already applied",
      ["kind"],
    ),
    deadLetters: counter(
      "troupe_dead_letters_total",
      "Messages sent to troupe.dlq.<reason>",
      ["reason"],
    ),
    controlRefused: counter(
      "troupe_control_refused_total",
      'Control messages refused (a bad field or value, a stopped instance; kind "unknown": a ' +
        "kind this host does not run), counted once each",
      ["kind"],
    ),
    restarts: counter(
      "troupe_actor_restarts_total",
      "Actor instances restarted after a failure",
      ["kind"],
    ),
    stopped: counter(
      "troupe_actor_stopped_total",
      "Actor instances stopped after too many failures",
      ["kind"],
    ),
    journalConflicts: counter(
      "troupe_journal_conflicts_total",
      "Journal appends refused because another writer appended to the instance's stream (the " +
        "instance is rebuilt from the journal)",
      ["kind"],
    ),
    snapshots: counter("troupe_snapshots_total", "Snapshots saved", ["kind"]),
    stepOverruns: counter(
      "troupe_step_deadline_overruns_total",
      "Inputs skipped and sent to troupe.dlq.deadline because their step ran past its deadline",
      ["kind"],
    ),
  };
}

/** The gauges the host sets. */
function hostGauges(): HostGauges {
  const gauge = <L extends string = never>(name: string, help: string, labelNames: L[] = []) =>
    new LabelTally<L>("gauge", name, help, labelNames);
  return {
    lag: gauge(
      "troupe_lag_seconds",
      "Age of the oldest input waiting for a kind's instances, from its arrival at this host (0 " +
        "when none waits)",
      ["kind"],
    ),
    instances: gauge("troupe_actor_instances", "Live actor instances", ["kind"]),
    mailbox: gauge("troupe_mailbox_depth", "Inputs waiting in mailboxes"),
    journalBytes: gauge("troupe_journal_bytes", "Bytes in the journal"),
    healthy: gauge(
      "troupe_healthy",
      "1 while /healthz answers 200 (ready, connected, consuming), else 0",
    ),
    journalTruncatedBytes: gauge(
      "troupe_journal_truncated_bytes",
      "Bytes of torn journal tail truncated on open",
    ),
    recoverySeconds: gauge(
      "troupe_recovery_seconds",
      "Seconds the host's last start took to recover its actor instances (snapshots loaded, " +
        "journal past them applied), against the lease TTL of a leased host",
    ),
    recoveryInputs: gauge(
      "troupe_recovery_inputs",
      "Inputs the host's last start applied again from the journal, past the instances' snapshots",
    ),
    recoveryDormant: gauge(
      "troupe_recovery_dormant_instances",
      "Instances of the host's last start still waiting for the background restore from their " +
        "snapshots (an instance used before it is reached is restored then)",
    ),
    inputJournaledThrough: gauge(
      "troupe_input_journaled_through",
      "The feed's source position (its stream sequence) through which every input the host was " +
        "delivered is journaled or settled, as the last saved snapshot of its edge's decisions " +
        "says: a start resumes the input no lower (0: none said)",
    ),
  };
}

/**
 * The processing-time histogram as prom-client reads a metric: its `get()` gives the cumulative
 * buckets, sum and count of every kind's tally.
 */
function processingHistogram(tallies: Map<string, KindTally>) {
  const name = "troupe_processing_seconds";
  return {
    name,
    help: "Time to apply one input (kernel, machine, publish)",
    type: "histogram",
    aggregator: "sum",
    labelNames: ["kind"],
    collect() {},
    reset() {
      for (const t of tallies.values()) {
        t.sum = 0;
        t.buckets.fill(0);
      }
    },
    get() {
      const values: Array<
        { value: number; labels: Record<string, string | number>; metricName: string }
      > = [];
      for (const [kind, t] of tallies) {
        let acc = 0;
        PROCESSING_BUCKETS.forEach((le, b) => {
          acc += t.buckets[b]!;
          values.push({ value: acc, labels: { le, kind }, metricName: `${name}_bucket` });
        });
        acc += t.buckets[PROCESSING_BUCKETS.length]!;
        values.push({ value: acc, labels: { le: "+Inf", kind }, metricName: `${name}_bucket` });
        values.push({ value: t.sum, labels: { kind }, metricName: `${name}_sum` });
        values.push({ value: acc, labels: { kind }, metricName: `${name}_count` });
      }
      return Promise.resolve({
        name,
        help: this.help,
        type: this.type,
        aggregator: this.aggregator,
        values,
      });
    },
  };
}

let processMetrics: Registry | undefined;

/**
 * prom-client's default metrics of this process (CPU, memory, event loop lag, open files, garbage
 * collection), collected once per process however many hosts it runs, from the first scrape on.
 */
function processRegistry(): Registry {
  if (!processMetrics) {
    processMetrics = new Registry();
    collectDefaultMetrics({ register: processMetrics });
  }
  return processMetrics;
}
