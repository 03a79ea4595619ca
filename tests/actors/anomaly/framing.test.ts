/**
 * Issue 12's property for the anomaly actor: the same samples, framed 1, 7, 100, 500 or 4,096 at a
 * time, give the same per-sample outputs and the same events through the host's ActorInstance
 * (envelope ids apart). The series is a NAB file when ../shared is present, else a seeded
 * synthetic one; the issue's own case (a spike of 250 at sample 450 of 600, threshold 0.4) is
 * checked for frames of 100 against frames of 10.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { anomalyActor, type AnomalyConfig } from "../../../actors/anomaly/mod.ts";
import { ActorInstance } from "../../../actors/runtime/mod.ts";
import { readNabFile } from "../../../bench/_nab_corpus.ts";
import { decodeColumns, decodeEnvelope } from "../../../protocol/mod.ts";
import { framedInputs } from "../../_support/framing.ts";
import { Prng } from "../../../sim/prng/mod.ts";

const test = suite("anomaly framing");

const NAB_DEV = fileURLToPath(new URL("../../../../shared/datasets/nab-dev", import.meta.url));
const NAB_FILE = "realKnownCause/nyc_taxi.csv";
const STEP_US = 5 * 60_000_000;
const T0 = Date.UTC(2024, 2, 1) * 1000;

/** What ActorInstance.apply takes (the runtime's mod.ts does not export the record type). */

/** A real series (times in us) when the NAB split is present, a seeded synthetic one otherwise. */
function realSeries(): { t: Float64Array; v: Float64Array; name: string } {
  if (existsSync(`${NAB_DEV}/data/${NAB_FILE}`)) {
    const f = readNabFile(NAB_DEV, NAB_FILE);
    return { t: f.t.map((ms) => ms * 1000), v: f.v, name: NAB_FILE };
  }
  const rng = new Prng(12);
  const n = 10_000;
  const t = new Float64Array(n), v = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    t[i] = T0 + i * STEP_US;
    v[i] = 100 + 40 * Math.sin((2 * Math.PI * i) / 288) + 5 * rng.normal();
    if (i % 2000 === 1500) v[i] = 400;
    if (i >= 7000 && i < 7050) v[i] = 20;
  }
  return { t, v, name: "synthetic" };
}

interface Outputs {
  /** Per sample, in order: score, expected, spread (the band's half-width), value. */
  columns: number[][];
  /** Events: type, ts and body. */
  events: string[];
}

/** Feeds `t`, `v` in frames of `size` through an ActorInstance; collects what it publishes. */
function runFramed(t: Float64Array, v: Float64Array, size: number, config: AnomalyConfig): Outputs {
  const actor = ActorInstance.create(anomalyActor, "c", config);
  const out: Outputs = { columns: [[], [], [], []], events: [] };
  for (const { record, pos } of framedInputs(t, v, size)) {
    for (const o of actor.apply(record, pos)) {
      const env = decodeEnvelope(o.data);
      if (env.type === "columns") {
        const cols = decodeColumns(o.data).frame.columns;
        ["score", "expected", "spread", "value"].forEach((name, c) => {
          for (const x of cols[name]!) out.columns[c]!.push(x);
        });
      } else out.events.push(`${env.type} ${env.ts} ${JSON.stringify(env.body)}`);
    }
  }
  actor.stop();
  return out;
}

test("frames of 1, 7, 100, 500 and 4,096 give the same per-sample outputs and events", () => {
  const { t, v, name } = realSeries();
  const config = anomalyActor.defaultConfig;
  const reference = runFramed(t, v, 4096, config);
  assert.is(reference.columns[0]!.length, v.length);
  assert.ok(reference.events.length >= 2, `${name}: ${reference.events.length} events`);
  for (const size of [1, 7, 100, 500]) {
    const framed = runFramed(t, v, size, config);
    for (let c = 0; c < 4; c++) {
      assert.equal(
        framed.columns[c],
        reference.columns[c],
        `${name}, frames of ${size}, column ${c}`,
      );
    }
    assert.equal(framed.events, reference.events, `${name}, frames of ${size}: events`);
  }
});

test("issue 12: a spike of 250 at sample 450 of 600 raises its event in frames of 100 as of 10", () => {
  const rng = new Prng(450);
  const n = 600;
  const t = new Float64Array(n), v = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    t[i] = T0 + i * 60_000_000;
    v[i] = 54 + 3 * Math.sin((2 * Math.PI * i) / 60) + 2 * rng.normal();
  }
  v[300] = 40; // an earlier mild dip
  v[450] = 250;
  const config = { ...anomalyActor.defaultConfig, threshold: 0.4 };
  const by10 = runFramed(t, v, 10, config);
  const by100 = runFramed(t, v, 100, config);
  const spike = `anomaly ${t[450]} `;
  assert.ok(by10.events.some((e) => e.startsWith(spike)), by10.events.join("\n"));
  assert.equal(by100.events, by10.events);
  assert.is(by100.columns[0]![450], by10.columns[0]![450]);
});

/** Noise around 100, then stretches far out in both tails (up to 2^14 from it), 1-min steps. */
function tailSeries(seed: number, n: number): { t: Float64Array; v: Float64Array } {
  const rng = new Prng(seed);
  const t = new Float64Array(n), v = new Float64Array(n);
  let offset = 0;
  for (let i = 0; i < n; i++) {
    t[i] = T0 + i * 60_000_000;
    // Powers of two with integer exponents: exact on every runtime, as Math.pow is not.
    if (i >= 300 && i % 400 === 0) offset = (rng.next() < 0.5 ? -1 : 1) * 2 ** rng.int(15);
    v[i] = 100 + offset * (1 + 0.01 * rng.normal()) + rng.normal();
  }
  return { t, v };
}

/** A hash of a channel's outputs and its saved state after the last frame. */
function outputHash(outputs: number[], saved: Uint8Array): number {
  const f64 = new Float64Array(1), words = new Uint32Array(f64.buffer);
  let h = 0;
  for (const x of outputs) {
    f64[0] = x;
    h = (Math.imul(h, 31) + (words[0]! ^ words[1]!)) | 0;
  }
  for (const b of saved) h = (Math.imul(h, 31) + b) | 0;
  return h;
}

test("channels of different bin settings stepped in turn each give what they give alone", () => {
  // The kernel keeps per-process scratch (the tail bins by linear index, last keys, known bins),
  // kept across the steps of one state and set up afresh from the next state's own settings:
  // interleaving channels must change nothing.
  const configs: AnomalyConfig[] = [
    { ...anomalyActor.defaultConfig, bins: 8, grids: 2 },
    { ...anomalyActor.defaultConfig, bins: 24 },
    anomalyActor.defaultConfig,
  ];
  const kernel = anomalyActor.kernel;
  const data = configs.map((_, c) => tailSeries(20 + c, 8000));
  // Each channel's outputs and saved state, its frames stepped in turn with the others' (or not).
  const stepAll = (interleaved: boolean) => {
    const states = configs.map((config, c) => kernel.init(config, `c${c}`));
    const outputs: number[][] = configs.map(() => []);
    let scored = 0;
    const order = configs.map((_, c) => c);
    const passes = interleaved ? [order] : order.map((c) => [c]);
    for (const channels of passes) {
      for (let i = 0; i < 8000; i += 250) {
        for (const c of channels) {
          const { t, v } = data[c]!;
          const frame = {
            channel: `c${c}`,
            seq0: i,
            t: t.subarray(i, i + 250),
            v: v.subarray(i, i + 250),
          };
          const r = kernel.step(states[c]!, frame);
          outputs[c]!.push(...r.score, ...r.expected, ...r.spread, r.changes.length);
          scored += r.score.filter((x) => x > 0).length;
        }
      }
    }
    assert.ok(scored > 30, `${scored} samples scored`);
    return configs.map((_, c) => outputHash(outputs[c]!, kernel.save(states[c]!)));
  };
  const alone = stepAll(false);
  assert.equal(stepAll(true), alone);
});

test.run();
