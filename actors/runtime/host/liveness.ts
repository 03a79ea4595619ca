/**
 * Whether a host can do its work, as `/healthz` tells it: ready (recovered), connected to NATS,
 * its input flowing, its mailboxes draining, no instance stopped. Each check gives a one-line
 * reason when it fails, so that a 503 says why; a host is healthy when no check has one.
 */
import type { HostMetrics } from "../operations/mod.ts";
import type { Journal } from "../journal/mod.ts";
import type { Status } from "../instances/mod.ts";
import type { StuckStep } from "./step_trials.ts";
import type { GaugeSlots } from "./gauge_slots.ts";

/** A host's health. */
export interface HostHealth {
  ok: boolean;
  ready: boolean;
  /** Why the host is not healthy, one line each; empty when it is. */
  reasons: string[];
  instances: Record<Status, number>;
  /** The channels admitted, the limit, and how many more fit (a threaded host's: summed). */
  channels?: ChannelRoom;
  /**
   * The steps running past STUCK_AFTER_MS on the trials thread (step_trials.ts): named, not a
   * reason, as the host serves meanwhile and the step's deadline ends it.
   */
  stuck?: StuckStep[];
}

/** A host's channels against its limit. */
export interface ChannelRoom {
  admitted: number;
  max: number;
  /** How many more channels the host admits: `max - admitted`, at least 0. */
  free: number;
}

/** A check: a reason (one line) while the host cannot do its work, else undefined. */
export type LivenessCheck = () => string | undefined;

/** The part of a NATS connection's state a check reads. */
export interface ConnectionState {
  connected: boolean;
  server: string;
  sinceMs: number;
}

/** Fails while the NATS connection is down, naming the server and for how long. */
export function natsLiveness(
  state: () => ConnectionState,
  nowMs: () => number = Date.now,
): LivenessCheck {
  return () => {
    const s = state();
    if (s.connected) return undefined;
    const forS = Math.max(0, (nowMs() - s.sinceMs) / 1000);
    return `disconnected from NATS at ${s.server} for ${forS.toFixed(1)} s`;
  };
}

/** Seconds without progress after which inputs waiting in mailboxes count as stalled. */
export const STALL_S = 3;

/**
 * Watches the inputs waiting in a host's mailboxes: stalled when some wait and none was applied
 * for `STALL_S` seconds (a journal that no longer takes appends, an instance that never comes
 * back). Fed by the host's periodic tick, so it costs nothing per input.
 */
export class ProgressWatch {
  #applied = -1;
  #sinceMs = 0;
  #waiting = 0;

  /** Records the inputs waiting and the inputs applied so far, at `nowMs`. */
  observe(waiting: number, applied: number, nowMs: number): void {
    this.#waiting = waiting;
    if (applied !== this.#applied || waiting === 0) {
      this.#applied = applied;
      this.#sinceMs = nowMs;
    }
  }

  /** The reason, while stalled. */
  problem(nowMs: number): string | undefined {
    if (this.#waiting === 0) return undefined;
    const forS = (nowMs - this.#sinceMs) / 1000;
    if (forS < STALL_S) return undefined;
    return `inputs stalled: ${this.#waiting} waiting in mailboxes, none applied for ${
      forS.toFixed(1)
    } s`;
  }
}

/** Counts instances by status. */
export function countByStatus(slots: Iterable<{ status: Status }>): Record<Status, number> {
  const counts: Record<Status, number> = { recovering: 0, running: 0, backoff: 0, stopped: 0 };
  for (const slot of slots) counts[slot.status]++;
  return counts;
}

/** What a host's health is made of. */
export interface HealthParts {
  /** The instances by status (countByStatus). */
  instances: Record<Status, number>;
  ready: boolean;
  closing: boolean;
  /** The error that stopped the host, if one did. */
  fatal: Error | undefined;
  checks: readonly LivenessCheck[];
  /** The input's reason, if it has one. */
  input: string | undefined;
  /** The mailboxes' reason (ProgressWatch), if they have one. */
  progress: string | undefined;
  /** The input's recent silent loss (SequenceGaps), if any. */
  loss?: string | undefined;
  /** The channels admitted and the limit. */
  channels?: { admitted: number; max: number };
  /** The steps running long on the trials thread. */
  stuck?: StuckStep[];
}

/** A host's health from its parts: ok when no part gives a reason. */
export function hostHealth(p: HealthParts): HostHealth {
  const instances = p.instances;
  const reasons: string[] = [];
  if (p.fatal) reasons.push(`stopped: ${p.fatal.message}`);
  else if (!p.ready) reasons.push(p.closing ? "stopping" : "starting: recovering actor instances");
  if (instances.stopped > 0) {
    reasons.push(`${instances.stopped} actor instances stopped after repeated failures`);
  }
  for (const check of p.checks) {
    const reason = check();
    if (reason !== undefined) reasons.push(reason);
  }
  if (p.input !== undefined) reasons.push(p.input);
  if (p.progress !== undefined) reasons.push(p.progress);
  if (p.loss !== undefined) reasons.push(p.loss);
  const health: HostHealth = {
    ok: reasons.length === 0,
    ready: p.ready,
    reasons,
    instances,
    stuck: p.stuck ?? [],
  };
  if (p.channels !== undefined) health.channels = channelRoom(p.channels);
  return health;
}

/** The room of channels `admitted` under a limit of `max`: how many more fit, at least 0. */
export function channelRoom(c: { admitted: number; max: number }): ChannelRoom {
  return { admitted: c.admitted, max: c.max, free: Math.max(0, c.max - c.admitted) };
}

/**
 * Brings a host's gauges up to date: journal bytes, mailbox depth, health, and each kind's lag
 * (the age of its oldest input waiting, from its arrival at the host; 0 when none waits).
 * Returns the inputs waiting. It runs every second, so it looks only at the slots `slots` holds
 * as maybe waiting or maybe other than running (gauge_slots.ts), not at every instance (tens of
 * thousands on a host of many channels); a slot looked at with nothing waiting leaves the set.
 */
export function refreshGauges(
  metrics: HostMetrics,
  journal: Journal,
  slots: GaugeSlots,
  health: (instances: Record<Status, number>) => HostHealth,
): number {
  metrics.journalBytes.set(journal.stats().bytes);
  const now = performance.now();
  const oldest = new Map<string, number>();
  for (const [kind, n] of slots.all.kinds) if (n > 0) oldest.set(kind, now);
  let depth = 0;
  for (const slot of slots.waiting) {
    const waiting = slot.mailbox.length - slot.head;
    // A slot no longer the host's is not counted (its replacement is, when it has one).
    if (waiting === 0 || slots.all.get(slot.stream) !== slot) {
      slots.waiting.delete(slot);
      continue;
    }
    depth += waiting;
    const kind = slot.def.kind, at = slot.mailbox[slot.head]!.arrivedMs;
    if (at < (oldest.get(kind) ?? now)) oldest.set(kind, at);
  }
  for (const [k, at] of oldest) metrics.lag.set({ kind: k }, (now - at) / 1000);
  metrics.mailbox.set(depth);
  metrics.healthy.set(health(slots.countByStatus()).ok ? 1 : 0);
  return depth;
}
