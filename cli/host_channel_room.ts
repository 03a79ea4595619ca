/**
 * A host's channels against its limit, as its /healthz says them (`channels`: admitted, the limit,
 * how many more fit), for `troupe status`: each host of a leased cluster is asked on the port its
 * heartbeat names, as troupe up's host is through http.url. A host that does not answer is named
 * with why, never taken for a full one.
 */
import { describeError } from "../actors/runtime/mod.ts";

/** A host's channels against its limit. */
export interface HostChannelRoom {
  admitted: number;
  max: number;
  free: number;
}

/** Milliseconds a host's /healthz has to answer `troupe status`. */
const HEALTHZ_WAIT_MS = 5000;

/** The room /healthz's body gives, or undefined when it gives none (a host of another version). */
export function channelRoomOf(body: unknown): HostChannelRoom | undefined {
  const c = (body as { channels?: Record<string, unknown> } | null)?.channels;
  if (
    typeof c?.admitted !== "number" || typeof c.max !== "number" || typeof c.free !== "number"
  ) {
    return undefined;
  }
  return { admitted: c.admitted, max: c.max, free: c.free };
}

/** The room of the host serving /healthz at `url` (its origin), or why it cannot be read. */
export async function fetchChannelRoom(url: string): Promise<HostChannelRoom | { why: string }> {
  let body: unknown;
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(HEALTHZ_WAIT_MS) });
    body = await res.json();
  } catch (err) {
    return { why: `its /healthz at ${url} does not answer (${describeError(err)})` };
  }
  return channelRoomOf(body) ??
    { why: `its /healthz at ${url} gives no channels (a troupe before the channel limit?)` };
}

/** The line `troupe status` prints under a host for its room (indented by four). */
export function channelRoomLine(room: HostChannelRoom | { why: string }): string {
  if ("why" in room) return `    channels: unknown, ${room.why}`;
  return `    channels ${room.admitted} of ${room.max}: ${room.free} more fit ` +
    `(limits.channels_max, by default what limits.memory_budget_mb holds of its kinds)`;
}
