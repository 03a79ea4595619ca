/**
 * Whether a host can do its work, as `/healthz` tells it: ready (recovered), connected to NATS,
 * its input flowing, its mailboxes draining, no instance stopped. Each check gives a one-line
 * reason when it fails, so that a 503 says why; a host is healthy when no check has one.
 */
import type { Status } from "./_slot.ts";

/** A host's health. */
export interface HostHealth {
  ok: boolean;
  ready: boolean;
  /** Why the host is not healthy, one line each; empty when it is. */
  reasons: string[];
  instances: Record<Status, number>;
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
export function countByStatus(statuses: Iterable<Status>): Record<Status, number> {
  const counts: Record<Status, number> = { recovering: 0, running: 0, backoff: 0, stopped: 0 };
  for (const s of statuses) counts[s]++;
  return counts;
}
