/**
 * The deterministic simulator: a whole cluster in one process on virtual time. Several Hosts
 * (the real ones, partitions split among them, each on one thread or several: `hostThreads`),
 * each with its own disk (a journal and a snapshot store that survive its crashes), the simulated
 * bus and a durable feed log fed by a seeded feed, all driven by one discrete-event Scheduler.
 * One seed decides everything: the feed, every message's latency, drop, duplicate and reordering,
 * network partitions, host crashes and restarts (a crash drops the Host without stopping it; a
 * restart builds a new Host on the same disk), fsync timing and the journal tails a crash loses.
 * The invariants (see invariants.ts) are checked as the run goes (every journal append, every
 * published output, every recovery) and once it has drained.
 * This file holds the run: its seed's PRNG forks, the setup and the drain; its options are in
 * _sim_options.ts, the cluster it drives in _sim_cluster.ts, the checks it makes in
 * _sim_checks.ts, its trace in _sim_trace.ts, the faults in faults.ts, the sabotages' breakage in
 * _sim_sabotage.ts.
 * A run returns its trace, one line per event that matters, and the trace's hash: the same seed
 * gives the same trace, byte for byte, on one runtime. A trace line is the virtual time in seconds
 * since the start, then what happened: network faults (`net drop|dup|hold|partition|heal`), feed
 * consumer fetches and gap requests, host starts, crashes, stops, recoveries (with each instance's
 * journal position) and host log lines, every output published (by id), actor failures, a digest
 * of every host's progress each virtual second, violations, and a hash of the final states.
 */
import type { AnyActorDefinition } from "../actors/runtime/mod.ts";
import { reproduceCommand, resolve, type Resolved, type SimOptions } from "./_sim_options.ts";
import { SimChecks } from "./_sim_checks.ts";
import { corruptJournal } from "./_sim_sabotage.ts";
import { SimCluster } from "./_sim_cluster.ts";
import type { SimHost } from "./_sim_host.ts";
import { flakyActor } from "./_sim_flaky.ts";
import { SimFeedLog } from "./_sim_feed_log.ts";
import { planFeed } from "./_sim_feed_generator.ts";
import type { FeedSource } from "./_sim_feed_source.ts";
import { feedSource } from "./_sim_feed_open.ts";
import { SimTrace } from "./_sim_trace.ts";
import {
  drawFaultParams,
  drawLeaseParams,
  type FaultParams,
  type FaultSet,
  type LeaseParams,
  mixed,
  seedShape,
} from "./faults.ts";
import { SimLeasedCluster } from "./_sim_leased_cluster.ts";
import { InputIndex } from "./fault_free_reference.ts";
import { type Violation } from "./invariants.ts";
import { Prng } from "./prng/mod.ts";
import { Scheduler } from "./scheduler.ts";
import { QUIET_NETWORK, SimBus } from "./sim_bus.ts";

export type { Sabotage, SimOptions } from "./_sim_options.ts";
export { reproduceCommand };

/** What a run found. */
export interface SimResult {
  seed: number;
  /** The faults, canonically spelled. */
  faults: string;
  ok: boolean;
  violations: Violation[];
  /** The trace's lines (empty with `keepTrace: false`). */
  trace: readonly string[];
  /**
   * The line of the first violation reported as it happened and up to 15 lines before it (kept
   * whether or not the trace is), or none.
   */
  excerpt: readonly string[];
  /** SHA-256 of the trace as it was made (see SimTrace.digest), hex. */
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
  /** Whether the run went on the simulator's own thread (see simulateOnThread). */
  onThread: boolean;
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
  /** Copies of earlier frames logged (the `duplicate` fault). */
  copies: number;
  /** Inputs the fault-free run applies again: copies whose id left an instance's window. */
  reapplied: number;
  /** Journal records damaged between intact ones (the `damage` fault). */
  journalRecordsDamaged: number;
  /** Machines paused (the `pause` fault) and cut off from NATS (`cut`). */
  pauses: number;
  cuts: number;
  /** Partitions taken over after a lease expired, and writes fences refused (leased runs). */
  takeovers: number;
  fencedWrites: number;
}

/** The virtual time a run starts at: the feeds' default start, 2024-01-01T00:00:00Z. */
const START_US = Date.UTC(2024, 0, 1) * 1000;

/** Runs one simulation. Never throws for what it finds: violations are in the result. */
export async function simulate(options: SimOptions): Promise<SimResult> {
  const o = resolve(options);
  const t0 = performance.now();
  const run = new Run(o);
  await run.prepare();
  await run.execute();
  const traceHash = run.trace.digest();
  return {
    seed: o.seed,
    faults: o.faults.name,
    ok: run.trace.violations.length === 0,
    violations: run.trace.violations,
    trace: run.trace.lines,
    excerpt: run.trace.excerpt,
    traceHash,
    command: reproduceCommand(options),
    virtualS: (run.scheduler.nowUs - START_US) / 1e6,
    realMs: performance.now() - t0,
    phasesMs: run.phasesMs,
    threaded: run.threaded,
    onThread: false,
    stats: run.stats,
  };
}

/**
 * One run: the seed's PRNG forks and parameters, the feed scheduled into the log, the cluster
 * and its checks set up, the run, the drain and the final checks.
 */
class Run {
  readonly o: Resolved;
  readonly scheduler = new Scheduler(START_US);
  readonly trace: SimTrace;
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
    copies: 0,
    reapplied: 0,
    journalRecordsDamaged: 0,
    pauses: 0,
    cuts: 0,
    takeovers: 0,
    fencedWrites: 0,
  };
  readonly #configs = new Map<string, unknown>();
  readonly #params: FaultParams;
  readonly #faultRng: Prng;
  readonly #netRng: Prng;
  readonly #clockRng: Prng;
  readonly #damageRng: Prng | undefined;
  readonly #lease: LeaseParams | undefined;
  /** The faults this seed runs: the set asked for, or this seed's shape of a mixed one. */
  readonly #set: FaultSet;
  readonly #feedSeed: number;
  /** The trace's word on a mixed set's shape (" shape=leased"), or "". */
  readonly #shape: string;
  /** What the hosts run: the kinds, made flaky under `actor` faults. */
  readonly #hostActors: readonly AnyActorDefinition[];
  /** When the feed ends, and faults with it. */
  readonly #endUs: number;
  #feed: FeedSource | undefined;
  #bus: SimBus | undefined;
  #log: SimFeedLog | undefined;
  /** Which instances each logged frame goes to (built as frames are logged). */
  #index: InputIndex | undefined;
  #cluster: SimCluster | SimLeasedCluster | undefined;
  #checks: SimChecks | undefined;

  constructor(o: Resolved) {
    this.o = o;
    this.trace = new SimTrace(this.scheduler, START_US, { keep: o.keepTrace });
    this.#endUs = START_US + Math.round(o.durationS * 1e6);
    const { set, shape } = seedShape(o.seed, o.faults.set);
    this.#set = set;
    this.#shape = mixed(o.faults.set) ? ` shape=${shape}` : "";
    const root = new Prng(o.seed);
    const params = root.fork("params");
    this.#faultRng = root.fork("faults");
    this.#netRng = root.fork("network");
    this.#feedSeed = root.fork("feed").nextUint32();
    this.#clockRng = root.fork("clocks");
    // Forked only when asked for: a fork draws from the root, and other runs keep their traces.
    this.#damageRng = set.damage ? root.fork("damage") : undefined;
    this.#params = drawFaultParams(params, set);
    this.#lease = shape === "leased" ? drawLeaseParams(root.fork("lease")) : undefined;
    const failed = new Set<string>();
    this.#hostActors = set.actor
      ? o.actors.map((def) =>
        flakyActor(def, {
          seed: o.seed,
          failP: this.#params.actorFailP,
          failed,
          onFail: (what) => {
            this.stats.actorFailures++;
            this.trace.line(`actor failure ${what}`);
          },
        })
      )
      : o.actors;
    for (const def of o.actors) {
      const raw = o.config[def.kind];
      this.#configs.set(
        def.kind,
        raw === undefined ? def.defaultConfig : def.parseConfig(raw, def.defaultConfig, def.kind),
      );
    }
  }

  /** Whether a worker thread computes the feed and the reference. */
  get threaded(): boolean {
    return this.#feed?.threaded ?? false;
  }

  /** Gets the feed source (which may start the worker that computes it). */
  async prepare(): Promise<void> {
    const o = this.o;
    this.#feed = await feedSource(
      this.#feedSpec(),
      { actors: o.actors, configs: this.#configs, config: o.config },
      o.threads,
    );
  }

  /** The feed the run logs (copies of frames only under the `duplicate` fault). */
  #feedSpec() {
    const o = this.o;
    const spec = {
      seed: this.#feedSeed,
      channels: o.channels,
      batch: o.batch,
      budget: this.#budget(),
    };
    return o.faults.set.duplicate ? { ...spec, duplicates: true } : spec;
  }

  /** The feed's samples: the rate over the duration. */
  #budget(): number {
    return Math.round(this.o.rate * this.o.durationS);
  }

  async execute(): Promise<void> {
    const trace = this.trace;
    const guard = (what: () => void) => {
      try {
        what();
      } catch (err) {
        trace.violate("no_exception", (err as Error).stack ?? String(err));
      }
    };
    try {
      this.#setup();
      const t = performance.now();
      await this.scheduler.run(this.#endUs);
      this.phasesMs.run = performance.now() - t;
      await this.#drain();
      this.phasesMs.drain = performance.now() - t - this.phasesMs.run;
    } catch (err) {
      trace.violate("no_exception", (err as Error).stack ?? String(err));
    }
    guard(() => this.#checks?.useReference(true));
    guard(() => this.#checks?.recoveryVerdicts());
    this.#feed?.close();
    trace.mergeViolations();
    this.#log?.stop();
    this.#finishStats();
    const n = trace.violations.length;
    trace.line(`end ${n === 0 ? "ok" : `${n} violations`} events=${this.stats.events}`);
  }

  #finishStats(): void {
    const stats = this.stats;
    stats.instances = this.#index?.inputs.size ?? 0;
    stats.outputsExpected = this.#checks?.reference?.outputs.size ?? 0;
    stats.reapplied = this.#checks?.reference?.reapplied ?? 0;
    this.phasesMs.feed = this.#feed?.feedMs ?? 0;
    this.phasesMs.reference = this.#feed?.referenceMs ?? 0;
    this.phasesMs.checks = this.#feed?.checksMs ?? 0;
    const net = this.#bus?.stats;
    if (net) {
      Object.assign(stats, {
        delivered: net.delivered,
        dropped: net.dropped,
        duplicated: net.duplicated,
        reordered: net.reordered,
      });
    }
    stats.events = this.scheduler.steps;
    const c = this.#cluster;
    if (c instanceof SimLeasedCluster) {
      stats.takeovers = c.takeovers();
      stats.fencedWrites = c.fencedWrites();
    }
    stats.outputsPublished = this.#checks?.outputsPublished ?? 0;
  }

  // --- setup -------------------------------------------------------------------------------------

  #setup(): void {
    const o = this.o;
    const feed = this.#feed!;
    this.trace.line(
      `sim seed=${o.seed} faults=${o.faults.name}${this.#shape} duration=${o.durationS}s ` +
        `hosts=${o.hosts} channels=${o.channels} rate=${o.rate}/s batch=${o.batch} ` +
        `partitions=${o.partitions} actors=${[...this.#configs.keys()].join(",")}` +
        this.#threadsWord(),
    );
    const p = this.#params;
    this.trace.line(
      `params snapshot_every=${p.snapshotEveryInputs}/${p.snapshotEveryMs}ms drop=${
        p.network.dropP.toFixed(4)
      } dup=${p.network.dupP.toFixed(4)} reorder=${
        p.network.reorderP.toFixed(4)
      } latency=${p.network.latencyUsMin}-${p.network.latencyUsMax}us`,
    );
    // Where the reference's conflicts are reported, once it is known.
    const setupLines = this.trace.mark();
    const index = this.#index = new InputIndex(o.actors, this.#configs);
    const bus = this.#bus = new SimBus({
      scheduler: this.scheduler,
      prng: this.#netRng,
      faults: p.network,
      trace: (line) => this.trace.line(line),
      onHandlerError: (err, who, msg) =>
        this.trace.violate(
          "no_exception",
          `handler of ${who} for "${msg.subject}" threw: ${(err as Error).stack ?? err}`,
        ),
    });
    bus.tap((from, subject, data, headers) => checks.onPublish(from, subject, data, headers));
    const log = this.#log = new SimFeedLog(bus, this.scheduler, {
      trace: (l) => this.trace.line(l),
    });
    const cluster = this.#cluster = this.#makeCluster(bus, log, feed);
    const checks = this.#checks = new SimChecks({
      trace: this.trace,
      cluster,
      feed,
      log,
      index,
      setupLines,
      corruptOutput: o.sabotage === "corrupt_output",
      actors: o.actors,
    });
    this.#scheduleFeed(feed, log, index);
    cluster.addHosts();
    this.#sabotage(cluster.hosts[0]!, checks);
    // A digest of every host's progress once a virtual second: makes the trace sensitive to
    // what the hosts did, not only to what the network did.
    const digest = () => {
      cluster.digest();
      if (!cluster.draining) this.scheduler.after(1_000_000, digest);
    };
    this.scheduler.after(1_000_000, digest);
  }

  /**
   * The trace's word on the hosts' threads: none for one (so that traces stay as they were), and
   * for a leased cluster, that its hosts run one (a host per partition, as `troupe run` refuses
   * threads with leases).
   */
  #threadsWord(): string {
    const n = this.o.hostThreads;
    if (n === 1) return "";
    return this.#lease ? ` threads=1 (leased, not ${n})` : ` threads=${n}`;
  }

  /**
   * The feed: each frame is stored in the log at its time on the schedule (the frames are
   * generated, or handed over by the worker, as the log takes them).
   */
  #scheduleFeed(feed: FeedSource, log: SimFeedLog, index: InputIndex): void {
    const o = this.o;
    const { samples: plan, copies } = planFeed(this.#feedSpec());
    this.stats.frames = plan.length;
    this.stats.copies = copies.size;
    this.stats.samples = this.#budget();
    const usPerSample = 1e6 / o.rate;
    let samples = 0;
    for (let i = 0; i < plan.length; i++) {
      const at = START_US + Math.round(samples * usPerSample);
      samples += plan[i]!;
      this.scheduler.at(at, () => {
        const entry = feed.entry(i + 1);
        const seq = log.append(entry.subject, entry.data, entry.headroom);
        if (seq !== entry.seq) throw new Error(`feed log stored frame ${entry.seq} at ${seq}`);
        index.add(entry);
        const copy = copies.get(seq);
        if (copy) this.trace.line(`log copy seq=${seq} (${copy.kind}) of an earlier frame`);
      });
    }
  }

  #makeCluster(
    bus: SimBus,
    log: SimFeedLog,
    feed: FeedSource,
  ): SimCluster | SimLeasedCluster {
    const o = this.o;
    const options = {
      scheduler: this.scheduler,
      trace: this.trace,
      bus,
      log,
      feed,
      hosts: o.hosts,
      threads: o.hostThreads,
      partitions: o.partitions,
      actors: o.actors,
      hostActors: this.#hostActors,
      config: o.config,
      configs: this.#configs,
      faults: this.#set,
      params: this.#params,
      snapshotMinInputs: o.snapshotMinInputs,
      faultRng: this.#faultRng,
      clockRng: this.#clockRng,
      startUs: START_US,
      endUs: this.#endUs,
      loseInput: o.sabotage === "lose_input",
      acceptDamage: o.sabotage === "accept_damage",
      damageRng: this.#damageRng,
      applyCopies: o.sabotage === "apply_duplicate"
        ? new Set(planFeed(this.#feedSpec()).copies.keys())
        : undefined,
      stats: this.stats,
      watcher: {
        journaled: (host: string, stream: string, srcPos: number, last: number) =>
          this.#checks!.journaled(host, stream, srcPos, last),
        started: (h: SimHost, incarnation: number) =>
          this.#checks!.recovery(h, incarnation, "recovery"),
        lostTails: (h: SimHost) => this.#checks!.lostTails(h),
      },
    };
    return this.#lease
      ? new SimLeasedCluster({
        ...options,
        lease: this.#lease,
        unfenced: o.sabotage === "unfenced",
      })
      : new SimCluster(options);
  }

  // --- the drain ---------------------------------------------------------------------------------

  /**
   * Faults stop, partitions heal, crashed hosts restart, and the cluster must catch up with the
   * log; then the final checks, a clean stop and restart of every host, and the checks again.
   */
  async #drain(): Promise<void> {
    const cluster = this.#cluster!;
    const inputs = this.#index!.inputs;
    cluster.draining = true;
    this.trace.line(`drain: faults off, partitions healed, crashed hosts restart`);
    this.#bus!.setFaults(QUIET_NETWORK);
    this.#bus!.healAll();
    if (cluster instanceof SimLeasedCluster) cluster.heal();
    else {
      for (const h of cluster.hosts) {
        if (!h.up && !h.restarting) this.scheduler.after(0, () => cluster.start(h));
      }
    }
    const deadline = this.scheduler.nowUs + Math.round(this.o.drainMaxS * 1e6);
    let caught = cluster.caughtUp(inputs);
    if (!caught) {
      await this.scheduler.run(deadline, { stop: () => (caught = cluster.caughtUp(inputs)) });
    }
    if (!caught) {
      const behind = cluster.behind(inputs);
      this.trace.violate(
        "drains",
        `not caught up ${this.o.drainMaxS} virtual s after faults stopped: ${
          behind.slice(0, 5).join("; ")
        }${behind.length > 5 ? ` and ${behind.length - 5} more` : ""}`,
      );
      return;
    }
    this.trace.line(`drained`);
    cluster.digest();
    await this.#checks!.final("drain", true);
    if (cluster instanceof SimLeasedCluster) {
      // Every machine hands its partitions off and leaves; then they all join again.
      if (!await cluster.stopAll()) return;
      cluster.restartAll();
    } else {
      if (!await this.#stopAll(cluster.hosts)) return;
      for (const h of cluster.hosts) {
        cluster.stopped(h);
        this.scheduler.after(0, () => cluster.start(h));
      }
    }
    // Machines take a heartbeat or two to claim their partitions again.
    const readyUs = cluster instanceof SimLeasedCluster ? 10_000_000 : 1_000_000;
    await this.scheduler.run(this.scheduler.nowUs + readyUs, {
      stop: () => cluster.hosts.every((h) => h.host?.ready),
    });
    await this.#checks!.final("clean restart", false);
  }

  /**
   * A clean stop of every host (stop() must leave what recovery rebuilds exactly), within 60
   * virtual seconds. Whether they all stopped.
   */
  async #stopAll(hosts: readonly SimHost[]): Promise<boolean> {
    let stopping = 0;
    for (const h of hosts) {
      const host = h.host!;
      stopping++;
      host.stop().then(
        () => stopping--,
        (err) => {
          stopping--;
          this.trace.violate("no_exception", `${h.id} stop failed: ${(err as Error).stack ?? err}`);
        },
      );
    }
    await this.scheduler.run(this.scheduler.nowUs + 60_000_000, { stop: () => stopping === 0 });
    if (stopping > 0) {
      this.trace.violate("drains", `${stopping} hosts did not stop within 60 virtual s`);
      return false;
    }
    return true;
  }

  // --- sabotage ----------------------------------------------------------------------------------

  /** Breaks `h` (h1) on purpose, as `o.sabotage` says: for tests that the checks catch it. */
  #sabotage(h: SimHost, checks: SimChecks): void {
    const s = this.o.sabotage;
    if (s === undefined) return;
    this.trace.line(`sabotage ${s}`);
    if (s === "apply_twice") h.disk.appendTwiceAt = 8;
    if (s === "drop_void") h.disk.dropVoids = true;
    if (s === "corrupt_journal") {
      this.scheduler.at(
        START_US + Math.round(this.o.durationS * 5e5),
        () => corruptJournal(h, checks, (l) => this.trace.line(l)),
      );
    }
  }
}
