/**
 * The cluster a simulation drives: its hosts (the real Host, each on its own simulated disk, its
 * wall clock skewed), started, crashed, stopped and restarted as the run's faults say, and the
 * network partitions that cut them off. The process faults come from the run's "faults" PRNG and
 * are scheduled on its Scheduler, so a seed always injects the same ones at the same virtual
 * times. What the cluster does is written to the trace; what its hosts journal, and each start
 * and crash, is told to the checks (`ClusterWatcher`).
 *
 * A host may run on several threads, as `troupe run --threads N` runs one (threaded_host.ts): its
 * partitions are split as `threadConfig` splits them (partition p to thread p mod N), each thread
 * a Host of its own (`h1-t0`, `h1-t1`, ...) with its own disk (its data directory), its own
 * connection and feed consumer, mailboxes and recovery. The threads share their process's fate:
 * its clock, its crashes, clean restarts and network partitions are the process's, drawn once
 * for it, so that with one thread a seed draws and traces what it did before threads existed.
 */
import { type AnyActorDefinition, Host, partitionOf } from "../actors/runtime/mod.ts";
import { LogFrames } from "./_log_frames.ts";
import { SimDisk } from "./_sim_disk.ts";
import { downHost, type SimHost } from "./_sim_host.ts";
import { type StreamOwner, StreamOwners } from "./_stream_owners.ts";
import { simFeedInput, type SimFeedLog } from "./_sim_feed_log.ts";
import type { FeedSource } from "./_sim_feed_source.ts";
import type { SimTrace } from "./_sim_trace.ts";
import type { FaultParams, FaultSet } from "./faults.ts";
import { damageJournal } from "./_sim_damage.ts";
import type { Prng } from "./prng/mod.ts";
import type { Scheduler } from "./scheduler.ts";
import type { SimBus } from "./sim_bus.ts";

/** What the checks are told of the cluster. */
export interface ClusterWatcher {
  /** A frame journaled by `host` for `stream`, after source position `last`. */
  journaled(host: string, stream: string, srcPos: number, last: number): void;
  /** Incarnation `incarnation` of `h` has started (recovered). */
  started(h: SimHost, incarnation: number): Promise<void>;
  /** `h` crashed and its disk lost its unsynced journal tails. */
  lostTails(h: SimHost): void;
}

/** The counters the cluster keeps. */
export interface ClusterStats {
  crashes: number;
  restarts: number;
  partitions: number;
  journalRecordsLost: number;
  /** Journal records damaged between intact ones (the `damage` fault). */
  journalRecordsDamaged: number;
  /** Machines paused and cut off from NATS (a leased cluster's faults). */
  pauses: number;
  cuts: number;
}

/** Options of a SimCluster. */
export interface SimClusterOptions {
  scheduler: Scheduler;
  trace: SimTrace;
  bus: SimBus;
  log: SimFeedLog;
  feed: FeedSource;
  hosts: number;
  /** The threads each host runs its partitions on (1: the host is one Host). */
  threads: number;
  partitions: number;
  /** The kinds as the run knows them (routing), and as the hosts run them (maybe flaky). */
  actors: readonly AnyActorDefinition[];
  hostActors: readonly AnyActorDefinition[];
  /** The kinds' configuration, raw (for the hosts) and parsed (for routing). */
  config: Record<string, unknown>;
  configs: ReadonlyMap<string, unknown>;
  faults: FaultSet;
  params: FaultParams;
  /** Inputs since an instance's last snapshot for a stop to snapshot it (SimOptions). */
  snapshotMinInputs: number;
  /** The run's "faults" and "clocks" PRNG forks, and its "damage" one under `damage` faults. */
  faultRng: Prng;
  clockRng: Prng;
  damageRng: Prng | undefined;
  /** The virtual time the run starts, and the time faults stop being scheduled. */
  startUs: number;
  endUs: number;
  /** Every incarnation of h1 never gets the first frame it owns after the 10th (a sabotage). */
  loseInput: boolean;
  /**
   * Every incarnation of h1 decodes the frames logged at these sequences (copies of earlier
   * frames) with an envelope id of their own, so it applies them as new inputs (a sabotage).
   */
  applyCopies: ReadonlySet<number> | undefined;
  /**
   * h1 is told its input gives nothing back and to accept journal losses, so it folds what
   * follows a hole as journaled (a sabotage of the `damage` fault).
   */
  acceptDamage: boolean;
  stats: ClusterStats;
  watcher: ClusterWatcher;
}

/** The simulated cluster. */
export class SimCluster {
  /** Every host's threads, host by host (a host on one thread is one). */
  readonly hosts: SimHost[] = [];
  /** The threads of each host, by host index. */
  readonly #processes: SimHost[][] = [];
  /** Set once the run drains: no more faults. */
  draining = false;
  readonly #options: SimClusterOptions;
  /** The logged frames, decoded once and journaled in place. */
  readonly #frames: LogFrames;
  /** Per instance stream, its kind, key and owner. */
  readonly #streams = new StreamOwners((key) => this.ownerOf(key));

  constructor(options: SimClusterOptions) {
    this.#options = options;
    this.#frames = new LogFrames(options.log);
  }

  /**
   * Makes the hosts, each started at the start of the run with its faults scheduled. The draws
   * from the PRNGs, host by host, are part of what a seed means.
   */
  addHosts(): void {
    const o = this.#options;
    for (let i = 0; i < o.hosts; i++) {
      const owned = [...Array(o.partitions).keys()].filter((q) => q % o.hosts === i);
      // As threadCount: at most one thread a partition; partition p to thread p mod n.
      const n = Math.max(1, Math.min(o.threads, owned.length));
      // The disks' timings are the machine's, drawn once a host whatever its threads, so that a
      // seed's faults fall at the same times on any number of threads.
      const timing = {
        fsyncMs: 0.1 + o.faultRng.uniform(0, 5),
        fsyncEveryMs: 20 + o.faultRng.int(1000),
        snapshotMs: 0.1 + o.faultRng.uniform(0, 10),
      };
      const threads = [...Array(n).keys()].map((t) => {
        const id = n === 1 ? `h${i + 1}` : `h${i + 1}-t${t}`;
        const disk = new SimDisk(
          o.scheduler,
          timing,
          (stream, srcPos, last) => o.watcher.journaled(id, stream, srcPos, last),
        );
        const mine = owned.filter((q) => q % n === t);
        return downHost({ id, index: i, owned: mine, disk, clockSkewUs: 0 });
      });
      const clockSkewUs = Math.round(o.clockRng.uniform(-5e6, 5e6));
      for (const h of threads) {
        Object.assign(h, { clockSkewUs, threads });
        h.disk.inPlace = this.#frames.inPlace;
        this.hosts.push(h);
      }
      this.#processes.push(threads);
      const h = threads[0]!;
      o.scheduler.at(o.startUs, () => {
        for (const t of threads) this.start(t);
        if (o.faults.crash) this.#scheduleFault(h);
      });
      if (o.faults.network) this.#schedulePartition(h);
    }
  }

  /** Starts a new incarnation of `h` on its disk. */
  start(h: SimHost): void {
    const o = this.#options;
    h.restarting = false;
    h.stopping = false;
    h.incarnation++;
    const timers = o.scheduler.timers();
    const conn = o.bus.connect(h.id);
    const disk = h.disk.open(timers);
    // Every incarnation of h1 loses the same frame: it is never handed to the host at all.
    const loseSeq = o.loseInput && h.index === 0 ? this.#firstSeqOwnedBy(h, 10) : undefined;
    const sabotaged = o.acceptDamage && h.index === 0;
    const input = simFeedInput(conn, {
      consumer: `${h.id}-${h.incarnation}`,
      timers,
      trace: (l) => o.trace.line(l),
      ...(loseSeq === undefined ? {} : { loseSeq }),
      keepsPositions: !sabotaged,
    });
    const host = new Host({
      hostId: h.id,
      bus: conn,
      actors: o.hostActors,
      config: o.config,
      journal: disk.journal,
      snapshots: disk.snapshots,
      partitions: { count: o.partitions, owned: h.owned },
      input,
      snapshotEveryInputs: o.params.snapshotEveryInputs,
      snapshotEveryMs: o.params.snapshotEveryMs,
      snapshotMinInputs: o.snapshotMinInputs,
      msgIdHeaders: true,
      now: () => (o.scheduler.nowUs + h.clockSkewUs) / 1000,
      timers,
      log: (m) => o.trace.line(`${h.id} log ${m}`),
      // Enough failures before an instance is stopped that transient ones never stop it.
      supervision: { failuresMax: 20 },
      frameDecoders: o.applyCopies && h.index === 0
        ? this.#frames.renamingDecoders(o.applyCopies)
        : this.#frames.decoders,
      // The disks hold logged frames in place (SimDisk.inPlace), header and whole payload.
      journalEvenTimes: false,
      acceptJournalLoss: sabotaged,
    });
    Object.assign(h, { host, conn, timers, kill: disk.kill, up: true });
    const incarnation = h.incarnation;
    o.trace.line(`${h.id} start #${incarnation}`);
    host.start().then(
      () => o.watcher.started(h, incarnation),
      (err) => {
        if (h.host === host) {
          o.trace.violate("no_exception", `${h.id} start failed: ${(err as Error).stack ?? err}`);
        }
      },
    ).catch((err) =>
      o.trace.violate(
        "no_exception",
        `${h.id} recovery check failed: ${(err as Error).stack ?? err}`,
      )
    );
  }

  /** Takes `h` down after a clean stop: its timers, connection and disk handle go with it. */
  stopped(h: SimHost): void {
    h.timers!.cancelAll();
    h.conn!.kill();
    h.kill!();
    h.up = false;
    this.#options.trace.line(`${h.id} stopped #${h.incarnation}`);
  }

  /** The host that owns `key`'s partition. */
  ownerOf(key: string): SimHost {
    const p = partitionOf(key, this.#options.partitions);
    const threads = this.#processes[p % this.#options.hosts]!;
    return threads[p % threads.length]!;
  }

  /** The kind and key of instance `stream`, and the host that owns it (parsed once). */
  streamOwner(stream: string): StreamOwner {
    return this.#streams.of(stream);
  }

  /**
   * Whether every input the log holds is logged, every host ready, and every instance has applied
   * every input `inputs` (source positions by stream) says the log holds for it.
   */
  caughtUp(inputs: ReadonlyMap<string, readonly number[]>): boolean {
    const logged = this.#options.log.head >= this.#options.feed.count;
    return this.#streams.caughtUp(inputs, { logged, hosts: this.hosts });
  }

  /** The instances behind `inputs`, as `h1 stats/BTC at 5 of 9` (`absent` for one not there). */
  behind(inputs: ReadonlyMap<string, readonly number[]>): string[] {
    return this.#streams.behind(inputs);
  }

  /** Traces a digest of every host's progress. */
  digest(): void {
    const parts: string[] = [];
    for (const h of this.hosts) {
      if (!h.host) {
        parts.push(`${h.id}=down`);
        continue;
      }
      const applied = [...h.host.applied.values()].reduce((a, b) => a + b, 0);
      const srcPos = h.host.instances().map((i) => i.pos).join(",");
      parts.push(`${h.id}=${applied}[${srcPos}]`);
    }
    this.#options.trace.line(`digest head=${this.#options.log.head} ${parts.join(" ")}`);
  }

  // --- faults ------------------------------------------------------------------------------------

  /**
   * Drops the host's process, every thread of it (see #crashThread). Whether the snapshots go
   * is drawn once, for the machine's disk.
   */
  #crash(h: SimHost, why: string): void {
    const o = this.#options;
    let lose: boolean | undefined;
    const loseSnapshots = () => (lose ??= o.faultRng.chance(o.params.loseSnapshotsP));
    if (h.up) o.stats.crashes++;
    for (const t of h.threads) this.#crashThread(t, why, loseSnapshots);
  }

  /** Drops the host without stopping it: timers, connection and disk handle die with it. */
  #crashThread(h: SimHost, why: string, loseSnapshots: () => boolean): void {
    if (!h.up) return;
    const o = this.#options;
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
    let detail = "";
    if (o.faults.disk) {
      const lost = h.disk.crash(true);
      o.watcher.lostTails(h);
      o.stats.journalRecordsLost += lost;
      detail = ` lost ${lost} unsynced journal records`;
      if (loseSnapshots()) {
        h.disk.snapshots.clear();
        detail += " and every snapshot";
      }
    }
    const damaged = o.damageRng && damageJournal(h, o.damageRng);
    if (damaged) {
      o.stats.journalRecordsDamaged++;
      detail += `; damaged ${damaged.stream} record ${damaged.pos}`;
    }
    o.trace.line(`${h.id} crash #${h.incarnation} (${why})${detail}`);
  }

  /**
   * The next process fault of `h`: a crash (most often), a crash of every host at once (a power
   * loss), or a clean stop and restart. Soon after a restart, now and then, so that faults also
   * land in the middle of a recovery. A restart schedules the next fault; an event meant for an
   * earlier incarnation does nothing.
   */
  #scheduleFault(h: SimHost): void {
    const o = this.#options;
    const rng = o.faultRng;
    // Uniform gaps rather than exponential ones (kept so that traces stay as they were).
    const gapUs = rng.chance(0.2)
      ? rng.int(30_000)
      : Math.round(rng.uniform(0, 2 * o.params.crashMeanS) * 1e6);
    const at = o.scheduler.nowUs + gapUs;
    if (at >= o.endUs) return;
    const incarnation = h.incarnation;
    o.scheduler.at(at, () => {
      if (this.draining || !h.up || h.incarnation !== incarnation || h.stopping) return;
      const roll = rng.next();
      if (roll < 0.1) {
        o.trace.line(`power loss: every host crashes`);
        for (const [other] of this.#processes) {
          if (!other!.up) continue;
          this.#crash(other!, "power loss");
          this.#restartAfter(other!);
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
    const o = this.#options;
    const downUs = o.faultRng.chance(0.2)
      ? 0
      : Math.round(o.faultRng.uniform(0, o.params.downMaxS) * 1e6);
    for (const t of h.threads) t.restarting = true;
    o.scheduler.after(downUs, () => {
      o.stats.restarts++;
      for (const t of h.threads) this.start(t);
      this.#scheduleFault(h);
    });
  }

  /**
   * Stops `h` cleanly, every thread of it (which takes virtual time, and may be cut short by a
   * crash), then restarts it once they have all stopped.
   */
  #cleanRestart(h: SimHost): void {
    const o = this.#options;
    const threads = h.threads;
    const hosts = threads.map((t) => t.host!);
    let stopping = threads.length;
    for (const t of threads) {
      t.stopping = true;
      o.trace.line(`${t.id} stop #${t.incarnation}`);
    }
    threads.forEach((t, i) =>
      hosts[i]!.stop().then(
        () => {
          if (--stopping > 0) return;
          if (threads.some((x, j) => x.host !== hosts[j])) return; // crashed while stopping
          for (const x of threads) this.stopped(x);
          o.stats.restarts++;
          for (const x of threads) this.start(x);
          this.#scheduleFault(h);
        },
        (err) =>
          o.trace.violate("no_exception", `${t.id} stop failed: ${(err as Error).stack ?? err}`),
      )
    );
  }

  #schedulePartition(h: SimHost): void {
    const o = this.#options;
    const at = o.scheduler.nowUs +
      Math.round(o.faultRng.uniform(0, 2 * o.params.partitionMeanS) * 1e6);
    if (at >= o.endUs) return;
    o.scheduler.at(at, () => {
      if (this.draining) return;
      for (const t of h.threads) o.bus.isolate(t.id);
      o.stats.partitions++;
      // Now and then a long one, past the feed log's consumer inactivity limit (10 s).
      const length = Math.round(
        (o.faultRng.chance(0.05)
          ? o.faultRng.uniform(5, 15)
          : o.faultRng.uniform(0.01, o.params.partitionMaxS)) * 1e6,
      );
      o.scheduler.after(length, () => {
        for (const t of h.threads) o.bus.heal(t.id);
        this.#schedulePartition(h);
      });
    });
  }

  #firstSeqOwnedBy(h: SimHost, after: number): number | undefined {
    const { feed, actors, configs } = this.#options;
    for (let seq = after + 1; seq <= feed.count; seq++) {
      const f = feed.entry(seq);
      const channel = f.subject.slice(f.subject.lastIndexOf(".") + 1);
      for (const def of actors) {
        for (const key of def.route(channel, configs.get(def.kind))) {
          if (this.ownerOf(key) === h) return f.seq;
        }
      }
    }
    return undefined;
  }
}
