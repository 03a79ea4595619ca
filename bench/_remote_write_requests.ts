/**
 * Remote-write requests shaped as Prometheus sends them: a shard's series (here 2,000, labels
 * `__name__`, `instance`, `job` and one more, sorted as Prometheus sorts them), one sample each
 * per request, the protobuf written straight into bytes (the general encoder's nested messages
 * are too slow to make thousands of requests) and snappy-compressed.
 */
import { snappyCompress } from "../protocol/prometheus/mod.ts";

const utf8 = new TextEncoder();

function varint(out: number[], x: number): void {
  while (x >= 0x80) {
    out.push((x % 128) | 0x80);
    x = Math.floor(x / 128);
  }
  out.push(x);
}

function label(name: string, value: string): number[] {
  const n = utf8.encode(name), v = utf8.encode(value);
  const inner: number[] = [0x0a];
  varint(inner, n.length);
  inner.push(...n, 0x12);
  varint(inner, v.length);
  inner.push(...v);
  const out: number[] = [0x0a];
  varint(out, inner.length);
  return out.concat(inner);
}

/** The label bytes of each series of shard `shard`, `series` of them. */
export function shardLabels(shard: number, series: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < series; i++) {
    const metric = `bench_metric_${i % 40}_seconds`;
    out.push(Uint8Array.from([
      ...label("__name__", metric),
      ...label("instance", `host-${shard}-${Math.floor(i / 40)}:9100`),
      ...label("job", "bench"),
      ...label("zone", `z${i % 3}`),
    ]));
  }
  return out;
}

/** One request body: each series of `labels` with one sample at `tMs`, snappy-compressed. */
export function requestBody(labels: readonly Uint8Array[], tMs: number, seed: number): Uint8Array {
  let size = 0;
  for (const l of labels) size += l.length + 40;
  const buf = new Uint8Array(size);
  const view = new DataView(buf.buffer);
  let o = 0;
  const ts: number[] = [];
  varint(ts, tMs);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    const sample = 1 + 8 + 1 + ts.length;
    const series = l.length + 2 + sample;
    buf[o++] = 0x0a;
    const len: number[] = [];
    varint(len, series);
    for (const b of len) buf[o++] = b;
    buf.set(l, o);
    o += l.length;
    buf[o++] = 0x12;
    buf[o++] = sample;
    buf[o++] = 0x09;
    view.setFloat64(o, 50 + 10 * Math.sin((tMs / 1000 + i * 7 + seed) / 30), true);
    o += 8;
    buf[o++] = 0x10;
    for (const b of ts) buf[o++] = b;
  }
  return snappyCompress(buf.subarray(0, o));
}
