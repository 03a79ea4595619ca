/**
 * A host's channel limit sized from memory: the memory the host may spend on its channels (its
 * budget, `limits.memory_budget_mb`, by default a share of the machine's memory) over what a
 * channel costs. A fixed count either refuses a fleet's second node or admits more than the
 * machine holds; the budget says what the operator means and the limit follows from it.
 */
import { totalmem } from "node:os";

/**
 * What one channel of the default kinds cost a host, in bytes, measured once each of its
 * instances' window of recent input ids was full (260 samples): the heap per channel then, and
 * what the process's resident memory adds to its heap at scale. Its origin, the measurements and
 * the machine, is on docs/channel_cost.md; measure again when a kind's state changes.
 */
export const CHANNEL_BYTES_MEASURED = 112 * 1024;

/** What the default bars kind's rings held in that measurement (its states' heap). */
export const BARS_BYTES_MEASURED = 15_593;

/**
 * The default bars kind's rings once every one is full: 5 sizes (1s to 1d) of 500 closed bars, 7
 * float64 columns each. A channel scraped every 15 s fills its one-second ring in two hours, its
 * one-minute ring in eight and its five-minute ring in two days; its hourly and daily rings fill
 * over weeks and years, and a host's snapshots keep them across restarts: a limit that holds for
 * a channel's life counts them full. A channel sampled at most once a second (a scraped metric)
 * keeps its one-second bars, one sample each, in 2 columns (the bars kernel's narrow ring), 20,000
 * bytes less; one sampled faster (market ticks) in 7. The host does not know which a channel will
 * be when it admits it, so the limit counts the larger.
 */
export const BARS_BYTES_FULL = 5 * 500 * 7 * 8;

/** What a scraped metric's rings hold once full: its one-second ring narrow (see above). */
export const BARS_BYTES_FULL_SCRAPED = (1 * 2 + 4 * 7) * 500 * 8;

/**
 * What one channel of the default kinds costs a host for its life, in bytes: the measurement,
 * its bars' rings counted full.
 */
export const CHANNEL_BYTES = CHANNEL_BYTES_MEASURED - BARS_BYTES_MEASURED + BARS_BYTES_FULL;

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
