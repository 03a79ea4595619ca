/** The limits a host's edge and control input hold frames and instances to. */
import type { FrameLimits } from "../../../protocol/mod.ts";

/** A host's limits: frames', and how many channels and inputs waiting per instance it takes. */
export type HostLimits = FrameLimits & { channelsMax: number; mailboxMax: number };
