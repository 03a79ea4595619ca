/**
 * A host's limits (the `limits` section): their fields, the largest values they take, the
 * section's parse, and the channel limit a memory budget gives a host of its kinds.
 */
import {
  type AnyActorDefinition,
  configObject,
  readNumber,
  rejectUnknown,
} from "../../../protocol/mod.ts";
import { channelsFitting, hostHeldBytes } from "./channel_budget.ts";

/** A host's limits (a type, not an interface: a recording's header holds them as a record). */
export type LimitsConfig = {
  frame_bytes_max: number;
  samples_per_frame_max: number;
  /** New channels past it are refused; by default what `memory_budget_mb` holds. */
  channels_max: number;
  mailbox_max: number;
  /** The memory (MiB) the host may spend on channels (channel_budget.ts). */
  memory_budget_mb: number;
};

/**
 * The largest values the limits take: a frame is one NATS message (a server's max_payload is at
 * most 64 MiB); a frame's samples fit in it as two float64 columns; channels and mailboxes are
 * held in memory.
 */
export const LIMITS_MAX = {
  frame_bytes_max: 64 * 1024 * 1024,
  samples_per_frame_max: 4 * 1024 * 1024,
  channels_max: 10_000_000,
  mailbox_max: 10_000_000,
  memory_budget_mb: 64 * 1024 * 1024,
} as const;

/**
 * The channel limit a budget of `budgetMb` MiB gives a host running `actors` (each enabled kind's
 * section) of `kinds`: the channels it holds (channel_budget.ts), `LIMITS_MAX` at most.
 */
export function channelsMaxFor(
  budgetMb: number,
  actors: Readonly<Record<string, unknown>>,
  kinds: Readonly<Record<string, AnyActorDefinition>>,
): number {
  return Math.min(
    channelsFitting(budgetMb, hostHeldBytes(actors, kinds)),
    LIMITS_MAX.channels_max,
  );
}

/** The `limits` section over the defaults `d`; throws ConfigError naming the field. */
export function parseLimitsSection(raw: unknown, d: LimitsConfig): LimitsConfig {
  const l = configObject(raw, "limits");
  const fields = [
    "frame_bytes_max",
    "samples_per_frame_max",
    "channels_max",
    "mailbox_max",
    "memory_budget_mb",
  ] as const;
  rejectUnknown(l, fields, "limits");
  const mins = {
    frame_bytes_max: 64,
    samples_per_frame_max: 1,
    channels_max: 1,
    mailbox_max: 1,
    memory_budget_mb: 1,
  };
  const limits = { ...d };
  for (const f of fields) {
    limits[f] = readNumber(l, f, "limits", d[f], {
      min: mins[f],
      max: LIMITS_MAX[f],
      integer: true,
    });
  }
  return limits;
}
