/// <reference lib="dom" />
/**
 * The page's read of the channel record (`GET /channels`, collab/web/channel_list.ts): every
 * channel a receiver admitted with its source labels, for the grid's groups and filter and the
 * incident rows' names. Read at start and every LABELS_REFRESH_MS after, since receivers admit
 * new series as they come; a server without the record (no bus: 503, an older server: 404)
 * answers an empty list, and the page orders its cards without labels.
 */
import {
  type ChannelLabels,
  decodeChannelLabelsList,
} from "../../../../protocol/prometheus/mod.ts";

/** How often the record is read again, ms. */
export const LABELS_REFRESH_MS = 30_000;

/** The channel record as the server has it now; `[]` where it has none. */
export async function loadChannelLabels(token: string): Promise<ChannelLabels[]> {
  const res = await fetch(`/channels?token=${encodeURIComponent(token)}`);
  if (res.status === 404 || res.status === 503) {
    await res.body?.cancel();
    return [];
  }
  if (!res.ok) throw new Error(`Channels: ${res.status} ${(await res.text()).trim()}`);
  return decodeChannelLabelsList(new Uint8Array(await res.arrayBuffer()));
}

/** Reads the record now and every LABELS_REFRESH_MS, handing each answer to `take`. */
export function followChannelLabels(
  token: string,
  take: (list: ChannelLabels[]) => void,
): void {
  const read = () => loadChannelLabels(token).then(take).catch(console.warn);
  void read();
  setInterval(read, LABELS_REFRESH_MS);
}
