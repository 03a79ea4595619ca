import { suite } from "uvu";
import * as assert from "uvu/assert";
import { collapseActor, type CollapseResult } from "../../../actors/collapse/mod.ts";
import { ActorInstance, type Output } from "../../../actors/runtime/instances/actor_instance.ts";
import {
  ConfigError,
  decodeColumns,
  decodeEnvelope,
  encodeEnvelope,
  encodeFrame,
  type InputRecord,
  type SampleFrame,
} from "../../../protocol/mod.ts";
import { Prng } from "../../../sim/prng/mod.ts";

const test = suite("collapse actor");
const T0 = Date.UTC(2024, 2, 1) * 1000;
const STEP_US = 1_000_000;

/** Levels 10, 14, 11 (sd 1) with changes at 1500 and 3000, cut into frames of random sizes. */
function series(seed: number, n: number): SampleFrame[] {
  const rng = new Prng(seed);
  const frames: SampleFrame[] = [];
  for (let i = 0; i < n;) {
    const len = Math.min(n - i, 1 + rng.int(150));
    const t = new Float64Array(len), v = new Float64Array(len);
    for (let k = 0; k < len; k++, i++) {
      t[k] = T0 + i * STEP_US;
      v[k] = (i < 1500 ? 10 : i < 3000 ? 14 : 11) + rng.normal();
    }
    frames.push({ channel: "cpu-7", seq0: i - len, t, v });
  }
  return frames;
}

test("parseConfig() applies fields over a base and rejects unknown fields with path and field", () => {
  const base = collapseActor.defaultConfig;
  assert.equal(collapseActor.parseConfig({}, base, "ctl.collapse"), base);
  assert.is(collapseActor.parseConfig({ hazard: 0.01 }, base, "x").hazard, 0.01);
  try {
    collapseActor.parseConfig({ hazard: 0.01, thresold: 1 }, base, "ctl.collapse");
    assert.unreachable("an unknown field must be rejected");
  } catch (err) {
    assert.instance(err, ConfigError);
    assert.is((err as ConfigError).field, "ctl.collapse.thresold");
  }
});

test("route() keys one instance per channel", () => {
  assert.equal(collapseActor.route("cpu-7", collapseActor.defaultConfig), ["cpu-7"]);
  assert.is(collapseActor.kind, "collapse");
});

test("frameEvent() summarises a frame, and gives none for a frame with nothing valid", () => {
  const st = collapseActor.kernel.init(collapseActor.defaultConfig, "cpu-7");
  const f: SampleFrame = {
    channel: "cpu-7",
    seq0: 0,
    t: Float64Array.of(T0, T0 + 1, T0 + 2.6),
    v: Float64Array.of(1, 1.5, 0.5),
  };
  const r = collapseActor.kernel.step(st, f);
  assert.equal(collapseActor.frameEvent(r, f), {
    type: "frame",
    ts: T0 + 3,
    changes: [],
    changeProbMax: r.changeProbMax,
    changeProbLast: r.changeProbLast,
    samplesSinceChange: 2,
    phase: "stable",
    valid: 3,
  });
  const bad: SampleFrame = {
    channel: "cpu-7",
    seq0: 3,
    t: Float64Array.of(T0 + 9),
    v: Float64Array.of(NaN),
  };
  assert.is(collapseActor.frameEvent(collapseActor.kernel.step(st, bad), bad), undefined);
});

test("columns() gives change_prob and run_length for every sample, over the frame's times", () => {
  const st = collapseActor.kernel.init(collapseActor.defaultConfig, "cpu-7");
  const [f] = series(2, 120);
  const r = collapseActor.kernel.step(st, f!);
  const cols = collapseActor.columns!(r, f!, "cpu-7")!;
  assert.equal(Object.keys(cols.columns).sort(), ["change_prob", "run_length"]);
  assert.is(cols.columns.change_prob!.length, f!.v.length);
  assert.equal(Array.from(cols.columns.run_length!.subarray(0, 3)), [0, 1, 2]);
  assert.equal(Array.from(cols.t), Array.from(f!.t));
  assert.is(cols.seq0, f!.seq0);
});

function frameRecord(f: SampleFrame, k: number): InputRecord {
  const payload = encodeFrame(f, { id: `in-${k}`, src: "test" });
  return { kind: "frame", srcPos: k + 1, subject: "troupe.feed.f.cpu-7", payload };
}

function ctlRecord(body: unknown, k: number): InputRecord {
  const payload = encodeEnvelope({ id: `ctl-${k}`, type: "config", src: "test", ts: T0, body });
  return { kind: "ctl", srcPos: k + 1, subject: "troupe.ctl.collapse", payload };
}

function publish(outputs: Output[], log: string[]) {
  for (const o of outputs) {
    const env = decodeEnvelope(o.data);
    // A finding on its own subject, the per-sample outputs on the kind's.
    const area = env.type === "collapse" ? "finding" : "out";
    assert.is(o.subject, `troupe.${area}.collapse.cpu-7`);
    if (env.type === "columns") {
      const { frame } = decodeColumns(o.data);
      log.push(`${o.id} ${Array.from(frame.columns.change_prob!).join(",")}`);
    } else log.push(`${o.id} ${env.type} ${env.ts} ${JSON.stringify(env.body)}`);
  }
}

test("under the host's ActorInstance it publishes one collapse per change and restores exactly", () => {
  const records = series(4, 4500).map(frameRecord);
  records.splice(5, 0, ctlRecord({ hazard: 0.002, recover_samples: 20 }, 999));
  const whole: string[] = [];
  const a = ActorInstance.create(collapseActor, "cpu-7", collapseActor.defaultConfig);
  records.forEach((r, k) => publish(a.apply(r, k + 1), whole));
  const events = whole.filter((line) => line.includes(" collapse "));
  assert.is(events.length, 2, events.join("\n"));
  const bodies = events.map((line) => JSON.parse(line.slice(line.indexOf("{"))));
  assert.ok(Math.abs(bodies[0].change_index - 1500) <= 2 && bodies[0].direction === "up");
  assert.ok(Math.abs(bodies[1].change_index - 3000) <= 2 && bodies[1].direction === "down");
  assert.is(bodies[0].channel, "cpu-7");
  assert.is(bodies[0].change_ts, T0 + bodies[0].change_index * STEP_US);
  // The envelope's time is when the change was confirmed.
  const ts = Number(events[0]!.split(" ")[2]);
  assert.is(ts, bodies[0].change_ts + bodies[0].delay_samples * STEP_US);
  assert.is(a.machineState, "stable");
  for (const cut of [3, 40]) {
    const parts: string[] = [];
    const b = ActorInstance.create(collapseActor, "cpu-7", collapseActor.defaultConfig);
    records.slice(0, cut).forEach((r, k) => publish(b.apply(r, k + 1), parts));
    const snap = b.snapshot();
    b.stop();
    const c = ActorInstance.restore(collapseActor, "cpu-7", snap);
    records.slice(cut).forEach((r, k) => publish(c.apply(r, cut + k + 1), parts));
    assert.equal(parts, whole, `cut at ${cut}`);
    c.stop();
  }
  a.stop();
});

test("frames that confirm nothing in the machine's phase send it no event, with the outputs and snapshots of an instance sent every event", () => {
  // One-sample frames, the shape of a scrape: every phase is met (the changes at 1500 and 3000
  // pass through suspect, collapsed and recovering), and most frames change nothing.
  const records: InputRecord[] = [];
  for (const f of series(9, 4500)) {
    for (let i = 0; i < f.t.length; i++) {
      records.push(frameRecord({
        channel: f.channel,
        seq0: f.seq0 + i,
        t: f.t.subarray(i, i + 1),
        v: f.v.subarray(i, i + 1),
      }, records.length));
    }
  }
  let sent = 0;
  const counting = {
    ...collapseActor,
    frameEvent: (...args: Parameters<typeof collapseActor.frameEvent>) => {
      const e = collapseActor.frameEvent(...args);
      if (e) sent++;
      return e;
    },
  };
  // Told no machine state, frameEvent sends every frame's event, as before the shortcut.
  const everyEvent = {
    ...collapseActor,
    frameEvent: (r: CollapseResult, f: SampleFrame) => collapseActor.frameEvent(r, f),
  };
  const a = ActorInstance.create(counting, "cpu-7", collapseActor.defaultConfig);
  const b = ActorInstance.create(everyEvent, "cpu-7", collapseActor.defaultConfig);
  const phases = new Set<unknown>();
  records.forEach((r, k) => {
    assert.equal(a.apply(r, k + 1), b.apply(r, k + 1), `input ${k + 1}`);
    phases.add(a.machineState);
    if (k % 97 === 0 || k === records.length - 1) {
      const sa = a.snapshot(), sb = b.snapshot();
      assert.equal(sa.machine, sb.machine, `machine snapshot at ${k + 1}`);
      assert.equal(Array.from(sa.kernel), Array.from(sb.kernel), `kernel snapshot at ${k + 1}`);
    }
  });
  assert.equal([...phases].sort(), ["collapsed", "recovering", "stable", "suspect"]);
  assert.ok(sent > 0 && sent < records.length / 20, `${sent} events for ${records.length} frames`);
  a.stop();
  b.stop();
});

test.run();
