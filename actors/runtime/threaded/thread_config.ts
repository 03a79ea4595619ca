/**
 * How a host's configuration is shared out among worker threads: whether it can be, how many
 * threads it runs on, and each thread's own configuration (its partitions, its directory).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { availableParallelism } from "node:os";
import type { HostConfig } from "../host/mod.ts";
import { threadsOf } from "./data_dir_claim.ts";

/** Why a configuration cannot run on several threads, or undefined when it can. */
export function threadsUnsupported(config: HostConfig): string | undefined {
  if (config.nats === undefined) return "the in-process bus is not shared with worker threads";
  if (config.input !== "core") {
    return `input "${config.input}" (the default with NATS) is read by one consumer; ` +
      '"input": "core" in the config file splits it among threads, at most once';
  }
  if (config.partitions.leases) return "partitions held by lease move one at a time";
  if (config.journal.kind === "jetstream") return 'journal "jetstream" is not split by thread';
  return undefined;
}

/**
 * The threads a host runs on when none are asked for: as many as its data directory was written
 * by; one for a one-thread host's directory or a configuration that cannot be split; else the
 * machine's cores less one (at least one), at most one per owned partition.
 */
export function defaultThreads(config: HostConfig): number {
  const was = threadsOf(config.data_dir);
  if (was !== undefined) return was;
  if (existsSync(join(config.data_dir, "journal")) || threadsUnsupported(config)) return 1;
  return threadCount(config, availableParallelism() - 1);
}

/**
 * The threads a host runs on: those asked for, at most one per owned partition (a thread whose
 * residue no owned partition has runs idle).
 */
export function threadCount(config: HostConfig, asked: number): number {
  return Math.max(1, Math.min(asked, config.partitions.owned.length));
}

/**
 * Thread `index`'s configuration of `threads`: its share of the partitions and of the channel
 * limit (threadChannelShare), its own directory.
 */
export function threadConfig(config: HostConfig, index: number, threads: number): HostConfig {
  const owned = config.partitions.owned.filter((p) => p % threads === index);
  const { http_port: _, ...rest } = config;
  return {
    ...rest,
    http_port: undefined,
    host_id: `${config.host_id}-t${index}`,
    data_dir: join(config.data_dir, `thread-${index}`),
    partitions: { count: config.partitions.count, owned },
    limits: { ...config.limits, channels_max: threadChannelShare(config, index, threads) },
  };
}

/**
 * Thread `index`'s share of the host's channel limit. The limit is the host's, what its memory
 * budget holds for the whole process, so the threads' shares add up to it; channels fall on
 * partitions by a hash of their key, evenly, so each thread's share is in proportion to the
 * partitions it owns (the remainder one each to the first threads owning any).
 */
export function threadChannelShare(config: HostConfig, index: number, threads: number): number {
  const max = config.limits.channels_max;
  const owned = config.partitions.owned;
  if (owned.length === 0) return max;
  const counts = Array.from(
    { length: threads },
    (_, i) => owned.filter((p) => p % threads === i).length,
  );
  const shares = counts.map((c) => Math.floor((max * c) / owned.length));
  let left = max - shares.reduce((a, b) => a + b, 0);
  for (let i = 0; left > 0; i = (i + 1) % threads) {
    if (counts[i]! === 0) continue;
    shares[i]!++;
    left--;
  }
  return shares[index]!;
}
