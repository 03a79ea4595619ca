/**
 * The test kit's checks fail where they should, naming where and how: a kernel that reads the
 * clock or Math.random, a save that loses a bit, a decision made per frame, a recording the code
 * no longer reproduces. And they pass a kind that is right (examples/ run them on theirs).
 */
import { join } from "node:path";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { defineKind, type Finding, type KindSpec } from "../../../actors/kind/mod.ts";
import type { ConfigSchema } from "../../../actors/kind/mod.ts";
import type { SampleFrame } from "../../../protocol/mod.ts";
import {
  checkFraming,
  checkPure,
  checkReplay,
  checkSaveLoad,
  framesOf,
  KindCheckError,
  recordKind,
  type Series,
} from "../../../sim/kit/mod.ts";
import { tempDir } from "../../_support/nats.ts";

const test = suite("test kit");
const dir = tempDir("troupe-kit-");
test.after(() => dir.remove());

const T0 = 1_700_000_000_000_000;

/** A ramp with a step up at 300: the running-max kind finds the step. */
function series(n = 500): Series {
  const t = new Float64Array(n), v = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    t[i] = T0 + i * 1000;
    v[i] = i * 0.001 + (i >= 300 ? 10 : 0) + ((i * 7919) % 13) / 1000;
  }
  return { channel: "c", t, v };
}

interface MaxState {
  max: number;
  jumps: number;
}

/** A kind that finds each sample more than `jump` above the running max; `tweak` breaks it. */
function maxKind(
  name: string,
  tweak: Partial<KindSpec<MaxState, ConfigSchema>["kernel"]> = {},
  jump = 1,
) {
  return defineKind({
    kind: name,
    version: 1,
    config: {},
    findings: [{ type: `${name}_jump`, measure: "by", edges: [2, 3, 4, 5], unit: "units" }],
    kernel: {
      init: () => ({ max: -Infinity, jumps: 0 }),
      step(state: MaxState, frame: SampleFrame) {
        const findings: Finding[] = [];
        for (let i = 0; i < frame.v.length; i++) {
          const x = frame.v[i]!;
          if (x > state.max + jump && state.max > -Infinity) {
            findings.push({
              type: `${name}_jump`,
              ts: frame.t[i]!,
              channel: frame.channel,
              by: x - state.max,
            });
          }
          state.max = Math.max(state.max, x);
        }
        return { findings };
      },
      save: (s: MaxState) => new Uint8Array(new Float64Array([s.max, s.jumps]).buffer),
      load: (b: Uint8Array) => {
        const f = new Float64Array(b.slice().buffer);
        return { max: f[0]!, jumps: f[1]! };
      },
      ...tweak,
    },
  });
}

test("a right kind passes every check", () => {
  const good = maxKind("kitgood");
  assert.ok(checkSaveLoad(good, framesOf([series()], 16)).outputs >= 1);
  assert.is(checkFraming(good, [series()]).findings, 1);
  checkPure(good, framesOf([series()], 16));
});

test("checkPure() refuses a kernel that reads Date.now or Math.random, naming it", () => {
  const clock = maxKind("kitclock", {
    step(s: MaxState) {
      s.max = Date.now();
      return undefined;
    },
  });
  const random = maxKind("kitrandom", {
    step(s: MaxState) {
      s.max = Math.random();
      return undefined;
    },
  });
  const dated = maxKind("kitdated", {
    init: () => ({ max: new Date().getTime(), jumps: 0 }),
  });
  const frames = framesOf([series(20)], 5);
  assert.throws(() => checkPure(clock, frames), /kitclock kernel\.step\(\) reads the wall clock/);
  assert.throws(() => checkPure(random, frames), /kitrandom kernel\.step\(\) reads Math\.random/);
  assert.throws(() => checkPure(dated, frames), /kitdated kernel\.init\(\) reads the wall clock/);
  assert.ok(typeof Date.now() === "number" && Math.random() < 1, "the doors are open again");
});

test("checkSaveLoad() finds a save that loses precision, naming the frame", () => {
  const lossy = maxKind("kitlossy", {
    save: (s: MaxState) => new Uint8Array(new Float32Array([s.max, s.jumps]).buffer),
    load: (b: Uint8Array) => {
      const f = new Float32Array(b.slice().buffer);
      return { max: f[0]!, jumps: f[1]! };
    },
  }, 0.0005);
  try {
    checkSaveLoad(lossy, framesOf([series()], 16));
    assert.unreachable("a lossy save passed");
  } catch (err) {
    assert.instance(err, KindCheckError);
    assert.match(
      (err as Error).message,
      /kitlossy: saving and loading the state changes what it publishes: frame \d+ .*check that save\(\) writes every field/,
    );
  }
});

test("checkFraming() finds a decision made per frame, naming the framings", () => {
  // Compares each frame's max with the last frame's: the verdict moves with the framing.
  const perFrame = maxKind("kitframe", {
    step(state: MaxState, frame: SampleFrame) {
      let m = -Infinity;
      for (const x of frame.v) m = Math.max(m, x);
      const out = m > state.max + 1 && state.max > -Infinity
        ? [{ type: "kitframe_jump", ts: frame.t[0]!, channel: frame.channel, by: m - state.max }]
        : [];
      state.max = Math.max(state.max, m);
      return { findings: out };
    },
  });
  assert.throws(
    () => checkFraming(perFrame, [series()]),
    /kitframe: framing changes a verdict on kitframe\/c: finding 0 is kitframe_jump at ts \d+ in frames of 1 samples but/,
  );
});

test("checkReplay() passes the recording of the same code, and names the first output a change moves", async () => {
  const path = join(dir.path, "golden.rec");
  const written = recordKind(path, maxKind("kitreplay"), framesOf([series()], 50));
  assert.ok(written.outputs >= 1);
  const ok = await checkReplay(path, { kinds: [maxKind("kitreplay")] });
  assert.is(ok.verify!.equal, written.outputs);
  try {
    await checkReplay(path, { kinds: [maxKind("kitreplay", {}, 20)] });
    assert.unreachable("a changed verdict replayed");
  } catch (err) {
    assert.instance(err, KindCheckError, String(err));
    assert.match(
      (err as Error).message,
      /The code no longer reproduces .*golden\.rec: output \d+ on troupe\.out\.kitreplay\.c/,
    );
  }
});

test.run();
