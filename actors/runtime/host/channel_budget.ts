/**
 * A host's channel limit sized from memory: the memory the host may spend on its channels (its
 * budget, `limits.memory_budget_mb`, by default a share of the machine's memory) over what a
 * channel costs. A fixed count either refuses a fleet's second node or admits more than the
 * machine holds; the budget says what the operator means and the limit follows from it.
 */
import { totalmem } from "node:os";

/**
 * What one channel of the default kinds costs a host, in bytes, once each of its instances' window
 * of recent input ids is full (a channel that has run steadily): the heap per channel measured
 * then, and what the process's resident memory adds to its heap at scale. Its origin,
 * the measurements and the machine, is on docs/performance.md ("What a channel costs"); measure
 * again when a kind's state changes.
 */
export const CHANNEL_BYTES = 176 * 1024;

/**
 * The share of the machine's memory a host's budget is by default: half, the rest left to what a
 * host runs beside (nats-server, whose JetStream files live in the page cache, the receiver, the
 * journal's page cache). VictoriaMetrics takes 60% for its caches by default
 * (`-memory.allowedPercent`); a host is not alone on its machine, so less.
 */
export const MEMORY_SHARE_DEFAULT = 0.5;

/** The default memory budget in MiB: `MEMORY_SHARE_DEFAULT` of the machine's memory. */
export function memoryBudgetMbDefault(totalBytes: number = totalmem()): number {
  return Math.max(1, Math.floor((totalBytes * MEMORY_SHARE_DEFAULT) / (1024 * 1024)));
}

/** The channels a budget of `budgetMb` MiB holds at `CHANNEL_BYTES` each (at least one). */
export function channelsFitting(budgetMb: number): number {
  return Math.max(1, Math.floor((budgetMb * 1024 * 1024) / CHANNEL_BYTES));
}
