/**
 * Framing never changes a verdict (issue 12): the same samples cut into frames of 1, 7, 100, 500
 * or 4,096 give the same per-sample outputs, the same `collapse` events (apart from envelope ids)
 * and the same machine state and context, run through the host's ActorInstance as a host runs
 * them. The series hold mean, spread and trend changes, outliers, missing values (frames carry
 * finite values only: these are beyond VALUE_ABS_MAX) and a time gap;
 * a TCPD series is added when ../shared is present (the test does not need it).
 */
import { existsSync } from "node:fs";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { collapseActor } from "../../../actors/collapse/mod.ts";
import { ActorInstance } from "../../../actors/runtime/instances/actor_instance.ts";
import { decodeColumns, decodeEnvelope } from "../../../protocol/mod.ts";
import { framedInputs } from "../../_support/framing.ts";
import { piecewise } from "../../../sim/feeds/piecewise.ts";
import { Prng } from "../../../sim/prng/mod.ts";
import { readTcpdSeries } from "../../../bench/cpd.ts";

const test = suite("collapse framing");
const T0 = Date.UTC(2024, 2, 1) * 1000;
const STEP_US = 1_000_000;
const FRAME_SIZES = [1, 7, 100, 500, 4096];
const SEED = 7712;

/** What a run published: per-sample columns, events without their ids, and the machine's end. */
interface Run {
  changeProb: number[];
  runLength: number[];
  events: string[];
  state: unknown;
  context: string;
  /** The machine's state after each frame, by the index of the frame's last sample. */
  states: Map<number, unknown>;
}

function run(values: Float64Array, times: Float64Array, frameSize: number): Run {
  const a = ActorInstance.create(collapseActor, "c", collapseActor.defaultConfig);
  const out: Run = {
    changeProb: [],
    runLength: [],
    events: [],
    state: null,
    context: "",
    states: new Map(),
  };
  let end = 0;
  for (const { record, pos } of framedInputs(times, values, frameSize)) {
    end = Math.min(values.length, end + frameSize);
    for (const o of a.apply(record, pos)) {
      const env = decodeEnvelope(o.data);
      if (env.type === "columns") {
        const cols = decodeColumns(o.data).frame.columns;
        out.changeProb.push(...cols.change_prob!);
        out.runLength.push(...cols.run_length!);
      } else out.events.push(`${env.type} ${env.ts} ${JSON.stringify(env.body)}`);
    }
    out.states.set(end - 1, a.machineState);
  }
  out.state = a.machineState;
  out.context = JSON.stringify(a.snapshot().machine);
  a.stop();
  return out;
}

function assertSameForEveryFraming(name: string, values: Float64Array, times: Float64Array) {
  const base = run(values, times, FRAME_SIZES[0]!);
  for (const size of FRAME_SIZES.slice(1)) {
    const other = run(values, times, size);
    const at = `${name}, frames of ${size} against frames of 1 (seed ${SEED})`;
    // NaN is equal to NaN here: missing samples give NaN outputs.
    assert.equal(other.changeProb.map(String), base.changeProb.map(String), `${at}: change_prob`);
    assert.equal(other.runLength.map(String), base.runLength.map(String), `${at}: run_length`);
    assert.equal(other.events, base.events, `${at}: events`);
    assert.equal(other.state, base.state, `${at}: machine state`);
    assert.is(other.context, base.context, `${at}: machine snapshot`);
    // After every frame, the machine is where it is after the same sample fed one at a time.
    for (const [last, state] of other.states) {
      assert.equal(state, base.states.get(last), `${at}: machine state after sample ${last}`);
    }
  }
  return base;
}

function evenTimes(n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => T0 + i * STEP_US);
}

test("mean, spread and trend changes give the same outputs and events in every framing", () => {
  const p = piecewise(`${SEED}`, { length: 6000, kinds: ["mean", "variance", "trend"] });
  const base = assertSameForEveryFraming("piecewise", Float64Array.from(p.values), evenTimes(6000));
  // Not vacuous: changes were reported, and the machine went through its phases.
  assert.ok(base.events.length >= 3, `${base.events.length} events`);
});

test("outliers, missing values and a gap in time give the same outputs in every framing", () => {
  const rng = new Prng(SEED + 1);
  const n = 5000;
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const level = i < 1200 ? 0 : i < 2600 ? 4 : 4 - 0.01 * (i - 2600);
    values[i] = level + rng.normal();
    if (i % 331 === 17) values[i] = 30; // a lone outlier
    if (i % 97 === 5) values[i] = 1e200; // beyond VALUE_ABS_MAX: a missing sample
  }
  const times = evenTimes(n);
  for (let i = 3500; i < n; i++) times[i] = times[i]! + 400 * STEP_US; // a gap in time
  const base = assertSameForEveryFraming("outliers", values, times);
  assert.ok(base.changeProb.some((p) => Number.isNaN(p)));
  assert.ok(base.events.length >= 1);
});

test("a state change inside a frame reaches the machine: suspect, collapsed and back, per sample", () => {
  // Two changes 60 samples apart fall in one frame of 4,096 and in many frames of 7; the events
  // and the machine's final state must not depend on it.
  const rng = new Prng(SEED + 2);
  const values = Float64Array.from(
    { length: 3000 },
    (_, i) => (i >= 1000 && i < 1060 ? 6 : 0) + rng.normal(),
  );
  const base = assertSameForEveryFraming("two changes", values, evenTimes(3000));
  assert.is(base.events.length, 2, base.events.join("\n"));
  assert.is(base.state, "stable");
});

const TCPD = "../shared/datasets/tcpd-dev/datasets/well_log/well_log.json";
test("a real series (TCPD well_log, when ../shared is present) gives the same verdicts", () => {
  const file = new URL(`../../../${TCPD}`, import.meta.url);
  if (!existsSync(file)) return;
  const s = readTcpdSeries(file.pathname);
  const base = assertSameForEveryFraming("well_log", s.dimensions[0]!, evenTimes(s.n));
  assert.ok(base.events.length >= 5);
});

test.run();
