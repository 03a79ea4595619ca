/**
 * A channel name for a Prometheus series, from its labels: the other labels' values in
 * label-name order, then the metric name last (where troupe reads a channel's unit from, so
 * `_bytes` and `_seconds` reach the dashboard), joined by "-" and with every character the
 * channel-name rule (`[A-Za-z0-9_-]{1,64}`) does not allow made "_":
 * `node-127_0_0_1_9100-node_load1`. The same labels give the same name on every run and every
 * host, which is what lets a restarted receiver feed the same channels. A name over 64
 * characters has its label values cut and 8 hex digits of a hash of the full label set put
 * before the metric name (a metric name too long for the rest has its start cut; the hash is
 * never cut), so two long series stay apart; a receiver that meets two label
 * sets with one name (values alike under different label names, or "." against "_") gives the
 * later one the hashed form (`seriesChannel(labels, true)`).
 */
import type { Label } from "./remote_write.ts";

/** The channel-name rule's length limit. */
const NAME_MAX = 64;
const HASH_CHARS = 8;

/** FNV-1a, 32 bits, over the label set written `name=value` with NUL separators. */
export function labelSetHash(labels: readonly Label[]): number {
  let h = 0x811c9dc5;
  const sorted = [...labels].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const l of sorted) {
    const s = `${l.name}=${l.value}\0`;
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
  }
  return h >>> 0;
}

/** The channel name of a series with `labels`; `hashed` forces the hash suffix. */
export function seriesChannel(labels: readonly Label[], hashed = false): string {
  let name = "";
  const rest: Label[] = [];
  for (const l of labels) {
    if (l.name === "__name__") name = l.value;
    else if (l.value !== "") rest.push(l);
  }
  rest.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const clean = (s: string) => s.replace(/[^A-Za-z0-9_-]/g, "_");
  const metric = clean(name);
  const values = rest.map((l) => clean(l.value)).join("-");
  const readable = [values, metric].filter((s) => s !== "").join("-") || "series";
  if (!hashed && readable.length <= NAME_MAX) return readable;
  const hash = labelSetHash(labels).toString(16).padStart(HASH_CHARS, "0");
  // The hash is never cut: a long metric name gives up its start (its end, the unit, stays).
  const kept = metric.length > NAME_MAX - HASH_CHARS - 1
    ? metric.slice(-(NAME_MAX - HASH_CHARS - 1))
    : metric;
  const tail = `${hash}${kept === "" ? "" : "-"}${kept}`;
  const room = NAME_MAX - tail.length - 1;
  return values === "" || room <= 0 ? tail : `${values.slice(0, room)}-${tail}`;
}
