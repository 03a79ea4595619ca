/**
 * A folder as `bench pages --record` writes one, for the benches that read it again (`bench
 * evidence`, `bench rescore`): run.rec with a warm-up history batch, then one live feed batch a
 * sample of every series, and an anomaly columns subject a sample for each scored series (only the
 * subject is read, to know which series were scored); and faults.json with the spec's one fault.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeFeedBatch, warmupId } from "../../protocol/mod.ts";
import { Prng } from "../../sim/prng/mod.ts";
import { RecordingWriter } from "../../sim/recording/mod.ts";

/** What the recording holds. */
export interface PagesRecordingSpec {
  seed: number;
  t0Ms: number;
  stepMs: number;
  /** Samples of the history read, then live samples. */
  history: number;
  live: number;
  series: string[];
  scored: string[];
  /** A series' value at sample i (history first, then live). */
  valueOf: (prng: Prng, name: string, i: number) => number;
  /** The fault faults.json names "step": its first live sample and its samples. */
  fault: { at: number; samples: number };
}

/** When the spec's fault begins, ms since the epoch. */
function faultStartMs(spec: PagesRecordingSpec): number {
  return spec.t0Ms + (spec.history + spec.fault.at) * spec.stepMs;
}

function batch(spec: PagesRecordingSpec, id: string, from: number, to: number, prng: Prng) {
  const t: number[] = [], v: number[] = [];
  for (const name of spec.series) {
    for (let i = from; i < to; i++) {
      t.push((spec.t0Ms + i * spec.stepMs) * 1000);
      v.push(spec.valueOf(prng, name, i));
    }
  }
  const n = Uint32Array.from(spec.series, () => to - from);
  const content = { channels: spec.series, n, t: Float64Array.from(t), v: Float64Array.from(v) };
  return encodeFeedBatch(content, { id, src: "test", ts: spec.t0Ms });
}

/** Writes `dir`/run.rec and `dir`/faults.json as `spec` says. */
export function writePagesRecording(dir: string, spec: PagesRecordingSpec): void {
  const prng = new Prng(spec.seed);
  const w = RecordingWriter.create(join(dir, "run.rec"), { source: "troupe record" });
  const at = (i: number) => (spec.t0Ms + i * spec.stepMs) * 1000;
  w.append(
    "troupe.feed.prom",
    at(spec.history),
    batch(spec, warmupId("rw-history-0"), 0, spec.history, prng),
  );
  for (let i = spec.history; i < spec.history + spec.live; i++) {
    w.append("troupe.feed.prom", at(i), batch(spec, `rw-${i}`, i, i + 1, prng));
    for (const name of spec.scored) {
      w.append(`troupe.out.anomaly.${name}`, at(i), new Uint8Array(1));
    }
  }
  w.close();
  const startMs = faultStartMs(spec);
  const endMs = startMs + spec.fault.samples * spec.stepMs;
  writeFileSync(join(dir, "faults.json"), JSON.stringify([{ name: "step", startMs, endMs }]));
}
