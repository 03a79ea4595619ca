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
  /**
   * The channels a host admits only for a group's instance (coherence's group on one of its
   * partitions, the channel's own partition another host's or thread's), at most; default
   * `channelsMax`. Such a channel counts where its own instances live, not here; a threaded
   * host's threads give the whole host's limit.
   */
  routedChannelsMax?: number | undefined;
  /**
   * Whether a channel's own instances live on this host (it owns the channel's partition): those
   * count against `channelsMax`. Absent: every channel (a host owning every partition).
   */
  lives?: (channel: string) => boolean;
};
