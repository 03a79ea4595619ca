/**
 * A threaded host's channels against its limit, as one host's: each thread admits its share of
 * the host's limit (thread_config.ts), so the host's admitted channels, limit, room and refused
 * frames are the sums of its threads'. /healthz gives them as a lone host does (`channels`), and
 * /metrics gives the channel series once, labelled by the host's id, in place of each thread's
 * (operations' channel_series.ts).
 */
import type { ChannelRoom } from "../host/mod.ts";
import { CHANNEL_SERIES, takeChannelSeries } from "../operations/mod.ts";

/** The threads' rooms summed; undefined while no thread has said its own. */
export function summedChannelRoom(
  rooms: ReadonlyArray<ChannelRoom | undefined>,
): ChannelRoom | undefined {
  let sum: ChannelRoom | undefined;
  for (const room of rooms) {
    if (room === undefined) continue;
    sum ??= { admitted: 0, max: 0, free: 0 };
    sum.admitted += room.admitted;
    sum.max += room.max;
    sum.free += room.free;
  }
  return sum;
}

/**
 * The threads' expositions without their channel series, and those series summed over the
 * threads as one exposition labelled `host="<hostId>"` (each family's HELP and TYPE as the
 * threads give them).
 */
export function hostChannelSeries(
  texts: readonly string[],
  hostId: string,
): { texts: string[]; series: string } {
  const taken = texts.map(takeChannelSeries);
  const series: string[] = [];
  for (const name of CHANNEL_SERIES) {
    const sums = taken.map((t) => t.sums.get(name)).filter((s) => s !== undefined);
    if (sums.length === 0) continue;
    const head = taken.find((t) => t.heads.has(name))?.heads.get(name) ?? [];
    series.push(...head, `${name}{host="${hostId}"} ${sums.reduce((a, b) => a + b, 0)}`);
  }
  return { texts: taken.map((t) => t.text), series: series.join("\n") };
}
