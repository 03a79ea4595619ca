/** The limits a host's edge and control input hold frames and instances to. */
import type { FrameLimits } from "../../../protocol/mod.ts";
import type { ChannelBook } from "./channel_book.ts";

/**
 * A host's limits: frames', and how many channels and inputs waiting per instance it takes.
 * `channelBook`, for a host that shares its process's limit with others (a leased host's
 * partitions): the channels all of them hold, each once, which `channelsMax` bounds.
 */
export type HostLimits = FrameLimits & {
  channelsMax: number;
  mailboxMax: number;
  channelBook?: ChannelBook;
};
