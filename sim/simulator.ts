/**
 * The deterministic simulator: a whole cluster in one process on virtual time. Several Hosts
 * (the real ones, partitions split among them), each with its own disk (a journal and a snapshot
 * store that survive its crashes), the simulated bus and a durable feed log fed by a seeded
 * feed, all driven by one discrete-event Scheduler. One seed decides everything: the feed, every
 * message's latency, drop, duplicate and reordering, network partitions, host crashes and restarts
 * (a crash drops the Host without stopping it; a restart builds a new Host on the same disk), fsync
 * timing and the journal tails a crash loses. The invariants (see invariants.ts) are checked as the
 * run goes (every journal append, every published output, every recovery) and once it has drained.
 * A run returns its trace, one line per event that matters, and the trace's hash: the same seed
 * gives the same trace, byte for byte, on one runtime. A trace line is the virtual time in seconds
 * since the start, then what happened: network faults (`net drop|dup|hold|partition|heal`), feed
 * consumer fetches and gap requests, host starts, crashes, stops, recoveries (with each instance's
 * journal position) and host log lines, every output published (by id), actor failures, a digest
 * of every host's progress each virtual second, violations, and a hash of the final states.
 */
import { createHash } from "node:crypto";
import { ACTOR_KINDS } from "../actors/mod.ts";
import type { AnyActorDefinition } from "../protocol/mod.ts";
import { parseStream } from "../actors/runtime/actor_instance.ts";
import { type DecodedFrame, type FrameDecoder, Host } from "../actors/runtime/mod.ts";
import { decodeInputRecord } from "../actors/runtime/input_record.ts";
import type { JournalRecord } from "../actors/runtime/journal.ts";
import { partitionOf } from "../actors/runtime/partition.ts";
import { decodeEnvelope, decodeFrame, type FrameLimits } from "../protocol/mod.ts";
import { FRAME_CODE, inputSourcePosition } from "./_input_head.ts";
import { SimDisk } from "./_sim_disk.ts";
import { flakyActor } from "./_sim_flaky.ts";
import { simFeedInput, SimFeedLog } from "./_sim_feed_log.ts";
import {
  type CheckOp,
  feedPlan,
  type FeedSource,
  feedSource,
  type ReferenceOutcome,
} from "./_sim_feed_source.ts";
import {
  bytesEqual,
  checkJournalInputs,
  diffSnapshots,
  InputIndex,
  type InvariantName,
  OutputChecker,
  type RecoveryInstance,
  type Violation,
} from "./invariants.ts";
import { Prng } from "./prng.ts";
import { Scheduler, type TimerGroup } from "./scheduler.ts";
import { type NetworkFaults, QUIET_NETWORK, SimBus, type SimConnection } from "./sim_bus.ts";

/**
 * The fault kinds a run can inject: `network` (delays, drops, duplicates, reorderings,
 * partitions), `crash` (hosts dropped without stopping, restarted on the same disk, power loss of
 * every host, clean stop-and-restart), `disk` (crashes that also lose the journal's unsynced tail),
 * `actor` (actor kernels that throw now and then, once per input: a bug restarts an actor, not the
 * host). `all` is every one of them; `none` is a quiet run. A run takes one kind or a comma list
 * (`network,actor`).
 */
export const FAULT_KINDS = ["none", "network", "crash", "disk", "actor", "all"] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Which faults a run injects, resolved. */
export interface FaultSet {
  network: boolean;
  crash: boolean;
  disk: boolean;
  actor: boolean;
}

/**
 * Parses a fault kind or a comma list of them into a FaultSet and its canonical spelling. Throws a
 * RangeError naming the unknown kind.
 */
export function parseFaults(spec: string): { set: FaultSet; name: string } {
  const set: FaultSet = { network: false, crash: false, disk: false, actor: false };
  const parts = spec.split(",").map((p) => p.trim());
  for (const part of parts) {
    if (!(FAULT_KINDS as readonly string[]).includes(part)) {
      throw new RangeError(
        `Unknown fault kind "${part}" in "${spec}"; kinds are ${
          FAULT_KINDS.join(", ")
        } (or a comma list)`,
      );
    }
    if (part === "none" && parts.length > 1) {
      throw new RangeError(`Fault kind "none" cannot be combined with others, got "${spec}"`);
    }
    if (part === "all") {
      set.network =
        set.crash =
        set.disk =
        set.actor =
          true;
    }
    if (part === "network") set.network = true;
    if (part === "crash") set.crash = true;
    if (part === "disk") set.crash = set.disk = true;
    if (part === "actor") set.actor = true;
  }
  if (set.network && set.crash && set.disk && set.actor) return { set, name: "all" };
  const names: string[] = [];
  if (set.network) names.push("network");
  if (set.disk) names.push("disk");
  else if (set.crash) names.push("crash");
  if (set.actor) names.push("actor");
  return { set, name: names.length ? names.join(",") : "none" };
}

/** Deliberate breakage, for tests that the checker catches it. */
export type Sabotage = "apply_twice" | "corrupt_journal" | "lose_input" | "corrupt_output";

/** Options of a simulation run. */
export interface SimOptions {
  seed: number;
  /** A fault kind or a comma list of them (see FAULT_KINDS). Default `all`. */
  faults?: string;
  /** Virtual seconds of feed. Default 10. */
  durationS?: number;
  /** Default 3. */
  hosts?: number;
  /** Feed channels. Default 8. */
  channels?: number;
  /** Samples per second over all channels. Default 2000. */
  rate?: number;
  /** Samples per frame. Default 100. */
  batch?: number;
  /** Partitions the keys hash to. Default 12. */
  partitions?: number;
  /** Actor kinds the hosts run. Default: every kind troupe ships. */
  actors?: readonly AnyActorDefinition[];
  /** Per-kind configuration. Default: stats publishes every 500 samples. */
  config?: Record<string, unknown>;
  /** Keep the trace's lines (the hash is always computed). Default true. */
  keepTrace?: boolean;
  /** Virtual seconds the cluster has to catch up once faults stop. Default 120. */
  drainMaxS?: number;
  /**
   * Generate the feed and fold the fault-free reference on a worker thread, in parallel with the
   * run (the trace is the same either way). Default true; `TROUPE_SIM_THREADS=0` turns it off.
   */
  threads?: boolean;
  sabotage?: Sabotage;
}

/** What a run found. */
export interface SimResult {
  seed: number;
  /** The faults, canonically spelled. */
  faults: string;
  ok: boolean;
  violations: Violation[];
  /** The trace's lines (empty with `keepTrace: false`). */
  trace: string[];
  /** SHA-256 of the trace, hex. */
  traceHash: string;
  /** The command that reproduces this run. */
  command: string;
  /** Virtual seconds simulated, drain included. */
  virtualS: number;
  realMs: number;
  /**
   * Where the real time went: the run (feed frames and output checks included) and the drain and
   * final checks; and, within them, the time spent getting feed frames (generating them, or
   * waiting for the worker that does), the fault-free reference (folding it, or waiting) and the
   * recovery checks' replays (running them, or waiting for the worker's verdicts).
   */
  phasesMs: { feed: number; reference: number; checks: number; run: number; drain: number };
  /** Whether a worker thread generated the feed, folded the reference and ran the replays. */
  threaded: boolean;
  stats: SimStats;
}

/** Counters of a run. */
export interface SimStats {
  frames: number;
  samples: number;
  instances: number;
  events: number;
  crashes: number;
  restarts: number;
  partitions: number;
  journalRecordsLost: number;
  actorFailures: number;
  outputsPublished: number;
  outputsExpected: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  reordered: number;
}

/** The command line that reproduces a run of `options`. */
export function reproduceCommand(options: SimOptions): string {
  const o = resolve(options);
  const parts = [`troupe sim --seed ${o.seed} --faults ${o.faults} --duration ${o.durationS}`];
  if (o.hosts !== 3) parts.push(`--hosts ${o.hosts}`);
  if (o.channels !== 8) parts.push(`--channels ${o.channels}`);
  if (o.rate !== 2000) parts.push(`--rate ${o.rate}`);
  const all = Object.keys(ACTOR_KINDS).join(",");
  const kinds = o.actors.map((a) => a.kind).join(",");
  if (options.actors !== undefined && kinds !== all) parts.push(`--actors ${kinds}`);
  return parts.join(" ");
}

type Resolved = Required<Omit<SimOptions, "sabotage">> & { sabotage: Sabotage | undefined };

function resolve(options: SimOptions): Resolved {
  const actors = options.actors ?? Object.values(ACTOR_KINDS);
  const config: Record<string, unknown> = options.config ??
    (actors.some((a) => a.kind === "stats") ? { stats: { every_samples: 500 } } : {});
  const o: Resolved = {
    seed: options.seed,
    faults: options.faults ?? "all",
    durationS: options.durationS ?? 10,
    hosts: options.hosts ?? 3,
    channels: options.channels ?? 8,
    rate: options.rate ?? 2000,
    batch: options.batch ?? 100,
    partitions: options.partitions ?? 12,
    actors,
    config,
    keepTrace: options.keepTrace ?? true,
    drainMaxS: options.drainMaxS ?? 120,
    threads: options.threads ?? true,
    sabotage: options.sabotage,
  };
  const int = (name: string, x: number, min: number, max: number) => {
    if (!Number.isInteger(x) || x < min || x > max) {
      throw new RangeError(
        `Simulation option "${name}" must be an integer from ${min} to ${max}, got ${x}`,
      );
    }
  };
  int("seed", o.seed, 0, Number.MAX_SAFE_INTEGER);
  int("hosts", o.hosts, 1, 64);
  int("channels", o.channels, 1, 10_000);
  int("batch", o.batch, 1, 65_536);
  int("partitions", o.partitions, 1, 4096);
  o.faults = parseFaults(o.faults).name;
  if (!(o.durationS > 0 && Number.isFinite(o.durationS))) {
    throw new RangeError(`Simulation option "durationS" must be > 0, got ${o.durationS}`);
  }
  if (!(o.rate > 0 && Number.isFinite(o.rate))) {
    throw new RangeError(`Simulation option "rate" must be > 0 samples/s, got ${o.rate}`);
  }
  if (o.actors.length === 0) throw new RangeError(`Simulation needs at least one actor kind`);
  return o;
}

/** The virtual time a run starts at: the feeds' default start, 2024-01-01T00:00:00Z. */
const START_US = Date.UTC(2024, 0, 1) * 1000;

/** An output published before the reference was known, to check once it is. */
interface PendingOutput {
  from: string;
  id: string | undefined;
  data: Uint8Array;
  /** Virtual µs since the start. */
  atUs: number;
  /** The trace line its violation, if any, goes before. */
  line: number;
}

interface SimHost {
  id: string;
  index: number;
  owned: number[];
  disk: SimDisk;
  /** How far this host's wall clock is off (it is used for timing and metrics, never for state). */
  clockSkewUs: number;
  incarnation: number;
  up: boolean;
  host: Host | undefined;
  conn: SimConnection | undefined;
  timers: TimerGroup | undefined;
  kill: (() => void) | undefined;
  /** A restart is scheduled. */
  restarting: boolean;
  /** A clean stop is under way. */
  stopping: boolean;
}

interface Params {
  snapshotEveryInputs: number;
  snapshotEveryMs: number;
  network: NetworkFaults;
  crashMeanS: number;
  downMaxS: number;
  partitionMeanS: number;
  partitionMaxS: number;
  loseSnapshotsP: number;
  actorFailP: number;
}

/** Runs one simulation. Never throws for what it finds: violations are in the result. */
export async function simulate(options: SimOptions): Promise<SimResult> {
  const o = resolve(options);
  const t0 = performance.now();
  const run = new Run(o);
  await run.prepare();
  await run.execute();
  const text = run.lines.join("\n");
  const traceHash = createHash("sha256").update(text).digest("hex");
  return {
    seed: o.seed,
    faults: o.faults,
    ok: run.violations.length === 0,
    violations: run.violations,
    trace: o.keepTrace ? run.lines : [],
    traceHash,
    command: reproduceCommand(options),
    virtualS: (run.scheduler.nowUs - START_US) / 1e6,
    realMs: performance.now() - t0,
    phasesMs: run.phasesMs,
    threaded: run.threaded,
    stats: run.stats,
  };
}

/** One run's state. */
class Run {
  readonly o: Resolved;
  readonly scheduler = new Scheduler(START_US);
  readonly lines: string[] = [];
  readonly violations: Violation[] = [];
  /** Real time spent generating the feed, folding the reference, running, draining and checking. */
  readonly phasesMs = { feed: 0, reference: 0, checks: 0, run: 0, drain: 0 };
  readonly stats: SimStats = {
    frames: 0,
    samples: 0,
    instances: 0,
    events: 0,
    crashes: 0,
    restarts: 0,
    partitions: 0,
    journalRecordsLost: 0,
    actorFailures: 0,
    outputsPublished: 0,
    outputsExpected: 0,
    delivered: 0,
    dropped: 0,
    duplicated: 0,
    reordered: 0,
  };
  readonly #kinds = new Map<string, AnyActorDefinition>();
  readonly #configs = new Map<string, unknown>();
  readonly #params: Params;
  readonly #faultRng: Prng;
  readonly #netRng: Prng;
  readonly #clockRng: Prng;
  readonly #feedSeed: number;
  readonly #network: boolean;
  readonly #crashes: boolean;
  readonly #disk: boolean;
  readonly #actorFaults: boolean;
  /** What the hosts run: the kinds, made flaky under `actor` faults. */
  readonly #hostActors: readonly AnyActorDefinition[];
  #bus!: SimBus;
  #log!: SimFeedLog;
  #hosts: SimHost[] = [];
  #feed!: FeedSource;
  /** Which instances each logged frame goes to (built as frames are logged). */
  #index!: InputIndex;
  /** The reference, once the feed source has it. */
  #reference: ReferenceOutcome | undefined;
  #outputs: OutputChecker | undefined;
  /** Published outputs waiting for the reference, with the trace line they are checked at. */
  #pendingOutputs: PendingOutput[] = [];
  /** Every violation, with the index of the trace line it is reported at (before merging). */
  readonly #found: { v: Violation; line: number; late: boolean; text: string }[] = [];
  #draining = false;
  /**
   * The recovery checks' work not yet handed to the feed source (which runs it, or has its worker
   * run it), and per host and stream, how many records of the disk's view it was given.
   */
  #checkOps: CheckOp[] = [];
  readonly #checkSent = new Map<string, Map<string, number>>();
  /** Per recovery check handed over (by id), the trace line and time its violations belong at. */
  readonly #checkAt: { line: number; atUs: number }[] = [];
  #endUs = 0;
  /** Outputs h1 published (the corrupt_output sabotage corrupts some). */
  #h1Outputs = 0;
  /** Per instance stream, its kind, key and owner (the drain asks after every event). */
  readonly #streamAt = new Map<string, { kind: string; key: string; owner: SimHost }>();
  /** The number of trace lines written by the setup's start. */
  #setupLines = 0;
  /** The virtual time of the last trace line, and that time as the trace writes it. */
  #traceUs = -1;
  #traceTime = "";
  /** Logged frames decoded by the hosts' decoders, by sequence less one (see #frameDecoders). */
  readonly #decoded: DecodedFrame[] = [];

  constructor(o: Resolved) {
    this.o = o;
    const root = new Prng(o.seed);
    const params = root.fork("params");
    this.#faultRng = root.fork("faults");
    this.#netRng = root.fork("network");
    this.#feedSeed = root.fork("feed").nextUint32();
    this.#clockRng = root.fork("clocks");
    const faults = parseFaults(o.faults).set;
    this.#network = faults.network;
    this.#crashes = faults.crash;
    this.#disk = faults.disk;
    this.#actorFaults = faults.actor;
    const latencyMin = 20 + params.int(200);
    this.#params = {
      snapshotEveryInputs: 4 + params.int(200),
      snapshotEveryMs: 200 + params.int(5000),
      network: this.#network
        ? {
          dropP: params.uniform(0, 0.05),
          dupP: params.uniform(0, 0.05),
          reorderP: params.uniform(0, 0.05),
          reorderDelayUs: 100 + params.int(20_000),
          latencyUsMin: latencyMin,
          latencyUsMax: latencyMin + params.int(5000),
        }
        : QUIET_NETWORK,
      crashMeanS: 1 + params.uniform(0, 6),
      downMaxS: params.uniform(0, 3),
      partitionMeanS: 1 + params.uniform(0, 6),
      partitionMaxS: params.uniform(0.05, 3),
      loseSnapshotsP: params.uniform(0, 0.2),
      actorFailP: params.uniform(0, 0.01),
    };
    const failed = new Set<string>();
    this.#hostActors = this.#actorFaults
      ? o.actors.map((def) =>
        flakyActor(def, {
          seed: o.seed,
          failP: this.#params.actorFailP,
          failed,
          onFail: (what) => {
            this.stats.actorFailures++;
            this.trace(`actor failure ${what}`);
          },
        })
      )
      : o.actors;
    for (const def of o.actors) {
      this.#kinds.set(def.kind, def);
      const raw = o.config[def.kind];
      this.#configs.set(
        def.kind,
        raw === undefined ? def.defaultConfig : def.parseConfig(raw, def.defaultConfig, def.kind),
      );
    }
  }

  trace(line: string): void {
    const us = this.scheduler.nowUs - START_US;
    if (us !== this.#traceUs) {
      this.#traceUs = us;
      this.#traceTime = secondsText(us);
    }
    this.lines.push(`${this.#traceTime} ${line}`);
  }

  violate(invariant: InvariantName, message: string): void {
    const atUs = this.scheduler.nowUs - START_US;
    this.trace(`VIOLATION ${invariant}: ${message}`);
    const line = this.lines.length - 1;
    this.#found.push({ v: { invariant, atUs, message }, line, late: false, text: "" });
  }

  /**
   * A violation found late (by a check that waited for the reference), reported where it would
   * have been: at virtual time `atUs` (since the start), before the trace line now at `line`.
   */
  #violateLate(line: number, atUs: number, invariant: InvariantName, message: string): void {
    const t = (atUs / 1e6).toFixed(6);
    this.#found.push({
      v: { invariant, atUs, message },
      line,
      late: true,
      text: `${t} VIOLATION ${invariant}: ${message}`,
    });
  }

  /**
   * Puts late violations' lines where they belong and lists the first 100 violations in the
   * order they are reported: what checking each at once would have given.
   */
  #mergeViolations(): void {
    const late = this.#found.filter((f) => f.late);
    if (late.length) {
      late.sort((a, b) => a.line - b.line); // stable: same line, in the order found
      const lines: string[] = [];
      let j = 0;
      for (let i = 0; i <= this.lines.length; i++) {
        while (j < late.length && late[j]!.line === i) lines.push(late[j++]!.text);
        if (i < this.lines.length) lines.push(this.lines[i]!);
      }
      this.lines.length = 0;
      for (const l of lines) this.lines.push(l);
    }
    const order = this.#found.map((f, i) => ({ f, i }));
    // A late violation precedes the line it was found before; otherwise, the order found.
    order.sort((a, b) =>
      a.f.line - b.f.line || (a.f.late === b.f.late ? a.i - b.i : a.f.late ? -1 : 1)
    );
    this.violations.length = 0;
    for (const { f } of order.slice(0, 100)) this.violations.push(f.v);
  }

  /** Checks what waited for the reference, if it is there (with `wait`, once it is). */
  #useReference(wait: boolean): ReferenceOutcome | undefined {
    if (this.#reference) return this.#reference;
    const ref = this.#feed.reference(wait);
    if (!ref) return undefined;
    this.#reference = ref;
    for (const id of ref.conflicts) {
      this.#violateLate(
        this.#setupLines,
        0,
        "outputs_equal_fault_free",
        `the fault-free run produces output id "${id}" twice with different bytes`,
      );
    }
    const outputs = this.#outputs = new OutputChecker(ref);
    for (const p of this.#pendingOutputs) {
      const problem = outputs.observe(p.id, p.data);
      if (problem) {
        this.#violateLate(p.line, p.atUs, "outputs_equal_fault_free", `${p.from}: ${problem}`);
      }
    }
    this.#pendingOutputs = [];
    return ref;
  }

  /** Whether a worker thread computes the feed and the reference. */
  get threaded(): boolean {
    return this.#feed?.threaded ?? false;
  }

  /** Gets the feed source (which may start the worker that computes it). */
  async prepare(): Promise<void> {
    const o = this.o;
    this.#feed = await feedSource(
      { seed: this.#feedSeed, channels: o.channels, batch: o.batch, budget: this.#budget() },
      { actors: o.actors, configs: this.#configs, config: o.config },
      o.threads,
    );
  }

  /** The feed's samples: the rate over the duration. */
  #budget(): number {
    return Math.round(this.o.rate * this.o.durationS);
  }

  async execute(): Promise<void> {
    try {
      this.#setup();
      const t = performance.now();
      await this.scheduler.run(this.#endUs);
      this.phasesMs.run = performance.now() - t;
      await this.#drain();
      this.phasesMs.drain = performance.now() - t - this.phasesMs.run;
    } catch (err) {
      this.violate("no_exception", (err as Error).stack ?? String(err));
    }
    try {
      this.#useReference(true);
    } catch (err) {
      this.violate("no_exception", (err as Error).stack ?? String(err));
    }
    try {
      this.#recoveryVerdicts();
    } catch (err) {
      this.violate("no_exception", (err as Error).stack ?? String(err));
    }
    this.#feed?.close();
    this.phasesMs.feed = this.#feed?.feedMs ?? 0;
    this.phasesMs.reference = this.#feed?.referenceMs ?? 0;
    this.phasesMs.checks = this.#feed?.checksMs ?? 0;
    this.stats.instances = this.#index?.inputs.size ?? 0;
    this.stats.outputsExpected = this.#reference?.outputs.size ?? 0;
    this.#mergeViolations();
    this.#log?.stop();
    const net = this.#bus?.stats;
    if (net) {
      Object.assign(this.stats, {
        delivered: net.delivered,
        dropped: net.dropped,
        duplicated: net.duplicated,
        reordered: net.reordered,
      });
    }
    this.stats.events = this.scheduler.steps;
    this.stats.outputsPublished = this.#outputs?.published ?? 0;
    this.trace(
      `end ${
        this.violations.length === 0 ? "ok" : `${this.violations.length} violations`
      } events=${this.stats.events}`,
    );
  }

  // --- setup -------------------------------------------------------------------------------------

  #setup(): void {
    const o = this.o;
    this.trace(
      `sim seed=${o.seed} faults=${o.faults} duration=${o.durationS}s hosts=${o.hosts} channels=${o.channels} rate=${o.rate}/s batch=${o.batch} partitions=${o.partitions} actors=${
        [...this.#kinds.keys()].join(",")
      }`,
    );
    const p = this.#params;
    this.trace(
      `params snapshot_every=${p.snapshotEveryInputs}/${p.snapshotEveryMs}ms drop=${
        p.network.dropP.toFixed(4)
      } dup=${p.network.dupP.toFixed(4)} reorder=${
        p.network.reorderP.toFixed(4)
      } latency=${p.network.latencyUsMin}-${p.network.latencyUsMax}us`,
    );
    // Where the reference's conflicts are reported, once it is known.
    this.#setupLines = this.lines.length;
    this.#index = new InputIndex(o.actors, this.#configs);
    const plan = feedPlan({
      seed: this.#feedSeed,
      channels: o.channels,
      batch: o.batch,
      budget: this.#budget(),
    });
    this.stats.frames = plan.length;
    this.stats.samples = this.#budget();
    this.#bus = new SimBus({
      scheduler: this.scheduler,
      prng: this.#netRng,
      faults: p.network,
      trace: (line) => this.trace(line),
      onHandlerError: (err, who, msg) =>
        this.violate(
          "no_exception",
          `handler of ${who} for "${msg.subject}" threw: ${(err as Error).stack ?? err}`,
        ),
    });
    this.#bus.tap((from, subject, data, headers) => this.#onPublish(from, subject, data, headers));
    this.#log = new SimFeedLog(this.#bus, this.scheduler, { trace: (l) => this.trace(l) });

    // The feed: each frame is stored in the log at its time on the schedule (the frames are
    // generated, or handed over by the worker, as the log takes them).
    const usPerSample = 1e6 / o.rate;
    let samples = 0;
    for (let i = 0; i < plan.length; i++) {
      const at = START_US + Math.round(samples * usPerSample);
      samples += plan[i]!;
      this.scheduler.at(at, () => {
        const entry = this.#feed.entry(i + 1);
        const seq = this.#log.append(entry.subject, entry.data, entry.headroom);
        if (seq !== entry.seq) throw new Error(`feed log stored frame ${entry.seq} at ${seq}`);
        this.#index.add(entry);
      });
    }
    this.#endUs = START_US + Math.round(o.durationS * 1e6);

    for (let i = 0; i < o.hosts; i++) {
      const owned = [...Array(o.partitions).keys()].filter((q) => q % o.hosts === i);
      const h: SimHost = {
        id: `h${i + 1}`,
        index: i,
        owned,
        disk: new SimDisk(
          this.scheduler,
          {
            fsyncMs: 0.1 + this.#faultRng.uniform(0, 5),
            fsyncEveryMs: 20 + this.#faultRng.int(1000),
            snapshotMs: 0.1 + this.#faultRng.uniform(0, 10),
          },
          (stream, srcPos, last) => this.#checkJournaled(`h${i + 1}`, stream, srcPos, last),
        ),
        clockSkewUs: Math.round(this.#clockRng.uniform(-5e6, 5e6)),
        incarnation: 0,
        up: false,
        host: undefined,
        conn: undefined,
        timers: undefined,
        kill: undefined,
        restarting: false,
        stopping: false,
      };
      h.disk.inPlace = this.#inPlace;
      this.#hosts.push(h);
      this.scheduler.at(START_US, () => {
        this.#start(h);
        if (this.#crashes) this.#scheduleFault(h);
      });
      if (this.#network) this.#schedulePartition(h);
    }
    this.#sabotage();
    // A digest of every host's progress once a virtual second: makes the trace sensitive to
    // what the hosts did, not only to what the network did.
    const digest = () => {
      this.#digest();
      if (!this.#draining) this.scheduler.after(1_000_000, digest);
    };
    this.scheduler.after(1_000_000, digest);
  }

  // --- hosts -------------------------------------------------------------------------------------

  #start(h: SimHost): void {
    h.restarting = false;
    h.stopping = false;
    h.incarnation++;
    const timers = this.scheduler.timers();
    const conn = this.#bus.connect(h.id);
    const disk = h.disk.open(timers);
    // Every incarnation of h1 loses the same frame: it is never handed to the host at all.
    const loseSeq = this.o.sabotage === "lose_input" && h.index === 0
      ? this.#firstSeqOwnedBy(h, 10)
      : undefined;
    const input = simFeedInput(conn, {
      consumer: `${h.id}-${h.incarnation}`,
      timers,
      trace: (l) => this.trace(l),
      ...(loseSeq === undefined ? {} : { loseSeq }),
    });
    const host = new Host({
      hostId: h.id,
      bus: conn,
      actors: this.#hostActors,
      config: this.o.config,
      journal: disk.journal,
      snapshots: disk.snapshots,
      partitions: { count: this.o.partitions, owned: h.owned },
      input,
      snapshotEveryInputs: this.#params.snapshotEveryInputs,
      snapshotEveryMs: this.#params.snapshotEveryMs,
      msgIdHeaders: true,
      now: () => (this.scheduler.nowUs + h.clockSkewUs) / 1000,
      timers,
      log: (m) => this.trace(`${h.id} log ${m}`),
      // Enough failures before an instance is stopped that transient ones never stop it.
      supervision: { failuresMax: 20 },
      frameDecoders: this.#frameDecoders,
      // The disks hold logged frames in place (SimDisk.inPlace), header and whole payload.
      journalEvenTimes: false,
    });
    Object.assign(h, { host, conn, timers, kill: disk.kill, up: true });
    const incarnation = h.incarnation;
    this.trace(`${h.id} start #${incarnation}`);
    host.start().then(
      () => this.#checkRecovery(h, incarnation, "recovery"),
      (err) => {
        if (h.host === host) {
          this.violate("no_exception", `${h.id} start failed: ${(err as Error).stack ?? err}`);
        }
      },
    ).catch((err) =>
      this.violate("no_exception", `${h.id} recovery check failed: ${(err as Error).stack ?? err}`)
    );
  }

  /**
   * The hosts' frame decoders. A frame is delivered again and again (redeliveries, refetches) and
   * replayed from journals at every recovery, always the same bytes: a frame whose bytes are those
   * the log holds at its source position is decoded once, and that decoding (a pure function of
   * the bytes) is handed out every time. Anything else (bytes that differ, such as a corrupted
   * journal record's; a position the log does not hold; limits other than the defaults) is
   * decoded as it is.
   */
  readonly #frameDecoders = (limits: FrameLimits): FrameDecoder => {
    if (limits.messageBytesMax !== undefined || limits.samplesPerFrameMax !== undefined) {
      return (bytes) => decodeFrame(bytes, limits);
    }
    return (bytes, srcPos) => {
      const entry = this.#log.entries[srcPos - 1];
      if (entry === undefined || (bytes !== entry.data && !bytesEqual(bytes, entry.data))) {
        return decodeFrame(bytes, limits);
      }
      return this.#decoded[srcPos - 1] ??= decodeFrame(entry.data, limits);
    };
  };

  /**
   * A frame record's bytes where the log holds them (see FeedEntry.headroom): the record of a
   * logged frame, as the host writes it (its head, then the frame's bytes as delivered), is the
   * room before the frame with the head written in; undefined for anything else (it is copied).
   */
  readonly #inPlace = (parts: readonly Uint8Array[]): Uint8Array | undefined => {
    const [head, payload] = parts;
    if (parts.length !== 2 || head!.byteLength < 11 || head![0] !== FRAME_CODE) return undefined;
    const entry = this.#log.entries[inputSourcePosition(head!) - 1];
    const data = entry?.data;
    const room = head!.byteLength;
    if (
      !data || entry.headroom !== room || payload!.buffer !== data.buffer ||
      payload!.byteOffset !== data.byteOffset || payload!.byteLength !== data.byteLength
    ) return undefined;
    const record = new Uint8Array(data.buffer, data.byteOffset - room, room + data.byteLength);
    // The head of a frame's record is the same every time: written once, then found there.
    if (record[0] === 0) record.set(head!);
    else if (!bytesEqual(record.subarray(0, room), head!)) return undefined;
    return record;
  };

  /** Drops the host without stopping it: timers, connection and disk handle die with it. */
  #crash(h: SimHost, why: string): void {
    if (!h.up) return;
    h.timers!.cancelAll();
    h.conn!.kill();
    h.kill!();
    Object.assign(h, {
      host: undefined,
      conn: undefined,
      timers: undefined,
      kill: undefined,
      up: false,
    });
    this.stats.crashes++;
    let detail = "";
    if (this.#disk) {
      const lost = h.disk.crash(true);
      this.#cutCheckViews(h);
      this.stats.journalRecordsLost += lost;
      detail = ` lost ${lost} unsynced journal records`;
      if (this.#faultRng.chance(this.#params.loseSnapshotsP)) {
        h.disk.snapshots.clear();
        detail += " and every snapshot";
      }
    }
    this.trace(`${h.id} crash #${h.incarnation} (${why})${detail}`);
  }

  /**
   * The next process fault of `h`: a crash (most often), a crash of every host at once (a power
   * loss), or a clean stop and restart. Soon after a restart, now and then, so that faults also
   * land in the middle of a recovery. A restart schedules the next fault; an event meant for an
   * earlier incarnation does nothing.
   */
  #scheduleFault(h: SimHost): void {
    const rng = this.#faultRng;
    // Uniform gaps rather than exponential ones (kept so that traces stay as they were).
    const gapUs = rng.chance(0.2)
      ? rng.int(30_000)
      : Math.round(rng.uniform(0, 2 * this.#params.crashMeanS) * 1e6);
    const at = this.scheduler.nowUs + gapUs;
    if (at >= this.#endUs) return;
    const incarnation = h.incarnation;
    this.scheduler.at(at, () => {
      if (this.#draining || !h.up || h.incarnation !== incarnation || h.stopping) return;
      const roll = rng.next();
      if (roll < 0.1) {
        this.trace(`power loss: every host crashes`);
        for (const other of this.#hosts) {
          if (!other.up) continue;
          this.#crash(other, "power loss");
          this.#restartAfter(other);
        }
      } else if (roll < 0.3) {
        this.#cleanRestart(h);
      } else {
        this.#crash(h, "fault");
        this.#restartAfter(h);
      }
    });
  }

  #restartAfter(h: SimHost): void {
    const downUs = this.#faultRng.chance(0.2)
      ? 0
      : Math.round(this.#faultRng.uniform(0, this.#params.downMaxS) * 1e6);
    h.restarting = true;
    this.scheduler.after(downUs, () => {
      this.stats.restarts++;
      this.#start(h);
      this.#scheduleFault(h);
    });
  }

  /** Stops `h` cleanly (which takes virtual time, and may be cut short by a crash), then restarts it. */
  #cleanRestart(h: SimHost): void {
    const host = h.host!;
    h.stopping = true;
    this.trace(`${h.id} stop #${h.incarnation}`);
    host.stop().then(
      () => {
        if (h.host !== host) return; // crashed while stopping
        h.timers!.cancelAll();
        h.conn!.kill();
        h.kill!();
        h.up = false;
        this.trace(`${h.id} stopped #${h.incarnation}`);
        this.stats.restarts++;
        this.#start(h);
        this.#scheduleFault(h);
      },
      (err) => this.violate("no_exception", `${h.id} stop failed: ${(err as Error).stack ?? err}`),
    );
  }

  #schedulePartition(h: SimHost): void {
    const at = this.scheduler.nowUs +
      Math.round(this.#faultRng.uniform(0, 2 * this.#params.partitionMeanS) * 1e6);
    if (at >= this.#endUs) return;
    this.scheduler.at(at, () => {
      if (this.#draining) return;
      this.#bus.isolate(h.id);
      this.stats.partitions++;
      // Now and then a long one, past the feed log's consumer inactivity limit (10 s).
      const length = Math.round(
        (this.#faultRng.chance(0.05)
          ? this.#faultRng.uniform(5, 15)
          : this.#faultRng.uniform(0.01, this.#params.partitionMaxS)) * 1e6,
      );
      this.scheduler.after(length, () => {
        this.#bus.heal(h.id);
        this.#schedulePartition(h);
      });
    });
  }

  #ownerOf(key: string): SimHost {
    const p = partitionOf(key, this.o.partitions);
    return this.#hosts[p % this.o.hosts]!;
  }

  #firstSeqOwnedBy(h: SimHost, after: number): number | undefined {
    for (let seq = after + 1; seq <= this.#feed.count; seq++) {
      const f = this.#feed.entry(seq);
      const channel = f.subject.slice(f.subject.lastIndexOf(".") + 1);
      for (const def of this.o.actors) {
        for (const key of def.route(channel, this.#configs.get(def.kind))) {
          if (this.#ownerOf(key) === h) return f.seq;
        }
      }
    }
    return undefined;
  }

  // --- checks ------------------------------------------------------------------------------------

  #onPublish(
    from: string,
    subject: string,
    data: Uint8Array,
    headers: Record<string, string> | undefined,
  ) {
    if (subject.startsWith("troupe.out.")) {
      const id = headers?.["Nats-Msg-Id"];
      this.trace(`${from} out ${id}`);
      if (this.o.sabotage === "corrupt_output" && from === "h1" && ++this.#h1Outputs % 4 === 3) {
        // What the checker sees of every fourth output of h1 has its last byte flipped.
        data = data.slice();
        data[data.byteLength - 1]! ^= 0x01;
      }
      const outputs = this.#outputs ?? (this.#useReference(false) && this.#outputs);
      if (outputs) {
        const problem = outputs.observe(id, data);
        if (problem) this.violate("outputs_equal_fault_free", `${from}: ${problem}`);
      } else {
        // Checked once the reference is known, and reported here.
        this.#pendingOutputs.push({
          from,
          id,
          data: data.slice(),
          atUs: this.scheduler.nowUs - START_US,
          line: this.lines.length,
        });
      }
    } else if (subject.startsWith("troupe.dlq.") || subject.startsWith("troupe.sys.actor.")) {
      let detail = "";
      try {
        detail = JSON.stringify(decodeEnvelope(data).body).slice(0, 300);
      } catch {
        detail = `${data.byteLength} undecodable bytes`;
      }
      this.violate("no_dead_letters", `${from} published on "${subject}": ${detail}`);
    }
  }

  /**
   * Every instance of `h` equals a fresh instance fed its whole journal (see RecoveryChecker):
   * what the comparison needs is taken now, in one instant (the live instances' snapshots and the
   * journals' new records), and handed to the feed source, which replays and compares while the
   * run goes on (on its worker, or here). Its violations are reported, at the end, at the trace
   * line where they would have been. A `full` check reads the journal itself, asynchronously,
   * before that instant (or takes the journals `read` at the same instant by the final checks).
   */
  async #checkRecovery(
    h: SimHost,
    incarnation: number,
    when: string,
    full = false,
    read?: ReadonlyMap<string, JournalRecord[]>,
  ): Promise<void> {
    const host = h.host;
    if (!host || h.incarnation !== incarnation) return; // crashed meanwhile
    const list = host.instances();
    let journals: Map<string, JournalRecord[]> | undefined;
    if (full) {
      journals = new Map();
      for (const { stream } of list) {
        journals.set(stream, read?.get(`${h.id} ${stream}`) ?? await h.disk.records(stream));
      }
      if (h.host !== host) return;
    }
    this.trace(
      `${h.id} ${when} #${incarnation} instances=${list.length} ${
        list.map((i) => `${i.stream}@${i.pos}`).join(" ")
      }`,
    );
    let sent = this.#checkSent.get(h.id);
    if (!sent) this.#checkSent.set(h.id, sent = new Map());
    const instances: RecoveryInstance[] = [];
    for (const { stream, status } of host.instances()) {
      const parsed = parseStream(stream)!;
      const inst = host.instance(parsed.kind, parsed.key);
      instances.push({
        stream,
        status,
        live: inst && status === "running" ? inst.snapshot() : undefined,
      });
      // The records of the disk's view the checker has not been given yet.
      const base = sent.get(stream) ?? 0;
      const data = h.disk.watched(stream, base).map((r) => r.data);
      sent.set(stream, base + data.length);
      if (data.length || base === 0) {
        this.#checkOps.push({ op: "records", host: h.id, stream, base, data });
      }
    }
    const id = this.#checkAt.length;
    this.#checkAt.push({ line: this.lines.length, atUs: this.scheduler.nowUs - START_US });
    const check = {
      host: h.id,
      when,
      head: this.#log.head,
      instances,
      ...(journals ? { journals } : {}),
    };
    this.#checkOps.push({ op: "check", id, check });
    this.#feed.check(this.#checkOps);
    this.#checkOps = [];
  }

  /** A crash lost the unsynced tails of `h`'s journals: the checker's views are cut back too. */
  #cutCheckViews(h: SimHost): void {
    const sent = this.#checkSent.get(h.id);
    if (!sent) return;
    const lengths = new Map<string, number>();
    for (const [stream, n] of sent) {
      const last = h.disk.journal.lastPosition(stream);
      lengths.set(stream, last);
      if (n > last) sent.set(stream, last);
    }
    this.#checkOps.push({ op: "cut", host: h.id, lengths });
  }

  /** The recovery checks' violations, reported where each check would have reported them. */
  #recoveryVerdicts(): void {
    if (!this.#feed) return;
    if (this.#checkOps.length) this.#feed.check(this.#checkOps);
    this.#checkOps = [];
    if (this.#checkAt.length === 0) return;
    const verdicts = this.#feed.checked();
    for (let id = 0; id < this.#checkAt.length; id++) {
      const { line, atUs } = this.#checkAt[id]!;
      const found = verdicts.get(id);
      if (!found) {
        this.#violateLate(line, atUs, "no_exception", `recovery check ${id} was never answered`);
        continue;
      }
      for (const v of found) this.#violateLate(line, atUs, v.invariant, v.message);
    }
  }

  /**
   * A frame journaled (so about to be applied) by `host` for `stream`, after `last`: it must be
   * the next input of the stream in the log. An earlier one is applied twice; a later one means the
   * inputs between are lost (the host never goes back: it ignores positions it has passed).
   */
  #checkJournaled(host: string, stream: string, srcPos: number, last: number): void {
    const expected = this.#index.inputs.get(stream);
    if (srcPos <= 0) {
      this.violate(
        "no_input_applied_twice",
        `${host} ${stream}: a frame journaled without a source position cannot be deduplicated`,
      );
    } else if (srcPos <= last) {
      this.violate(
        "no_input_applied_twice",
        `${host} ${stream}: input at source position ${srcPos} journaled (applied) again after position ${last}`,
      );
    } else if (!expected) {
      this.violate("no_input_lost", `${host} journaled ${stream}, which no logged input routes to`);
    } else {
      const next = expected[upperBound(expected, last)];
      if (next !== srcPos) {
        this.violate(
          "no_input_lost",
          next !== undefined && next < srcPos
            ? `${host} ${stream}: journaled source position ${srcPos} after ${last}, skipping logged input ${next}, which it will now ignore`
            : `${host} ${stream}: journaled source position ${srcPos}, which the log does not route to it`,
        );
      }
    }
  }

  #digest(): void {
    const parts: string[] = [];
    for (const h of this.#hosts) {
      if (!h.host) {
        parts.push(`${h.id}=down`);
        continue;
      }
      const applied = [...h.host.applied.values()].reduce((a, b) => a + b, 0);
      const srcPos = h.host.instances().map((i) => i.pos).join(",");
      parts.push(`${h.id}=${applied}[${srcPos}]`);
    }
    this.trace(`digest head=${this.#log.head} ${parts.join(" ")}`);
  }

  /** Whether every instance has applied every input the log holds for it. */
  #caughtUp(): boolean {
    if (this.#log.head < this.#feed.count) return false;
    for (const h of this.#hosts) if (!h.host?.ready) return false;
    for (const [stream, seqs] of this.#index.inputs) {
      let at = this.#streamAt.get(stream);
      if (!at) {
        const { kind, key } = parseStream(stream)!;
        this.#streamAt.set(stream, at = { kind, key, owner: this.#ownerOf(key) });
      }
      const inst = at.owner.host!.instance(at.kind, at.key);
      if (!inst || inst.srcPos !== seqs[seqs.length - 1]) return false;
    }
    return true;
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    this.trace(`drain: faults off, partitions healed, crashed hosts restart`);
    this.#bus.setFaults(QUIET_NETWORK);
    this.#bus.healAll();
    for (const h of this.#hosts) {
      if (!h.up && !h.restarting) this.scheduler.after(0, () => this.#start(h));
    }
    const deadline = this.scheduler.nowUs + Math.round(this.o.drainMaxS * 1e6);
    let caught = this.#caughtUp();
    if (!caught) {
      await this.scheduler.run(deadline, { stop: () => (caught = this.#caughtUp()) });
    }
    if (!caught) {
      const behind: string[] = [];
      for (const [stream, seqs] of this.#index.inputs) {
        const { kind, key } = parseStream(stream)!;
        const owner = this.#ownerOf(key);
        const inst = owner.host?.instance(kind, key);
        const last = seqs[seqs.length - 1];
        if (inst?.srcPos !== last) {
          behind.push(`${owner.id} ${stream} at ${inst?.srcPos ?? "absent"} of ${last}`);
        }
      }
      this.violate(
        "drains",
        `not caught up ${this.o.drainMaxS} virtual s after faults stopped: ${
          behind.slice(0, 5).join("; ")
        }${behind.length > 5 ? ` and ${behind.length - 5} more` : ""}`,
      );
      return;
    }
    this.trace(`drained`);
    this.#digest();
    await this.#finalChecks("drain", true);
    // A clean stop and restart of every host: stop() must leave what recovery rebuilds exactly.
    let stopping = 0;
    for (const h of this.#hosts) {
      const host = h.host!;
      stopping++;
      host.stop().then(
        () => stopping--,
        (err) => {
          stopping--;
          this.violate("no_exception", `${h.id} stop failed: ${(err as Error).stack ?? err}`);
        },
      );
    }
    await this.scheduler.run(this.scheduler.nowUs + 60_000_000, { stop: () => stopping === 0 });
    if (stopping > 0) {
      this.violate("drains", `${stopping} hosts did not stop within 60 virtual s`);
      return;
    }
    for (const h of this.#hosts) {
      h.timers!.cancelAll();
      h.conn!.kill();
      h.kill!();
      h.up = false;
      this.trace(`${h.id} stopped #${h.incarnation}`);
      this.scheduler.after(0, () => this.#start(h));
    }
    await this.scheduler.run(this.scheduler.nowUs + 1_000_000, {
      stop: () => this.#hosts.every((h) => h.host?.ready),
    });
    await this.#finalChecks("clean restart", false);
  }

  /** The end-of-run checks: inputs exactly once, state equal to replay and to the reference. */
  async #finalChecks(when: string, full: boolean): Promise<void> {
    const reference = this.#useReference(true)!;
    // The journals as read here, by host and stream: nothing runs until the recovery checks
    // below, so a full one takes them as they are instead of reading them again.
    const read = new Map<string, JournalRecord[]>();
    for (const [stream, seqs] of this.#index.inputs) {
      const { kind, key } = parseStream(stream)!;
      const owner = this.#ownerOf(key);
      const records = await owner.disk.records(stream);
      read.set(`${owner.id} ${stream}`, records);
      const bad = checkJournalInputs(stream, records, seqs);
      if (bad) this.violate(bad.invariant, `${owner.id} after ${when}: ${bad.message}`);
      const inst = owner.host?.instance(kind, key);
      const expected = reference.finals.get(stream)!;
      if (!inst) {
        this.violate("no_input_lost", `${owner.id} has no instance ${stream} after ${when}`);
        continue;
      }
      const diff = diffSnapshots(inst.snapshot(), expected, { positions: false });
      if (diff) {
        this.violate(
          "outputs_equal_fault_free",
          `${owner.id} ${stream} after ${when}: state differs from the fault-free run: ${diff}`,
        );
      }
    }
    for (const h of this.#hosts) await this.#checkRecovery(h, h.incarnation, when, full, read);
    const missing = full ? this.#outputs!.missing() : []; // once, after the drain
    if (missing.length) {
      this.violate(
        "outputs_equal_fault_free",
        `${missing.length} of ${reference.outputs.size} outputs of the fault-free run never published, first "${
          missing[0]
        }"`,
      );
    }
    const hash = createHash("sha256");
    for (const stream of [...reference.finals.keys()].sort()) {
      const { kind, key } = parseStream(stream)!;
      const inst = this.#ownerOf(key).host?.instance(kind, key);
      if (inst) hash.update(stream).update(inst.snapshot().kernel);
    }
    this.trace(`state ${when} ${hash.digest("hex").slice(0, 16)}`);
  }

  #sabotage(): void {
    const s = this.o.sabotage;
    if (s === undefined) return;
    const h = this.#hosts[0]!;
    this.trace(`sabotage ${s}`);
    if (s === "apply_twice") h.disk.appendTwiceAt = 8;
    if (s === "corrupt_journal") {
      this.scheduler.at(START_US + Math.round(this.o.durationS * 5e5), async () => {
        for (const stream of h.disk.journal.streams().sort()) {
          const records = await h.disk.records(stream);
          const rec = records.find((r) => r.pos === 3);
          if (!rec) continue;
          // Flip a bit of the last sample's value (its mantissa's top byte), where it sits in the record.
          const { frame } = decodeFrame(decodeInputRecord(rec.data).payload);
          const last = new Uint8Array(Float64Array.of(frame.v[frame.v.length - 1]!).buffer);
          const at = indexOfBytes(rec.data, last);
          if (at < 0) continue;
          const bad = rec.data.slice();
          bad[at + 6]! ^= 0x01;
          // The checker's view of the disk holds the record's bytes: it is told of the new ones.
          if (h.disk.watched(stream, 2)[0]?.data === rec.data) {
            this.#checkOps.push({ op: "patch", host: h.id, stream, pos: 3, data: bad });
            this.#feed.check(this.#checkOps);
            this.#checkOps = [];
          }
          // Replaced, not changed in place: the record may hold the log's own bytes.
          h.disk.replace(stream, 3, bad);
          this.trace(`sabotage flipped a bit of ${h.id} ${stream} record 3 at byte ${at}`);
          return;
        }
      });
    }
  }
}

/**
 * `us / 1e6` with six decimals, as `toFixed(6)` writes it, without its decimal conversion for a
 * whole number of microseconds below 2^50 (for those, the quotient rounds to these same digits).
 */
export function secondsText(us: number): string {
  if (!(Number.isInteger(us) && us >= 0 && us < 2 ** 50)) return (us / 1e6).toFixed(6);
  const frac = us % 1e6;
  return `${(us - frac) / 1e6}.${String(frac).padStart(6, "0")}`;
}

/** Where `needle` first occurs in `hay`, or -1. */
function indexOfBytes(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = hay.byteLength - needle.byteLength; i >= 0; i--) {
    for (let j = 0; j < needle.byteLength; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** The index of the first element of ascending `xs` greater than `x`. */
function upperBound(xs: readonly number[], x: number): number {
  let lo = 0, hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
