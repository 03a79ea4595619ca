/** The limits a host's edge and control input hold frames and instances to. */
import type { FrameLimits } from "../../../protocol/mod.ts";

/**
 * A host's limits: frames', and how many channels and inputs waiting per instance it takes.
 * `channelsElsewhere`, for a host that shares its process's limit with others (a leased host's
 * partitions): the channels they have admitted, which count against `channelsMax` too.
 */
export type HostLimits = FrameLimits & {
  channelsMax: number;
  mailboxMax: number;
  channelsElsewhere?: () => number;
};
