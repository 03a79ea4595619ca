/**
 * The framing check: "framing never changes a verdict". The same samples cut into frames of
 * several sizes (1, 7 and 4,096 by default), channels interleaved by time, must make the same
 * findings: the same types, event times and bodies, in the same order per instance. Ids differ,
 * as they derive from the inputs' ids.
 */
import {
  type AnyActorDefinition,
  bytesEqual,
  decodeEnvelope,
  encodeValue,
  type SampleFrame,
} from "../../protocol/mod.ts";
import { KindCheckError } from "./kit_error.ts";
import { type KindRunOptions, runKind } from "./kind_run.ts";

/** One channel's samples. */
export interface Series {
  channel: string;
  /** Event times, µs, non-decreasing. */
  t: Float64Array;
  v: Float64Array;
}

/** The frame sizes the framing check tries by default. */
export const FRAMINGS_DEFAULT: readonly number[] = [1, 7, 4096];

/**
 * `series` cut into frames of `size` samples, the frames of all channels in order of their first
 * sample's time (ties in the order of `series`).
 */
export function framesOf(series: readonly Series[], size: number): SampleFrame[] {
  const frames: SampleFrame[] = [];
  for (const s of series) {
    for (let i = 0; i < s.v.length; i += size) {
      const end = Math.min(s.v.length, i + size);
      frames.push({
        channel: s.channel,
        seq0: i,
        t: s.t.subarray(i, end),
        v: s.v.subarray(i, end),
      });
    }
  }
  const order = new Map(series.map((s, i) => [s.channel, i]));
  return frames.sort((a, b) =>
    a.t[0]! - b.t[0]! || order.get(a.channel)! - order.get(b.channel)! || a.seq0 - b.seq0
  );
}

interface Seen {
  stream: string;
  type: string;
  ts: number;
  body: Uint8Array;
}

function findingsOf(def: AnyActorDefinition, frames: SampleFrame[], options: KindRunOptions) {
  const types = new Set((def.findings ?? []).map((f) => f.type));
  const byStream = new Map<string, Seen[]>();
  for (const step of runKind(def, frames, options)) {
    for (const out of step.outputs) {
      if (out.type === undefined || !types.has(out.type)) continue;
      const env = decodeEnvelope(out.data);
      const list = byStream.get(out.stream) ?? [];
      list.push({ stream: out.stream, type: env.type, ts: env.ts, body: encodeValue(env.body) });
      byStream.set(out.stream, list);
    }
  }
  return byStream;
}

/**
 * Throws KindCheckError naming the first finding that differs between framings; returns the
 * findings each framing made.
 */
export function checkFraming(
  def: AnyActorDefinition,
  series: readonly Series[],
  options: KindRunOptions & { sizes?: readonly number[] } = {},
): { findings: number } {
  const sizes = options.sizes ?? FRAMINGS_DEFAULT;
  const base = findingsOf(def, framesOf(series, sizes[0]!), options);
  let count = 0;
  for (const list of base.values()) count += list.length;
  for (const size of sizes.slice(1)) {
    const other = findingsOf(def, framesOf(series, size), options);
    const streams = new Set([...base.keys(), ...other.keys()]);
    for (const stream of streams) {
      const a = base.get(stream) ?? [], b = other.get(stream) ?? [];
      for (let k = 0; k < Math.max(a.length, b.length); k++) {
        const x = a[k], y = b[k];
        if (x && y && x.type === y.type && x.ts === y.ts && bytesEqual(x.body, y.body)) continue;
        const say = (f: Seen | undefined) => f ? `${f.type} at ts ${f.ts}` : "nothing";
        throw new KindCheckError(
          `${def.kind}: framing changes a verdict on ${stream}: finding ${k} is ${
            say(x)
          } in frames of ${sizes[0]} samples but ${say(y)} in frames of ${size}${
            x && y && x.type === y.type && x.ts === y.ts ? " (the bodies differ)" : ""
          }; decide per sample, not per frame`,
        );
      }
    }
  }
  return { findings: count };
}
