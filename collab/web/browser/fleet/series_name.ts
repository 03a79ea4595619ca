/**
 * A series named as an SRE reads it, from its channel's labels: the metric name, then its
 * `instance` and `job` and any other label, Prometheus's way (`node_load1{instance="a:9100",
 * job="node"}`); a channel without labels is named by its channel name. Pure.
 */
import type { Label } from "../../../../protocol/prometheus/mod.ts";

/** Labels named first, in this order: what tells one machine's series from another's. */
const FIRST = ["instance", "job"];

/** `metric{instance="...", job="...", ...}`, or `channel` when it has no labels. */
export function seriesName(channel: string, labels: readonly Label[] | undefined): string {
  if (!labels || labels.length === 0) return channel;
  const metric = labels.find((l) => l.name === "__name__")?.value ?? "";
  const rank = (n: string) => (FIRST.includes(n) ? FIRST.indexOf(n) : FIRST.length);
  const rest = labels.filter((l) => l.name !== "__name__" && l.value !== "")
    .sort((a, b) => rank(a.name) - rank(b.name) || (a.name < b.name ? -1 : 1));
  if (rest.length === 0) return metric || channel;
  return `${metric}{${rest.map((l) => `${l.name}=${JSON.stringify(l.value)}`).join(", ")}}`;
}

/** The group a channel's card is shown in: its `instance` and `job`, or "" with neither. */
export function groupKey(labels: readonly Label[] | undefined): string {
  const value = (n: string) => labels?.find((l) => l.name === n)?.value ?? "";
  const parts = FIRST.map((n) => value(n) === "" ? "" : `${n}=${JSON.stringify(value(n))}`)
    .filter((s) => s !== "");
  return parts.join(" ");
}
