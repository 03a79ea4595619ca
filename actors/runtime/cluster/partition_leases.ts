/**
 * A host's share of a cluster's partitions, kept by lease (lease_bucket.ts). Every heartbeat the
 * host renews its presence and its leases, looks at the live hosts and the leases, and moves
 * toward the even share every host computes alike (lease_assignment.ts):
 * - a partition of its share that no one holds, it claims (a takeover when the holder's lease
 *   expired), recovers from the journal and snapshots and starts consuming;
 * - a partition it holds that the share gives to another live host, it hands off: stops consuming,
 *   flushes, snapshots, then releases the lease, so the new owner starts only after the old one
 *   stopped writing (never two writers);
 * - a lease it could not renew in time is lost (lease_fence.ts): the partition stops at once,
 *   without a flush, since another host may own it already.
 * Each change is announced on `troupe.sys.partition.<what>`.
 * The decisions are the same wherever the bucket lives: the store, the timers and the monotonic
 * clock are passed in (a real host: NATS KV, the runtime's timers, `performance.now`; the
 * simulator: an in-memory KV on virtual time, each host's timers and drifting clock).
 */
import {
  type Bus,
  type BusSubscription,
  encodePartitionEvent,
  type PartitionEventKind,
  partitionEventSubject,
} from "../../../protocol/mod.ts";
import { describeError } from "../operations/mod.ts";
import { assignPartitions } from "./lease_assignment.ts";
import type { HeldLease, LeaseStore, LeaseView } from "./lease_bucket.ts";
import { type HostTimers, REAL_TIMERS } from "../instances/mod.ts";
import { LeaseFence } from "./lease_fence.ts";
import { ColdStartSettle } from "./cold_start_settle.ts";

/** The longest time between looks at the cluster, ms. */
export const LOOK_MS_MAX = 500;

/** A partition at work on this host. */
export interface PartitionRunner {
  /** Stops consuming, flushes and snapshots (a handoff, or the host stopping). */
  stop(): Promise<void>;
  /** Stops at once, writing nothing more (the lease is lost). */
  abandon(): Promise<void>;
}

/** Options of `PartitionLeases`. */
export interface PartitionLeasesOptions {
  hostId: string;
  /** The number of partitions. */
  count: number;
  bucket: LeaseStore;
  /** Milliseconds between heartbeats (renewals and looks at the cluster). */
  heartbeatMs: number;
  /**
   * Milliseconds between looks at the cluster (handoffs and claims): the heartbeat, at most
   * LOOK_MS_MAX, so that a host joining gets its share within a couple of looks whatever the TTL.
   */
  lookMs?: number;
  /**
   * On a cold start (no partition held anywhere), the first claims wait until the live hosts seen
   * have stayed the same this long (cold_start_settle.ts): hosts started together then claim their
   * own shares, not one host every partition. 0 or absent: no wait.
   */
  settleMs?: number;
  /** Where ownership changes are announced. */
  bus: Bus;
  /** Recovers a partition and starts it consuming, writing while `fence` is fresh. */
  start(partition: number, fence: LeaseFence): Promise<PartitionRunner>;
  log(message: string): void;
  /** The port of /healthz and /metrics, for `troupe status`. */
  httpPort?: () => number | undefined;
  /** Wall clock, ms since the Unix epoch (for what the bucket shows, never for deadlines). */
  now?: () => number;
  /** Monotonic clock, ms: lease deadlines. Default `performance.now`. */
  clock?: () => number;
  /** The heartbeat's timers. Default the runtime's. */
  timers?: HostTimers;
}

/** A partition this host holds. */
interface Owned {
  held: HeldLease;
  fence: LeaseFence;
  runner: Promise<PartitionRunner | undefined>;
  /** When the claim was stored (monotonic ms). */
  sinceMs: number;
  /** Set while it is handed off or dropped. */
  leaving?: Promise<void>;
  /** Set once its runner stopped, as its release is sent: no more renewals. */
  releasing?: boolean;
  /** A renewal in flight, which a release waits for (it names the revision). */
  renewing?: Promise<void> | undefined;
}

/** Counts of ownership changes, for /metrics. */
export interface LeaseCounts {
  claimed: number;
  takeovers: number;
  released: number;
  lost: number;
}

/** What a handoff finds of a partition whose start has not finished. */
const RECOVERING = Symbol("recovering");

/** Keeps a host's share of the partitions by lease. */
export class PartitionLeases {
  readonly #options: PartitionLeasesOptions;
  readonly #owned = new Map<number, Owned>();
  readonly counts: LeaseCounts = { claimed: 0, takeovers: 0, released: 0, lost: 0 };
  /** Writes refused by fences of partitions since dropped. */
  #refusedBefore = 0;
  readonly #startedMs: number;
  readonly #timers: Record<"renew" | "look", unknown> = {
    renew: undefined,
    look: undefined,
  };
  readonly #ticking: Record<"renew" | "look", Promise<void> | undefined> = {
    renew: undefined,
    look: undefined,
  };
  #stopping = false;
  /** Set once every partition is handed off: the renewals end. */
  #left = false;
  /** The holders seen at the last look, to tell a takeover from a claim of a released lease. */
  #seen = new Map<number, string>();
  #released: BusSubscription | undefined;
  /** The last look at the bucket. */
  view: LeaseView | undefined;
  readonly #settle: ColdStartSettle;
  /** When the last heartbeat was stored (monotonic ms). */
  lastBeatMs = 0;

  readonly #clock: () => number;
  readonly #setTimeout: HostTimers["setTimeout"];
  readonly #clearTimeout: HostTimers["clearTimeout"];

  constructor(options: PartitionLeasesOptions) {
    this.#options = options;
    this.#startedMs = this.#wall();
    this.#clock = options.clock ?? (() => performance.now());
    const timers = options.timers ?? REAL_TIMERS;
    this.#setTimeout = (fn, ms) => timers.setTimeout(fn, ms);
    this.#clearTimeout = (h) => timers.clearTimeout(h);
    // A cold start waits at most half the TTL: its claims and recoveries must fit in the TTL.
    this.#settle = new ColdStartSettle(options.settleMs ?? 0, options.bucket.ttlMs / 2);
  }

  #wall(): number {
    return this.#options.now?.() ?? Date.now();
  }

  /** The partitions held, ascending. */
  owned(): number[] {
    return [...this.#owned.keys()].sort((a, b) => a - b);
  }

  /** Each held partition's epoch and ms left on its lease. */
  leases(): Array<{ partition: number; epoch: number; leftMs: number; ageMs: number }> {
    const now = this.#clock();
    return this.owned().map((p) => {
      const o = this.#owned.get(p)!;
      return {
        partition: p,
        epoch: o.fence.epoch,
        leftMs: o.fence.leftMs(),
        ageMs: now - o.sinceMs,
      };
    });
  }

  /** Writes refused by fences (appends, publishes, snapshots after a lease was lost). */
  refused(): number {
    let n = this.#refusedBefore;
    for (const o of this.#owned.values()) n += o.fence.refused;
    return n;
  }

  /**
   * Joins the cluster: a first heartbeat (claims included), then renewals every `heartbeatMs` and,
   * on a loop of its own (so that a slow look at the cluster never delays a renewal), a look at
   * the cluster, handoffs and claims.
   */
  async start(): Promise<void> {
    await this.#renewBeat();
    await this.#look();
    this.#loop("renew", () => this.#renewBeat(), this.#options.heartbeatMs);
    this.#loop("look", () => this.#look(), this.#lookMs());
    // A partition released elsewhere is claimed at once, not at the next look.
    this.#released = this.#options.bus.subscribe(partitionEventSubject("released"), () => {
      if (this.#ticking.look || this.#stopping) return;
      this.#clearTimeout(this.#timers.look);
      this.#loop("look", () => this.#look(), 0);
    });
  }

  #lookMs(): number {
    return this.#options.lookMs ?? Math.min(this.#options.heartbeatMs, LOOK_MS_MAX);
  }

  #loop(name: "renew" | "look", beat: () => Promise<void>, delayMs: number): void {
    // The looks end as the host stops; the renewals go on until its partitions are handed off,
    // however long their flushes take.
    if (name === "look" ? this.#stopping : this.#left) return;
    this.#timers[name] = this.#setTimeout(() => {
      this.#ticking[name] = beat().catch((err) =>
        this.#options.log(`leases: ${name} failed: ${describeError(err)}`)
      ).finally(() => {
        this.#ticking[name] = undefined;
        this.#loop(name, beat, name === "renew" ? this.#options.heartbeatMs : this.#lookMs());
      });
    }, delayMs);
  }

  /** Leaves the cluster: every partition handed off (flushed, snapshotted, released). */
  async stop(reason = "the host stops"): Promise<void> {
    this.#stopping = true;
    this.#released?.unsubscribe();
    this.#clearTimeout(this.#timers.look);
    await this.#ticking.look;
    const handoffs = Promise.all(this.owned().map((p) => this.#handOff(p, reason)));
    // Renewals go on while the partitions flush.
    await handoffs;
    this.#left = true;
    this.#clearTimeout(this.#timers.renew);
    await this.#ticking.renew;
    await this.#options.bucket.leave(this.#options.hostId).catch(() => {});
  }

  /** Drops a partition whose host failed (its journal cannot be written): released if held. */
  failed(partition: number, err: unknown): void {
    const o = this.#owned.get(partition);
    if (!o || o.leaving) return;
    this.#options.log(`partition ${partition}: ${describeError(err)}; letting it go`);
    o.fence.lose(describeError(err));
    o.leaving = this.#drop(partition, o, "lost", describeError(err)).then(() =>
      this.#options.bucket.release(o.held).then(() => {}, () => {})
    );
  }

  /** Renews the host's presence and every lease it holds. */
  async #renewBeat(): Promise<void> {
    const sent = this.#clock();
    await Promise.all([
      this.#options.bucket.present({
        host: this.#options.hostId,
        startedMs: this.#startedMs,
        renewedMs: this.#wall(),
        ...(this.#options.httpPort?.() === undefined
          ? {}
          : { httpPort: this.#options.httpPort!()! }),
      }).then(() => (this.lastBeatMs = sent)),
      this.#renewAll(),
    ]);
  }

  /** Looks at the cluster: hands off what the share gives to others, claims what is free. */
  async #look(): Promise<void> {
    if (this.#stopping) return;
    const view = await this.#options.bucket.view();
    this.view = view;
    for (const d of view.damaged) this.#options.log(`leases: ${d.key} unreadable (${d.reason})`);
    const live = [...new Set([...view.hosts.map((h) => h.host), this.#options.hostId])];
    const share = assignPartitions(this.#options.count, live);
    const moves: Promise<void>[] = [];
    for (const p of this.owned()) {
      const to = share[p];
      if (to !== this.#options.hostId && to !== undefined) {
        moves.push(this.#handOff(p, `rebalance to ${to}`));
      }
    }
    // Handoffs go on in the background, renewed until released: a slow flush delays no renewal.
    void moves;
    const claims: Promise<void>[] = [];
    const settled = this.#settled(view, live);
    for (let p = 0; p < this.#options.count && settled; p++) {
      if (share[p] === this.#options.hostId && !this.#owned.has(p) && !view.leases.has(p)) {
        claims.push(this.#claim(p));
      }
    }
    await Promise.all(claims);
    this.#seen = new Map([...view.leases].map(([p, h]) => [p, h.lease.owner]));
  }

  /** Whether claims may be made at this look (a cold start's settle is over). */
  #settled(view: LeaseView, live: string[]): boolean {
    if (this.#settle.done) return true;
    const decision = this.#settle.look(view, live, this.#clock());
    if (!decision.claim) {
      if (decision.first) {
        this.#options.log(
          `leases: cold start (no partition held): waiting ${this.#options.settleMs} ms ` +
            `for hosts started with this one`,
        );
      }
      return false;
    }
    if (decision.waitedMs !== undefined) {
      this.#options.log(
        `leases: cold start: ${decision.hosts} host(s) seen after ` +
          `${Math.round(decision.waitedMs)} ms; claiming this host's share`,
      );
    }
    return true;
  }

  async #renewAll(): Promise<void> {
    const ttl = this.#options.bucket.ttlMs;
    await Promise.all([...this.#owned].map(([p, o]) => {
      if (o.releasing || o.fence.lost !== undefined) return;
      if (!o.fence.fresh()) {
        if (!o.leaving) o.leaving = this.#drop(p, o, "lost", o.fence.lost ?? "expired");
        return;
      }
      o.renewing = this.#renew(p, o, ttl).finally(() => (o.renewing = undefined));
      return o.renewing;
    }));
  }

  async #renew(p: number, o: Owned, ttl: number): Promise<void> {
    const sent = this.#clock();
    let renewed: HeldLease | undefined | null;
    try {
      renewed = await this.#options.bucket.renew(o.held, this.#wall());
    } catch (err) {
      // NATS unreachable: the fence runs out on its own unless a later renewal is stored.
      this.#options.log(`partition ${p}: cannot renew its lease: ${describeError(err)}`);
      renewed = null;
    }
    if (renewed === undefined) {
      o.fence.lose(
        `lease of partition ${p} (epoch ${o.fence.epoch}) moved on: another host holds it`,
      );
      if (!o.leaving) o.leaving = this.#drop(p, o, "lost", o.fence.lost!);
    } else if (renewed !== null) {
      o.held = renewed;
      // Stop writing a quarter of the TTL before the server could let another host claim it.
      o.fence.renewed(sent + ttl * 0.75);
    }
  }

  async #claim(p: number): Promise<void> {
    const was = await this.#options.bucket.state(p);
    const sent = this.#clock();
    const held = await this.#options.bucket.claim(p, this.#options.hostId, this.#wall());
    if (!held) return; // another host won the race
    const prev = this.#seen.get(p);
    const what: PartitionEventKind =
      was === "free" && prev !== undefined && prev !== this.#options.hostId ? "taken" : "claimed";
    const reason = what === "taken"
      ? `lease of ${prev} expired`
      : `share of ${this.#options.hostId}`;
    const fence = new LeaseFence(p, {
      epoch: held.lease.epoch,
      deadlineMs: sent + this.#options.bucket.ttlMs * 0.75,
      clock: this.#clock,
    });
    const o: Owned = { held, fence, runner: Promise.resolve(undefined), sinceMs: sent };
    this.#owned.set(p, o);
    if (what === "taken") this.counts.takeovers++;
    this.counts.claimed++;
    this.#options.log(`partition ${p}: ${what} (epoch ${held.lease.epoch}, ${reason}); recovering`);
    this.#announce(what, p, held.lease.epoch, reason);
    // Recovery goes on in the background: the heartbeats (this partition's renewals) go on.
    o.runner = this.#options.start(p, fence).catch((err) => {
      // A recovery this claim's own end stopped (a handoff, a lost lease) failed nothing, and a
      // later claim of the partition is not this one.
      if (this.#owned.get(p) === o) this.failed(p, err);
      return undefined;
    });
  }

  /** Stops a partition gracefully, then releases its lease. */
  #handOff(p: number, reason: string): Promise<void> {
    const o = this.#owned.get(p);
    if (!o) return Promise.resolve();
    if (o.leaving) return o.leaving;
    o.leaving = (async () => {
      // A partition still recovering has nothing to flush: it is let go now, not after its
      // recovery, which may wait out a leader election for longer than a stopping host has (a
      // SIGTERM handoff in the 3-node cluster test waited so). Its fence is lost first, so the
      // recovery writes nothing and stops at its next step (its host failed); then abandoned.
      const runner = await Promise.race([o.runner, Promise.resolve(RECOVERING)]);
      if (runner === RECOVERING) {
        o.fence.lose(`partition ${p} released while recovering (${reason})`);
        void o.runner.then((r) => r?.abandon()).catch(() => {});
      } else {
        await runner?.stop().catch((err) =>
          this.#options.log(`partition ${p}: stopping: ${describeError(err)}`)
        );
      }
      // Nothing more is written under this lease, whatever is still on its way out.
      o.fence.lose(`partition ${p} released (${reason})`);
      o.releasing = true;
      await o.renewing;
      const released = await this.#options.bucket.release(o.held).catch(() => false);
      this.#forget(p, o);
      if (released) {
        this.counts.released++;
        this.#options.log(`partition ${p}: released (${reason})`);
        this.#announce("released", p, o.fence.epoch, reason);
      }
    })();
    return o.leaving;
  }

  /** Stops a partition whose lease is lost: nothing more is written for it. */
  async #drop(p: number, o: Owned, what: "lost", reason: string): Promise<void> {
    this.counts.lost++;
    this.#options.log(`partition ${p}: ${what}: ${reason}; stopped writing it`);
    const runner = await o.runner;
    await runner?.abandon().catch(() => {});
    this.#forget(p, o);
    this.#announce(what, p, o.fence.epoch, reason);
  }

  #forget(p: number, o: Owned): void {
    if (this.#owned.get(p) !== o) return;
    this.#owned.delete(p);
    this.#refusedBefore += o.fence.refused;
  }

  #announce(what: PartitionEventKind, partition: number, epoch: number, reason: string): void {
    try {
      this.#options.bus.publish(
        partitionEventSubject(what),
        encodePartitionEvent({
          what,
          partition,
          host: this.#options.hostId,
          epoch,
          reason,
          ts: Math.round(this.#wall() * 1000),
        }),
      );
    } catch (err) {
      this.#options.log(
        `leases: cannot announce ${what} of partition ${partition}: ${describeError(err)}`,
      );
    }
  }
}
