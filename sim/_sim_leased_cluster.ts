/**
 * A simulated cluster whose partitions move by lease, as `troupe run --partitions auto` runs
 * them: machines that each run the real lease keeper (PartitionLeases) on the simulator's lease
 * bucket (sim_lease_kv.ts), and, for each partition a machine holds, the real Host of that
 * partition (`part-<n>`) recovering from the partition's journal and snapshots (the journal every
 * machine can read, as JetStream's is: a crash loses nothing it acknowledged) and writing through
 * the partition's fence. Machines crash (their partitions are taken over when the leases expire),
 * pause past their leases (a GC pause, SIGSTOP: they wake with stale leases and must write
 * nothing), run on skewed and drifting clocks, and are cut off from NATS (they cannot renew, and
 * stop writing before anyone can claim their partitions). Every journal append and every output
 * is checked at the instant it is accepted against the newest epoch claimed for its partition
 * (`one_writer`). To the checks the partitions are the cluster's hosts (`SimHost`, one per
 * partition, its disk the partition's journal and snapshots), so every other invariant is checked
 * as in a cluster of fixed owners, across takeovers.
 */
import {
  Host,
  type Journal,
  type LeaseFence,
  PartitionLeases,
  partitionOf,
  type PartitionRunner,
} from "../actors/runtime/mod.ts";
import type { Bus } from "../protocol/mod.ts";
import { SimDisk } from "./_sim_disk.ts";
import { LogFrames } from "./_log_frames.ts";
import { simFeedInput } from "./_sim_feed_log.ts";
import { SimLeaseNode } from "./_sim_lease_node.ts";
import type { SimClusterOptions } from "./_sim_cluster.ts";
import { downHost, type SimHost } from "./_sim_host.ts";
import { type StreamOwner, StreamOwners } from "./_stream_owners.ts";
import type { LeaseParams } from "./faults.ts";
import type { TimerGroup } from "./scheduler.ts";
import type { SimConnection } from "./sim_bus.ts";
import { SimLeaseKv } from "./sim_lease_kv.ts";

/** One machine, across its incarnations. */
interface SimMachine {
  id: string;
  incarnation: number;
  up: boolean;
  restarting: boolean;
  /** Wall clock offset and monotonic rate (drawn once: the machine's clock). */
  skewUs: number;
  rate: number;
  cut: boolean;
  node: SimLeaseNode | undefined;
  leases: PartitionLeases | undefined;
  timers: TimerGroup | undefined;
  conn: SimConnection | undefined;
  /** This incarnation's partition hosts, by partition. */
  running: Map<number, Running>;
  /** Told when the machine goes down (crashes or exits) while it is being stopped. */
  onDown?: (() => void) | undefined;
}

/** A partition host a machine runs. */
interface Running {
  h: SimHost;
  host: Host;
  timers: TimerGroup;
  conn: SimConnection;
  kill(): void;
  /** Its start's number, counted per partition. */
  incarnation: number;
  /** Taken down (crashed, stopped, dropped or failed to start). */
  dead: boolean;
}

/** Options of a SimLeasedCluster: a SimCluster's, with the lease parameters. */
export interface SimLeasedClusterOptions extends SimClusterOptions {
  lease: LeaseParams;
  /** Partition hosts write without a fence (a sabotage of the one-writer invariant). */
  unfenced: boolean;
}

/** The leased cluster. */
export class SimLeasedCluster {
  /** One per partition: what the checks see as the cluster's hosts. */
  readonly hosts: SimHost[] = [];
  readonly machines: SimMachine[] = [];
  /** Starts of each partition so far (a partition's host's incarnation is one of them). */
  readonly #starts: number[] = [];
  draining = false;
  readonly kv: SimLeaseKv;
  readonly #options: SimLeasedClusterOptions;
  readonly #streams = new StreamOwners((key) => this.ownerOf(key));
  /** Set from the clean stop of every machine to their restart. */
  #halted = false;
  /** Takeovers and fenced writes of machine incarnations that ended. */
  #ended = { takeovers: 0, fenced: 0 };

  /** The frame partition 0's host never gets, whoever holds it (the lose_input sabotage). */
  readonly #loseSeq: number | undefined;
  /** The logged frames, decoded once and journaled in place. */
  readonly #frames: LogFrames;

  constructor(options: SimLeasedClusterOptions) {
    this.#options = options;
    this.#frames = new LogFrames(options.log);
    this.kv = new SimLeaseKv(options.scheduler, { ttlMs: options.lease.ttlMs });
    this.#loseSeq = options.loseInput ? this.#firstSeqOf(0, 10) : undefined;
  }

  /** The first logged frame after sequence `after` that routes to partition `p`. */
  #firstSeqOf(p: number, after: number): number | undefined {
    const { feed, actors, configs, partitions } = this.#options;
    for (let seq = after + 1; seq <= feed.count; seq++) {
      const f = feed.entry(seq);
      const channel = f.subject.slice(f.subject.lastIndexOf(".") + 1);
      for (const def of actors) {
        for (const key of def.route(channel, configs.get(def.kind))) {
          if (partitionOf(key, partitions) === p) return f.seq;
        }
      }
    }
    return undefined;
  }

  /** Makes the partitions and the machines, started at the start of the run, faults scheduled. */
  addHosts(): void {
    const o = this.#options;
    for (let p = 0; p < o.partitions; p++) {
      const id = `part-${p}`;
      // No periodic fsync: the partition's journal is durable on acknowledgement (JetStream's),
      // so a machine's crash loses no journal tail (it loses what was not yet appended, the
      // snapshots being written and the outputs not yet published) and a sync timer would only
      // cost events. The host's own syncs still take the disk's fsync time.
      const disk = new SimDisk(
        o.scheduler,
        { fsyncMs: 0.1 + o.faultRng.uniform(0, 5), fsyncEveryMs: undefined, snapshotMs: 1 },
        (stream, srcPos, last) => o.watcher.journaled(id, stream, srcPos, last),
      );
      disk.inPlace = this.#frames.inPlace;
      this.hosts.push(downHost({ id, index: p, owned: [p], disk, clockSkewUs: 0 }));
    }
    for (let i = 0; i < o.hosts; i++) {
      const skew = o.faults.skew;
      const m: SimMachine = {
        id: `m${i + 1}`,
        incarnation: 0,
        up: false,
        restarting: false,
        skewUs: skew ? Math.round(o.clockRng.uniform(-5e6, 5e6)) : 0,
        rate: skew ? o.clockRng.uniform(1 - o.lease.driftMax, 1 + o.lease.driftMax) : 1,
        cut: false,
        node: undefined,
        leases: undefined,
        timers: undefined,
        conn: undefined,
        running: new Map(),
      };
      this.machines.push(m);
      o.scheduler.at(o.startUs, () => {
        this.#startMachine(m);
        if (o.faults.crash) this.#scheduleCrash(m);
      });
      if (o.faults.pause) this.#schedule(m, "pause");
      if (o.faults.cut) this.#schedule(m, "cut");
      if (skew) {
        o.trace.line(
          `${m.id} clock skew ${(m.skewUs / 1e6).toFixed(3)}s rate ${m.rate.toFixed(4)}`,
        );
      }
    }
  }

  /** Partitions taken over after a lease expired, over every machine incarnation. */
  takeovers(): number {
    let n = this.#ended.takeovers;
    for (const m of this.machines) n += m.leases?.counts.takeovers ?? 0;
    return n;
  }

  /** Writes refused by fences (appends, outputs, snapshots), over every machine incarnation. */
  fencedWrites(): number {
    let n = this.#ended.fenced;
    for (const m of this.machines) n += m.leases?.refused() ?? 0;
    return n;
  }

  #tally(m: SimMachine): void {
    this.#ended.takeovers += m.leases?.counts.takeovers ?? 0;
    this.#ended.fenced += m.leases?.refused() ?? 0;
  }

  // --- machines ----------------------------------------------------------------------------------

  #startMachine(m: SimMachine): void {
    const o = this.#options;
    // A restart scheduled before the clean stop of every machine waits for restartAll.
    if (m.up || this.#halted) return;
    m.incarnation++;
    m.restarting = false;
    const timers = o.scheduler.timers();
    const node = new SimLeaseNode({
      scheduler: o.scheduler,
      timers,
      latencyUs: o.lease.latencyUs,
      skewUs: m.skewUs,
      rate: m.rate,
    });
    node.cut = m.cut;
    const conn = o.bus.connect(m.id);
    if (m.cut) o.bus.isolate(m.id);
    else o.bus.heal(m.id);
    Object.assign(m, { node, timers, conn, up: true, running: new Map() });
    o.trace.line(`${m.id} start #${m.incarnation}`);
    const leases = m.leases = new PartitionLeases({
      hostId: m.id,
      count: o.partitions,
      bucket: this.kv.storeFor(node),
      heartbeatMs: o.lease.heartbeatMs,
      settleMs: o.lease.settleMs,
      bus: conn,
      start: (p, fence) => this.#startPartition(m, p, fence),
      log: (msg) => o.trace.line(`${m.id} log ${msg}`),
      now: node.wallMs,
      clock: node.clockMs,
      timers: node.timers,
    });
    const incarnation = m.incarnation;
    leases.start().catch((err) => {
      if (m.incarnation !== incarnation || !m.up) return; // crashed meanwhile
      // Its first heartbeat failed (cut off from NATS): the process exits, as `troupe run`
      // does, and its supervisor starts it again a heartbeat later.
      o.trace.line(`${m.id} exit #${incarnation}: ${(err as Error).message}`);
      this.#crash(m, "exit");
      m.restarting = true;
      o.scheduler.after(o.lease.heartbeatMs * 1000, () => {
        if (m.up) return;
        o.stats.restarts++;
        this.#startMachine(m);
      });
    });
  }

  /** Drops machine `m` without stopping it: its timers, connections and partition hosts die. */
  #crash(m: SimMachine, why = "crash"): void {
    const o = this.#options;
    if (!m.up) return;
    m.timers!.cancelAll();
    m.node!.kill();
    m.conn!.kill();
    for (const [, r] of m.running) this.#down(r);
    if (why === "crash") {
      o.stats.crashes++;
      o.trace.line(`${m.id} crash #${m.incarnation} holding [${[...m.running.keys()].join(",")}]`);
    }
    this.#tally(m);
    Object.assign(m, { up: false, node: undefined, leases: undefined, timers: undefined });
    m.onDown?.();
    m.onDown = undefined;
    m.running = new Map();
  }

  #scheduleCrash(m: SimMachine): void {
    const o = this.#options;
    const rng = o.faultRng;
    const at = o.scheduler.nowUs + Math.round(rng.uniform(0, 2 * o.params.crashMeanS) * 1e6);
    if (at >= o.endUs) return;
    const incarnation = m.incarnation;
    o.scheduler.at(at, () => {
      if (this.draining || !m.up || m.incarnation !== incarnation) return;
      this.#crash(m);
      m.restarting = true;
      const downUs = Math.round(rng.uniform(0, o.params.downMaxS) * 1e6);
      o.scheduler.after(downUs, () => {
        if (m.up) return;
        o.stats.restarts++;
        this.#startMachine(m);
        this.#scheduleCrash(m);
      });
    });
  }

  /**
   * The next pause of `m` (its process stopped, mostly for longer than a lease) or cut (its link
   * to NATS gone), then the one after it.
   */
  #schedule(m: SimMachine, what: "pause" | "cut"): void {
    const o = this.#options;
    const rng = o.faultRng;
    const ttlUs = o.lease.ttlMs * 1000;
    const at = o.scheduler.nowUs + Math.round(rng.uniform(0, 2 * o.lease.faultMeanS) * 1e6);
    if (at >= o.endUs) return;
    const lengthUs = Math.round(
      rng.chance(0.75) ? rng.uniform(1, 3) * ttlUs : rng.uniform(0.05, 1) * ttlUs,
    );
    o.scheduler.at(at, () => {
      if (this.draining) return;
      if (what === "pause") {
        if (!m.up || m.node!.paused) return this.#schedule(m, what);
        o.stats.pauses++;
        o.trace.line(`${m.id} pause ${(lengthUs / 1e6).toFixed(3)}s`);
        const node = m.node!;
        node.pause();
        this.#isolate(m, true);
        o.scheduler.after(lengthUs, () => {
          node.resume();
          if (m.node === node) this.#isolate(m, m.cut);
          o.trace.line(`${m.id} resume`);
          this.#schedule(m, what);
        });
      } else {
        if (m.cut) return this.#schedule(m, what);
        o.stats.cuts++;
        o.trace.line(`${m.id} cut from NATS ${(lengthUs / 1e6).toFixed(3)}s`);
        this.#setCut(m, true);
        o.scheduler.after(lengthUs, () => {
          this.#setCut(m, false);
          o.trace.line(`${m.id} reconnect`);
          this.#schedule(m, what);
        });
      }
    });
  }

  #setCut(m: SimMachine, cut: boolean): void {
    m.cut = cut;
    if (m.node) m.node.cut = cut;
    if (!m.node?.paused) this.#isolate(m, cut);
  }

  /** Cuts (or reconnects) every connection of `m`: its own and its partition hosts'. */
  #isolate(m: SimMachine, off: boolean): void {
    const bus = this.#options.bus;
    const names = [m.id, ...[...m.running.values()].map((r) => r.conn.name)];
    for (const name of names) off ? bus.isolate(name) : bus.heal(name);
  }

  // --- partition hosts ---------------------------------------------------------------------------

  /** Recovers partition `p` on machine `m` and starts it consuming, every write fenced. */
  async #startPartition(m: SimMachine, p: number, fence: LeaseFence): Promise<PartitionRunner> {
    const o = this.#options;
    const h = this.hosts[p]!;
    const node = m.node!;
    const incarnation = this.#starts[p] = (this.#starts[p] ?? 0) + 1;
    h.incarnation = incarnation;
    const timers = o.scheduler.timers();
    const paused = node.pausable(timers);
    const conn = o.bus.connect(`${h.id}@${m.id}`);
    if (m.cut || node.paused) o.bus.isolate(conn.name);
    const handle = h.disk.open(timers);
    const checked = this.#checkedJournal(m, h, fence, handle.journal);
    const journal = this.#options.unfenced ? checked : fence.journal(checked);
    const bus = this.#options.unfenced ? this.#checkedBus(m, h, fence, conn) : fence.bus(
      this.#checkedBus(m, h, fence, conn),
    );
    const host = new Host({
      hostId: h.id,
      bus,
      actors: o.hostActors,
      config: o.config,
      journal,
      snapshots: this.#options.unfenced ? handle.snapshots : fence.snapshots(handle.snapshots),
      partitions: { count: o.partitions, owned: [p] },
      input: simFeedInput(conn, {
        consumer: `${h.id}-${incarnation}`,
        timers: paused,
        trace: (l) => o.trace.line(l),
        keepsPositions: true,
        ...(this.#loseSeq === undefined || p !== 0 ? {} : { loseSeq: this.#loseSeq }),
      }),
      snapshotEveryInputs: o.params.snapshotEveryInputs,
      snapshotEveryMs: o.params.snapshotEveryMs,
      snapshotMinInputs: o.snapshotMinInputs,
      msgIdHeaders: true,
      now: node.wallMs,
      timers: paused,
      log: (msg) => o.trace.line(`${h.id}@${m.id} log ${msg}`),
      supervision: { failuresMax: 20 },
      frameDecoders: this.#frames.decoders,
      // The disks hold logged frames in place (SimDisk.inPlace), header and whole payload.
      journalEvenTimes: false,
      onFatal: (err) => m.leases?.failed(p, err),
    });
    const r: Running = { h, host, timers, conn, kill: handle.kill, incarnation, dead: false };
    m.running.set(p, r);
    Object.assign(h, { host, conn, timers, kill: handle.kill, up: true });
    fence.onLost((why) => host.fail(new Error(why)));
    o.trace.line(`${h.id} start #${incarnation} on ${m.id} epoch ${fence.epoch}`);
    try {
      await host.start();
    } catch (err) {
      this.#down(r);
      if (fence.lost === undefined && m.running.get(p) === r) {
        o.trace.violate("no_exception", `${h.id} start failed: ${(err as Error).stack ?? err}`);
      }
      throw err;
    }
    if (h.host === host) await o.watcher.started(h, incarnation);
    const done = () => {
      this.#down(r);
      if (m.running.get(p) === r) m.running.delete(p);
    };
    return {
      stop: async () => {
        await host.stop();
        done();
      },
      abandon: async () => {
        fence.lose(fence.lost ?? "dropped");
        await host.stop().catch(() => {});
        done();
      },
    };
  }

  /**
   * Takes a partition host down: its timers, connection and disk handle die with it. When it was
   * the partition's host as the checks see it (the one started last), that is now the latest
   * start of the partition still running on another machine, if any: starts on two machines
   * overlap while a lease changes hands, and the later one may be dropped first (a stale claim)
   * while the earlier goes on holding the partition.
   */
  #down(r: Running): void {
    r.dead = true;
    r.timers.cancelAll();
    r.conn.kill();
    r.kill();
    if (r.h.host !== r.host) return;
    let next: Running | undefined;
    for (const m of this.machines) {
      for (const x of m.running.values()) {
        if (x.h === r.h && !x.dead && (!next || x.incarnation > next.incarnation)) next = x;
      }
    }
    if (next) {
      const { host, conn, timers, kill, incarnation } = next;
      Object.assign(r.h, { host, conn, timers, kill, incarnation, up: true });
    } else {
      Object.assign(r.h, { host: undefined, conn: undefined, timers: undefined, up: false });
    }
  }

  /** The one-writer check on every append that reaches the partition's journal. */
  #checkedJournal(m: SimMachine, h: SimHost, fence: LeaseFence, journal: Journal): Journal {
    return {
      ...journal,
      append: (stream, data) => {
        // The journal is in NATS: cut off, the machine cannot append (the host retries).
        if (m.cut) {
          return Promise.reject(new Error(`Cannot append to ${stream}: NATS is unreachable`));
        }
        this.#oneWriter(m, h, fence, `appended to ${stream}`);
        return journal.append(stream, data);
      },
    };
  }

  /** The one-writer check on every output published. */
  #checkedBus(m: SimMachine, h: SimHost, fence: LeaseFence, conn: SimConnection): Bus {
    return {
      publish: (subject, data, options) => {
        this.#oneWriter(m, h, fence, `published on ${subject}`);
        conn.publish(subject, data, options);
      },
      subscribe: (pattern, handler, options) => conn.subscribe(pattern, handler, options),
      request: (subject, data, options) => conn.request(subject, data, options),
      flush: () => conn.flush(),
      close: () => conn.close(),
    };
  }

  #oneWriter(m: SimMachine, h: SimHost, fence: LeaseFence, what: string): void {
    const newest = this.kv.newestEpoch(h.index);
    if (fence.epoch < newest) {
      this.#options.trace.violate(
        "one_writer",
        `${m.id} ${what} for partition ${h.index} at epoch ${fence.epoch}, after epoch ` +
          `${newest} was claimed`,
      );
    }
  }

  // --- the run's view ----------------------------------------------------------------------------

  /** The partition host `key`'s instance lives on. */
  ownerOf(key: string): SimHost {
    return this.hosts[partitionOf(key, this.#options.partitions)]!;
  }

  /** The kind and key of instance `stream`, and the partition host that owns it (parsed once). */
  streamOwner(stream: string): StreamOwner {
    return this.#streams.of(stream);
  }

  /**
   * Whether every input the log holds is logged, every partition host ready, and every instance
   * has applied every input `inputs` (source positions by stream) says the log holds for it.
   */
  caughtUp(inputs: ReadonlyMap<string, readonly number[]>): boolean {
    const logged = this.#options.log.head >= this.#options.feed.count;
    return this.#streams.caughtUp(inputs, { logged, hosts: this.hosts });
  }

  /** The instances behind `inputs` (at most `max`), as `part-3 stats/BTC at 5 of 9`. */
  behind(inputs: ReadonlyMap<string, readonly number[]>, max = Infinity): string[] {
    return this.#streams.behind(inputs, max);
  }

  /** Faults stop: cuts heal, paused machines resume, crashed ones restart. */
  heal(): void {
    for (const m of this.machines) {
      if (m.cut) this.#setCut(m, false);
      if (!m.up && !m.restarting) this.#options.scheduler.after(0, () => this.#startMachine(m));
    }
  }

  /** Stops every machine cleanly (each hands its partitions off); whether all stopped in time. */
  async stopAll(): Promise<boolean> {
    const o = this.#options;
    this.#halted = true;
    const stopping = new Set<SimMachine>();
    for (const m of this.machines) {
      if (!m.up) continue;
      stopping.add(m);
      // A machine that exits while it stops (its first heartbeat failed) is down all the same.
      m.onDown = () => stopping.delete(m);
      o.trace.line(`${m.id} stop #${m.incarnation}`);
      const leases = m.leases!;
      leases.stop().then(
        () => {
          if (m.leases !== leases) return; // it exited meanwhile
          stopping.delete(m);
          m.onDown = undefined;
          m.timers!.cancelAll();
          m.node!.kill();
          m.conn!.kill();
          m.up = false;
          this.#tally(m);
          m.leases = undefined;
          o.trace.line(`${m.id} stopped #${m.incarnation}`);
        },
        (err) => {
          stopping.delete(m);
          o.trace.violate("no_exception", `${m.id} stop failed: ${(err as Error).stack ?? err}`);
        },
      );
    }
    await o.scheduler.run(o.scheduler.nowUs + 60_000_000, { stop: () => stopping.size === 0 });
    if (stopping.size > 0) {
      o.trace.violate("drains", `${stopping.size} machines did not stop within 60 virtual s`);
      return false;
    }
    return true;
  }

  /** Starts every machine again. */
  restartAll(): void {
    this.#halted = false;
    for (const m of this.machines) this.#options.scheduler.after(0, () => this.#startMachine(m));
  }

  /** Traces a digest of every partition host's progress and who holds what. */
  digest(): void {
    const parts: string[] = [];
    for (const h of this.hosts) {
      if (!h.host) {
        parts.push(`${h.id}=down`);
        continue;
      }
      const applied = [...h.host.applied.values()].reduce((a, b) => a + b, 0);
      parts.push(`${h.id}=${applied}`);
    }
    const held = this.machines.map((m) =>
      `${m.id}:${m.up ? (m.leases?.owned().join(",") ?? "") : "down"}`
    );
    this.#options.trace.line(
      `digest head=${this.#options.log.head} ${parts.join(" ")} ${held.join(" ")}`,
    );
  }
}
