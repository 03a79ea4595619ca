/**
 * Whether a cluster's leased hosts have taken what their feed stream holds: each partition's
 * input delivered through the stream's last sequence as it was when first looked at. A leased host
 * reads its feed from the stream and may run behind it; stopped then, it hands the frames it had
 * not read to the next owner, which is right for a cluster that goes on, but `troupe up` stops the
 * whole session: what its hosts never read, its recording holds without their outputs, and a
 * replay of it makes outputs the session never published. So up, once its feed has stopped, lets
 * the hosts take the rest first, for a bounded time.
 */
import type { InputSource, LeasedHost } from "../runtime/mod.ts";

/** How `feedTaken` waits. */
export interface FeedTakenOptions {
  /** The cluster's partitions: each must be held, and its input delivered through the stream. */
  partitions: number;
  /** Gives up after this long, ms. */
  maxMs: number;
  /**
   * Told every `everyMs` while frames are still to be taken: where it stands, and how long it
   * waited.
   */
  onWait?: (left: FeedLeft, waitedMs: number) => void;
  everyMs?: number;
}

/** What is still to be taken. */
export interface FeedLeft {
  /** Positions of the stream the furthest partition is behind. */
  behind: number;
  /** Partitions no host holds. */
  unheld: number;
}

/**
 * Waits until every partition is held and has been delivered its feed stream's last sequence (as
 * first looked at), or `maxMs`; resolves to what was still to be taken then (both 0: all taken).
 * A partition whose input has no positions (core NATS) has nothing to wait for.
 */
export async function feedTaken(
  hosts: readonly LeasedHost[],
  options: FeedTakenOptions,
): Promise<FeedLeft> {
  const targets = new Map<InputSource, number>();
  const t0 = performance.now();
  const every = options.everyMs ?? 5_000;
  let told = t0;
  for (;;) {
    let behind = 0;
    const held = new Set<number>();
    for (const host of hosts) {
      for (const [p, partition] of host.partitions) {
        held.add(p);
        const input = partition.options.input;
        if (!input?.lastPosition || !input.delivered) continue;
        let target = targets.get(input);
        if (target === undefined) {
          target = await input.lastPosition().catch(() => 0);
          targets.set(input, target);
        }
        behind = Math.max(behind, target - input.delivered());
      }
    }
    const left = { behind, unheld: Math.max(0, options.partitions - held.size) };
    const now = performance.now();
    if ((left.behind === 0 && left.unheld === 0) || now - t0 >= options.maxMs) return left;
    if (now - told >= every) {
      told = now;
      options.onWait?.(left, now - t0);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
