/**
 * A host's channel limit sized from memory: the memory the host may spend on its channels (its
 * budget, `limits.memory_budget_mb`, by default a share of the machine's memory) over what a
 * channel of the kinds it runs costs for its life. A fixed count either refuses a fleet's second
 * node or admits more than the machine holds; the budget says what the operator means and the
 * limit follows from it.
 *
 * What a channel costs is what every channel costs a host whatever its kinds, and what each kind
 * it runs holds for it (`ActorDefinition.heldBytes`: an instance's machinery and its kernel's
 * state grown full); what a group kind holds whatever the channels (coherence's groups) comes off
 * the budget first.
 */
import { totalmem } from "node:os";
import { type AnyActorDefinition, ConfigError, type HeldBytes } from "../../../protocol/mod.ts";
import { describeError } from "../operations/mod.ts";
import { anomalyHeldBytes, FOUR_KINDS_BYTES_MEASURED } from "../../kind/mod.ts";

/**
 * What one channel of the four per-channel kinds (stats, anomaly, collapse, bars) cost a host's
 * resident memory at scale once their windows of recent input ids were full (260 samples): the
 * anchor of what a channel costs beyond its kinds. Its origin, the measurements and the machine,
 * is on docs/channel_cost.md; the slope of `troupe bench remote-write`'s host's resident memory
 * over 4,000 to 12,000 channels of 261 samples, 110,363 bytes a channel give or take 6,800, agrees
 * with it (docs/channel_cost_by_kind.md).
 */
export const CHANNEL_BYTES_MEASURED = 112 * 1024;

/**
 * What a channel costs a host whatever its kinds: the rest of the measurement (the host's and
 * the receiver's entries for it, and what the process's resident memory adds over the heap at
 * scale). Counted whole for a host of fewer kinds, where some of it (the heap's slack) is less.
 */
export const CHANNEL_SHARED_BYTES = CHANNEL_BYTES_MEASURED - FOUR_KINDS_BYTES_MEASURED;

/**
 * What a kind that does not say what it holds (no `heldBytes`) counts for each channel: as much
 * as troupe's largest detector, anomaly, once its key set has grown.
 */
export const UNDECLARED_KIND_BYTES = anomalyHeldBytes().perChannel;

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

/** What a host of an unknown kind counts a channel at: itself and one undeclared kind. */
export const UNKNOWN_HOST_BYTES: HeldBytes = {
  perChannel: CHANNEL_SHARED_BYTES + UNDECLARED_KIND_BYTES,
  fixed: 0,
};

/**
 * What a host running `actors` (each enabled kind's section, as a host configuration holds them)
 * holds: per channel, `CHANNEL_SHARED_BYTES` and each kind's per-channel bytes; whatever the
 * channels, the kinds' fixed bytes. A kind not in `kinds` counts as undeclared. Throws a
 * ConfigError naming the kind whose `heldBytes` throws or gives no count of bytes.
 */
export function hostHeldBytes(
  actors: Readonly<Record<string, unknown>>,
  kinds: Readonly<Record<string, AnyActorDefinition>>,
): HeldBytes {
  let perChannel = CHANNEL_SHARED_BYTES, fixed = 0;
  for (const [kind, section] of Object.entries(actors)) {
    const def = kinds[kind];
    if (def?.heldBytes === undefined) {
      perChannel += UNDECLARED_KIND_BYTES;
      continue;
    }
    const config = def.parseConfig(section, def.defaultConfig, `actors.${kind}`);
    let held: HeldBytes;
    try {
      held = def.heldBytes(config);
    } catch (err) {
      throw new ConfigError(
        `${kind}.heldBytes`,
        `The kind "${kind}": heldBytes threw ${describeError(err)}`,
      );
    }
    for (const part of ["perChannel", "fixed"] as const) {
      const n = held?.[part];
      if (typeof n !== "number" || !(n >= 0) || !Number.isFinite(n)) {
        throw new ConfigError(
          `${kind}.heldBytes`,
          `The kind "${kind}": heldBytes gave ${part} ${String(n)}, not a count of bytes`,
          { value: n },
        );
      }
    }
    perChannel += held.perChannel;
    fixed += held.fixed;
  }
  return { perChannel, fixed };
}

/**
 * The channels a budget of `budgetMb` MiB holds (at least one): what is left of it once the
 * fixed bytes are counted, over the bytes a channel.
 */
export function channelsFitting(budgetMb: number, held: HeldBytes): number {
  const room = budgetMb * 1024 * 1024 - held.fixed;
  return Math.max(1, Math.floor(room / held.perChannel));
}
