/**
 * An OTLP request's points as the receiver's series: points grouped by their label set (sorted
 * by name, so attribute order does not make two series of one), each series' points in time
 * order, and the label set's bytes as the key the series table finds it by.
 */
import type { Label, OtlpPoints } from "../../protocol/prometheus/mod.ts";
import type { IncomingSeries } from "./series_samples.ts";

const utf8 = new TextEncoder();

/** The series of `otlp`. */
export function otlpSeries(otlp: OtlpPoints): IncomingSeries {
  const byKey = new Map<string, number>();
  const groups: Array<
    { labels: Label[]; key: string; counter: boolean; refused?: string; points: number[] }
  > = [];
  otlp.points.forEach((p, i) => {
    const sorted = [...p.labels].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const key = sorted.map((l) => `${l.name}\u0001${l.value}`).join("\u0002");
    let g = byKey.get(key);
    if (g === undefined) {
      g = groups.length;
      byKey.set(key, g);
      groups.push({ labels: sorted, key, counter: p.counter, points: [] });
    }
    const group = groups[g]!;
    if (p.refused !== undefined) group.refused ??= p.refused;
    group.points.push(i);
  });
  const keyParts = groups.map((g) => utf8.encode(g.key));
  const keyBytes = new Uint8Array(keyParts.reduce((n, b) => n + b.length, 0));
  const keyFrom = new Int32Array(groups.length), keyTo = new Int32Array(groups.length);
  const from = new Int32Array(groups.length + 1);
  const t = new Float64Array(otlp.points.length), v = new Float64Array(otlp.points.length);
  let at = 0, k = 0;
  groups.forEach((g, i) => {
    keyBytes.set(keyParts[i]!, at);
    keyFrom[i] = at;
    at += keyParts[i]!.length;
    keyTo[i] = at;
    from[i] = k;
    g.points.sort((a, b) => otlp.points[a]!.t - otlp.points[b]!.t);
    for (const p of g.points) {
      t[k] = otlp.points[p]!.t;
      v[k] = otlp.points[p]!.value;
      k++;
    }
  });
  from[groups.length] = k;
  return {
    count: groups.length,
    keyBytes,
    keyFrom,
    keyTo,
    labels: (i) => groups[i]!.labels,
    refused: (i) => groups[i]!.refused,
    where: (i) =>
      `series ${JSON.stringify(groups[i]!.labels[0]?.value ?? "")} (point ${groups[i]!.points[0]})`,
    from,
    t,
    v,
    counter: (i) => groups[i]!.counter,
  };
}
