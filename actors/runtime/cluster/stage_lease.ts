/**
 * A stage that must run on exactly one host of a leased cluster (the incident stage: one fold of
 * every finding), kept by a lease of its own in the lease bucket, key `stage.<name>`, with the
 * partitions' code: a claim is a compare-and-set create, every heartbeat renews it at its revision,
 * and the writer stops a quarter of the TTL before the server could let another host claim it
 * (lease_fence.ts). A host that does not hold it looks every heartbeat and claims it once it is
 * free: when its holder released it (a clean stop hands it off at once) or its key expired (the
 * holder died: a takeover). A renewal refused (the key moved on) drops the stage at once, writing
 * nothing more. The stores, the timers and the clocks are passed in.
 */
import type { Registry } from "prom-client";
import type { HeldStageLease, StageLeaseStore } from "./lease_bucket.ts";
import { scrapedLabelled } from "../operations/mod.ts";
import { describeError } from "../operations/mod.ts";
import { type HostTimers, REAL_TIMERS } from "../instances/mod.ts";
import { LeaseFence } from "./lease_fence.ts";

/** The stage at work on this host. */
export interface StageRunner {
  /** Stops taking input, saves its state (a handoff, or the host stopping). */
  stop(): Promise<void>;
  /** Stops at once, writing nothing more (the lease is lost). */
  abandon(): Promise<void>;
}

/** Options of `StageLeaseKeeper`. */
export interface StageLeaseKeeperOptions {
  /** The stage's name: its key is `stage.<name>`. */
  stage: string;
  hostId: string;
  bucket: StageLeaseStore;
  /** Milliseconds between heartbeats (renewals, and looks for a free lease). */
  heartbeatMs: number;
  /** Recovers the stage and starts it, writing while `fence` is fresh. */
  start(fence: LeaseFence): Promise<StageRunner>;
  log(message: string): void;
  /** Wall clock, ms since the Unix epoch (shown in the bucket). Default `Date.now`. */
  now?: () => number;
  /** Monotonic clock, ms: the lease's deadline. Default `performance.now`. */
  clock?: () => number;
  timers?: HostTimers;
}

/** What the keeper holds now. */
interface Holding {
  held: HeldStageLease;
  fence: LeaseFence;
  runner: Promise<StageRunner | undefined>;
}

/** Keeps one stage's lease for this host: claims it when free, renews it, hands it off. */
export class StageLeaseKeeper {
  readonly #options: StageLeaseKeeperOptions;
  readonly #timers: HostTimers;
  readonly #clock: () => number;
  #holding: Holding | undefined;
  #timer: unknown;
  #beat: Promise<void> = Promise.resolve();
  #stopped = false;
  /** The last holder seen that is not this host (a claim after it expired is a takeover). */
  #seen: string | undefined;
  /** Claims of a lease whose holder's key expired, and claims in all. */
  readonly counts = { takeovers: 0, claimed: 0 };

  constructor(options: StageLeaseKeeperOptions) {
    this.#options = options;
    this.#timers = options.timers ?? REAL_TIMERS;
    this.#clock = options.clock ?? (() => performance.now());
  }

  /** Whether this host runs the stage now. */
  holds(): boolean {
    return this.#holding !== undefined && this.#holding.fence.lost === undefined;
  }

  /** Starts the heartbeat; the first look is at once. */
  start(): void {
    this.#schedule(0);
  }

  /** Stops the heartbeat; a stage held is stopped (its state saved) and its lease released. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timers.clearTimeout(this.#timer);
    await this.#beat;
    const h = this.#holding;
    if (!h) return;
    this.#holding = undefined;
    const runner = await h.runner;
    await runner?.stop().catch((err) => this.#options.log(`stopping: ${describeError(err)}`));
    if (h.fence.lost !== undefined) return;
    const released = await this.#options.bucket.releaseStage(h.held).catch((err) => {
      this.#options.log(`cannot release its lease: ${describeError(err)}; it expires on its own`);
      return false;
    });
    if (released) this.#options.log(`released (epoch ${h.held.lease.epoch}): handed off`);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = this.#timers.setTimeout(() => {
      this.#beat = this.#heartbeat().catch((err) =>
        this.#options.log(`lease heartbeat: ${describeError(err)}`)
      ).finally(() => this.#schedule(this.#options.heartbeatMs));
    }, ms);
  }

  async #heartbeat(): Promise<void> {
    const h = this.#holding;
    if (h) return await this.#renew(h);
    const current = await this.#options.bucket.stageLease(this.#options.stage);
    if (current) {
      if (current.lease.owner !== this.#options.hostId) this.#seen = current.lease.owner;
      return;
    }
    await this.#claim();
  }

  async #claim(): Promise<void> {
    const sent = this.#clock();
    const held = await this.#options.bucket.claimStage(
      this.#options.stage,
      this.#options.hostId,
      this.#wall(),
    );
    if (!held || this.#stopped) {
      if (held) await this.#options.bucket.releaseStage(held).catch(() => false);
      return; // another host won the race, or this one is stopping
    }
    const ttl = this.#options.bucket.ttlMs;
    const fence = new LeaseFence(-1, {
      epoch: held.lease.epoch,
      deadlineMs: sent + ttl * 0.75,
      clock: this.#clock,
      name: `stage ${this.#options.stage}`,
    });
    const taken = this.#seen !== undefined;
    if (taken) this.counts.takeovers++;
    this.counts.claimed++;
    this.#options.log(
      `claimed (epoch ${held.lease.epoch}${
        taken ? `, lease of ${this.#seen} expired or released` : ""
      }); recovering`,
    );
    const holding: Holding = { held, fence, runner: Promise.resolve(undefined) };
    this.#holding = holding;
    // Recovery goes on in the background, while the heartbeats renew the lease.
    holding.runner = this.#options.start(fence).catch(async (err) => {
      this.#options.log(`cannot start: ${describeError(err)}; releasing its lease`);
      if (this.#holding === holding) this.#holding = undefined;
      await this.#options.bucket.releaseStage(holding.held).catch(() => false);
      return undefined;
    });
    fence.onLost((why) => void this.#drop(holding, why));
  }

  async #renew(h: Holding): Promise<void> {
    const sent = this.#clock();
    let renewed: HeldStageLease | undefined | null;
    try {
      renewed = await this.#options.bucket.renewStage(h.held, this.#wall());
    } catch (err) {
      // NATS unreachable: the fence runs out on its own unless a later renewal is stored.
      this.#options.log(`cannot renew its lease: ${describeError(err)}`);
      renewed = null;
    }
    if (renewed === undefined) {
      h.fence.lose(`lease of stage ${this.#options.stage} moved on: another host holds it`);
    } else if (renewed !== null && this.#holding === h) {
      h.held = renewed;
      h.fence.renewed(sent + this.#options.bucket.ttlMs * 0.75);
    }
    h.fence.fresh(); // past its deadline: lost, and dropped
  }

  /** The lease is lost: the stage stops at once, writing nothing more. */
  async #drop(h: Holding, why: string): Promise<void> {
    if (this.#holding === h) this.#holding = undefined;
    this.#options.log(`lost: ${why}; stopped`);
    const runner = await h.runner;
    await runner?.abandon().catch(() => {});
  }

  #wall(): number {
    return (this.#options.now ?? Date.now)();
  }
}

/**
 * Registers a keeper's state on a host's /metrics, in the partition leases' style, labelled by
 * stage: whether this host runs it, its claims, and its takeovers (claims after the holder's
 * lease expired or was released: the stage moved here).
 */
export function registerStageLeaseMetrics(
  registry: Registry,
  keeper: StageLeaseKeeper,
  stage: string,
): void {
  const metric = (kind: "gauge" | "counter", name: string, help: string, read: () => number) =>
    scrapedLabelled(registry, kind, { name, help, label: "stage", read: () => [[stage, read()]] });
  metric(
    "gauge",
    "troupe_stage_held",
    "1 when this host runs the stage",
    () => keeper.holds() ? 1 : 0,
  );
  metric(
    "counter",
    "troupe_stage_claims_total",
    "Stage leases claimed",
    () => keeper.counts.claimed,
  );
  metric(
    "counter",
    "troupe_stage_takeovers_total",
    "Stage leases claimed after their holder's expired or was released",
    () => keeper.counts.takeovers,
  );
}
