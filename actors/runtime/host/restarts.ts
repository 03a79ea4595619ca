/**
 * What a host does with an instance that failed, once supervision.ts has decided: a stopped
 * instance is counted, logged and reported on `troupe.sys.actor.stopped`; one to rebuild goes into
 * backoff (the inputs already waiting for it are journaled now, like those that arrive meanwhile),
 * is rebuilt from its snapshot and journal after the delay, and is reported on
 * `troupe.sys.actor.restarted` once it runs again. An instance whose journal stream met another
 * writer fails the same way, its stream reloaded first (`onJournalConflict`).
 */
import type { HostMetrics } from "../operations/mod.ts";
import type { HostNotices } from "./host_notices.ts";
import {
  ApplyError,
  type HostTimers,
  type Pending,
  recordFailure,
  type Slot,
  type SupervisionOptions,
} from "../instances/mod.ts";
import type { JournalConflictError } from "../journal/mod.ts";

/** What applying a failure needs of its host. */
export interface RestartParts {
  supervision: SupervisionOptions;
  now: () => number;
  timers: HostTimers;
  metrics: HostMetrics;
  notices: HostNotices;
  log: (message: string) => void;
  /** Journals an input waiting in a mailbox while its instance is down. */
  journalWaiting(slot: Slot, item: Pending): void;
  /** Rebuilds the slot's instance from its snapshot and journal. */
  rebuild(slot: Slot): Promise<void>;
  /** The slot's status was set other than running (the gauges count it: gauge_slots.ts). */
  statusMoved(slot: Slot): void;
  /** Reloads a journal stream's tail after another writer appended (Journal.prepare). */
  reload(stream: string): Promise<unknown>;
}

/**
 * Fences an instance whose journal append met another writer (a JournalConflictError): the
 * instance lacks what the other wrote, so it must neither append on blindly nor retry against
 * the refusal. Its stream's tail is reloaded at once (what is journaled while it waits goes after
 * the other writer's records), and the instance fails through supervision: rebuilt from its
 * snapshot and the journal after the backoff, the other writer's inputs folded in (an input both
 * journaled is applied once, by its id), or stopped and reported when conflicts keep coming (a
 * second live writer). A host that holds its partitions by lease drops the partition instead
 * (lease_fence.ts), and never gets here.
 */
export function onJournalConflict(slot: Slot, err: JournalConflictError, p: RestartParts): void {
  p.metrics.journalConflicts.inc({ kind: slot.def.kind });
  p.log(
    `${slot.stream}: another writer appended to its journal; its state may be stale, so it is ` +
      `rebuilt from the journal`,
  );
  slot.journalStale = true;
  p.reload(slot.stream).catch(() => {}); // the rebuild reloads it again if this fails
  onInstanceFailed(slot, err, -1, p);
}

/** Stops or schedules the rebuild of `slot`, whose instance failed with `err` at `pos`. */
export function onInstanceFailed(slot: Slot, err: unknown, pos: number, p: RestartParts): void {
  const input = err instanceof ApplyError ? err.pos : undefined;
  const decision = recordFailure(slot, { pos, nowMs: p.now(), input }, p.supervision);
  slot.awake?.stop(); // a dormant instance has nothing to stop
  slot.inst = undefined;
  const message = String((err as Error).message);
  if (decision.stop) {
    slot.status = "stopped";
    p.statusMoved(slot);
    p.metrics.stopped.inc({ kind: slot.def.kind });
    p.log(`${slot.stream} stopped after ${decision.failures} failures: ${message}`);
    p.notices.actorStopped(slot.stream, message);
    return;
  }
  slot.status = "backoff";
  p.statusMoved(slot);
  for (let i = slot.head; i < slot.mailbox.length; i++) p.journalWaiting(slot, slot.mailbox[i]!);
  p.log(`${slot.stream} failed (${message}); restarting in ${decision.delayMs} ms`);
  p.timers.setTimeout(() => {
    p.rebuild(slot).then(
      () =>
        p.notices.actorRestarted(slot.stream, {
          error: message,
          failures: decision.failures,
          delay_ms: decision.delayMs,
        }),
      (e) => onInstanceFailed(slot, e, -1, p),
    );
  }, decision.delayMs);
}
