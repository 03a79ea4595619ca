/**
 * The anomaly event names the view that scored the sample where its incident opened: under the
 * host's ActorInstance, on series built to alarm through one view (the cases of
 * views_column.test.ts), the published event's `view` is that view; on a labelled feed cut into
 * frames of any size, each event's view is the one the views column gives its sample, and the
 * scores are the same bits as a run that never asks for a view.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  anomalyActor,
  anomalyKernel,
  defaultAnomalyConfig,
  stepAnomaly,
  VIEW_WIRE,
} from "../../../actors/anomaly/mod.ts";
import { ActorInstance } from "../../../actors/runtime/instances/actor_instance.ts";
import {
  type AnomalyBody,
  anomalyOf,
  decodeEnvelope,
  encodeFrame,
  type SampleFrame,
} from "../../../protocol/mod.ts";
import { createMetricsFeed } from "../../../sim/mod.ts";
import { Prng } from "../../../sim/prng/mod.ts";

const test = suite("anomaly event view");

const T0 = Date.UTC(2024, 0, 1) * 1000;
const STEP_US = 5 * 60_000_000;
const PER_DAY = 288;

/** `v`, 5 minutes apart from a Monday, in frames of `batch`. */
function framesOf(v: number[], batch: number): SampleFrame[] {
  const frames: SampleFrame[] = [];
  for (let i = 0; i < v.length; i += batch) {
    const part = v.slice(i, i + batch);
    const t = Float64Array.from(part, (_, k) => T0 + (i + k) * STEP_US);
    frames.push({ channel: "c", seq0: i, t, v: Float64Array.from(part) });
  }
  return frames;
}

/** The anomaly events the actor publishes on `frames`, with their times. */
function events(frames: SampleFrame[]): { ts: number; body: AnomalyBody }[] {
  const actor = ActorInstance.create(anomalyActor, "c", anomalyActor.defaultConfig);
  const found: { ts: number; body: AnomalyBody }[] = [];
  frames.forEach((f, k) => {
    const payload = encodeFrame(f, { id: `in-${k}`, src: "test" });
    const record = { kind: "frame" as const, srcPos: k + 1, subject: "troupe.feed.f.c", payload };
    for (const o of actor.apply(record, k + 1)) {
      const env = decodeEnvelope(o.data);
      if (env.type === "anomaly") found.push({ ts: env.ts, body: anomalyOf(env) });
    }
  });
  actor.stop();
  return found;
}

/** The view of the first event at or after sample `from` (before `to`), or "no event". */
function viewAt(v: number[], from: number, to: number): string {
  const e = events(framesOf(v, 97)).find((e) =>
    e.ts >= T0 + from * STEP_US && e.ts < T0 + to * STEP_US
  );
  return e === undefined ? "no event" : e.body.view ?? "no view";
}

/** A daily cycle with noise, 5-minute steps. */
function daily(rng: Prng, n: number): number[] {
  return Array.from(
    { length: n },
    (_, i) => 50 + 10 * Math.sin((2 * Math.PI * i) / PER_DAY) + rng.normal(),
  );
}

test("a spike far beyond the range seen: range", () => {
  const v = daily(new Prng(3), 3000);
  v[2500] = 200;
  assert.is(viewAt(v, 2500, 2501), "range");
});

test("a value frozen on a channel that never repeats: flat_run", () => {
  const v = daily(new Prng(1), 4000);
  for (let i = 3000; i < 3050; i++) v[i] = v[2999]!;
  assert.is(viewAt(v, 3000, 3050), "flat_run");
});

test("a daily peak that does not come: time_of_day", () => {
  const v: number[] = [];
  for (let i = 0; i < 20 * PER_DAY; i++) {
    const hour = (i % PER_DAY) / 12, day = Math.floor(i / PER_DAY);
    v.push((hour >= 9 && hour < 17 && day !== 15 ? 50 : 10) + [0, 1, 0, -1][i % 4]!);
  }
  assert.is(viewAt(v, 15 * PER_DAY, 16 * PER_DAY), "time_of_day");
});

test("on a labelled feed in frames of any size, each event names its sample's view in the column", () => {
  const feed = createMetricsFeed({ series: 6, seed: 4, batch: 61 });
  const byChannel = new Map<string, SampleFrame[]>();
  let samples = 0;
  while (samples < 6 * 12_000) {
    for (const f of feed.next()) {
      byChannel.set(f.channel, [...(byChannel.get(f.channel) ?? []), f]);
      samples += f.v.length;
    }
  }
  let compared = 0;
  const named = new Set<string>();
  for (const [channel, frames] of byChannel) {
    // The column's view of every sample, from one whole frame of the channel's samples.
    const t = Float64Array.from(frames.flatMap((f) => [...f.t]));
    const v = Float64Array.from(frames.flatMap((f) => [...f.v]));
    const column = new Uint8Array(v.length);
    const st = anomalyKernel.init(defaultAnomalyConfig, channel);
    stepAnomaly(st, { channel, seq0: 0, t, v }, undefined, column);
    const at = new Map(Array.from(t, (ti, i) => [Math.round(ti), i]));
    // The actor's events, from the feed's own frames (one key for every channel: the kernel's
    // outputs do not depend on it).
    for (const e of events(frames.map((f) => ({ ...f, channel: "c" })))) {
      const i = at.get(e.ts)!;
      assert.is(e.body.view, VIEW_WIRE[column[i]!], `${channel} at sample ${i}`);
      named.add(e.body.view!);
      compared++;
    }
  }
  assert.ok(compared >= 10, `${compared} events compared`);
  assert.ok(named.size >= 2, `views named: ${[...named].join(", ")}`);
});

test.run();
