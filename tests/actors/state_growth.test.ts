/**
 * Kernels' buffers that grow as they fill (the anomaly kernel's key table and warm-up samples, the
 * collapse kernel's ring of recent samples, the bars kernel's closed-bars scratch) change no
 * number: each default kind fed past every growth step, in frames of many sizes, gives the outputs
 * and the saved bytes after every frame that the kernels gave when those buffers were allocated
 * whole (the digests below were taken from that code), and a state saved and loaded after every
 * frame goes on the same, and so do two states stepped in turn, each step given the last result
 * of either to reuse, as a host's instances of a kind share their spent results (the bars
 * kernel's scratch is then one for both, by steps and by clock ticks alike).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createHash, type Hash } from "node:crypto";
import { ACTOR_KINDS } from "../../actors/mod.ts";
import {
  barsActor,
  barsClosedEvent,
  barsKernel,
  type BarsState,
  defaultBarsConfig,
} from "../../actors/bars/mod.ts";
import type { Kernel, SampleFrame } from "../../protocol/mod.ts";

const test = suite("kernel state growth");

const T0 = Date.UTC(2024, 0, 1) * 1000;
const STEP_US = 15_000_000;
const SAMPLES = 1_100;
/** Frame sizes, in turn: single samples (the remote-write shape) between longer frames. */
const FRAMES = [1, 1, 3, 7, 1, 16, 1, 50, 2, 1, 33];

/**
 * A channel with a triangular wave, a little noise, a step at sample 600 and a gap in time at 800
 * (integer arithmetic only: every runtime computes the same values).
 */
function wave(i: number): number {
  const noise = ((i * 7919) % 13) - 6, phase = i % 120;
  return 100 + (phase < 60 ? phase : 120 - phase) / 3 + noise + (i >= 600 ? 50 : 0);
}

/**
 * A channel that wanders widely (a walk of pseudo-random steps of many sizes): the anomaly
 * kernel's key set outgrows its list and its first table.
 */
function wild(i: number): number {
  let walk = 0;
  for (let j = 0, x = 12345; j <= i; j++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    walk += ((x >>> 8) % 2001 - 1000) * (1 + (j % 7) * (j % 7));
  }
  return walk;
}

const CHANNELS: Record<string, (i: number) => number> = { wave, wild };

function frames(sample: (i: number) => number): SampleFrame[] {
  const out: SampleFrame[] = [];
  for (let i = 0, k = 0; i < SAMPLES; k++) {
    const n = Math.min(FRAMES[k % FRAMES.length]!, SAMPLES - i);
    const t = new Float64Array(n), v = new Float64Array(n), seq0 = i;
    for (let j = 0; j < n; j++, i++) {
      t[j] = T0 + i * STEP_US + (i >= 800 ? 3_600_000_000 : 0);
      v[j] = sample(i);
    }
    out.push({ channel: "growth", seq0, t, v });
  }
  return out;
}

/** Folds a step's result into the digest: numbers by their bytes, objects by sorted key. */
function digestValue(h: Hash, x: unknown): void {
  if (typeof x === "number") {
    h.update(new Uint8Array(new Float64Array([x]).buffer));
  } else if (ArrayBuffer.isView(x)) {
    h.update(new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
  } else if (Array.isArray(x)) {
    h.update(`[${x.length}`);
    for (const e of x) digestValue(h, e);
  } else if (x !== null && typeof x === "object") {
    for (const key of Object.keys(x).sort()) {
      h.update(`{${key}`);
      digestValue(h, (x as Record<string, unknown>)[key]);
    }
  } else {
    h.update(`${typeof x}:${String(x)}`);
  }
}

interface ClosedBarsLike {
  count: number;
  data: Float64Array;
  late: number;
}

/** The bars kernel's result is a scratch: its closed bars are the first `count`. */
function digestResult(h: Hash, kind: string, result: unknown): void {
  if (kind !== "bars") return digestValue(h, result);
  const closed = result as ClosedBarsLike;
  digestValue(h, [closed.count, closed.late, closed.data.subarray(0, 8 * closed.count)]);
}

/**
 * The digest of every result and every saved state of `kind` over the channel's feed (of the
 * results alone with `saves` false).
 */
function run(kind: string, channel: string, reload: boolean, saves = true): string {
  const def = ACTOR_KINDS[kind]!;
  const kernel = def.kernel as Kernel<unknown, unknown, unknown>;
  const h = createHash("sha256");
  let state = kernel.init(def.defaultConfig, "growth");
  if (saves) h.update(kernel.save(state));
  for (const frame of frames(CHANNELS[channel]!)) {
    digestResult(h, kind, kernel.step(state, frame));
    const saved = kernel.save(state);
    if (saves) h.update(saved);
    if (reload) state = kernel.load(saved);
  }
  return h.digest("hex");
}

/**
 * The digests of `kind` over each channel, their states stepped in turn, each step given the last
 * result of either to reuse.
 */
function runInTurn(kind: string): Record<string, string> {
  const def = ACTOR_KINDS[kind]!;
  const kernel = def.kernel as Kernel<unknown, unknown, unknown>;
  const names = Object.keys(CHANNELS);
  const feeds = names.map((c) => frames(CHANNELS[c]!));
  const states = names.map(() => kernel.init(def.defaultConfig, "growth"));
  const hashes = names.map((_, c) => createHash("sha256").update(kernel.save(states[c])));
  let spent: unknown;
  for (let k = 0; k < feeds[0]!.length; k++) {
    for (let c = 0; c < names.length; c++) {
      spent = kernel.step(states[c], feeds[c]![k]!, spent);
      digestResult(hashes[c]!, kind, spent);
      hashes[c]!.update(kernel.save(states[c]));
    }
  }
  return Object.fromEntries(names.map((c, i) => [c, hashes[i]!.digest("hex")]));
}

/**
 * Two bars states fed the channels in turn, a clock tick 2 s after each frame closing what it
 * may: the digest of every event and saved state, with the kind's tickEvent and spent results
 * reused (`share`) or each state's own scratch; and the states.
 */
function barsInTurn(share: boolean): { digest: string; states: BarsState[] } {
  const feeds = Object.values(CHANNELS).map((sample) => frames(sample));
  const states = feeds.map(() => barsKernel.init(defaultBarsConfig, "growth"));
  const h = createHash("sha256");
  let spent: ReturnType<typeof barsKernel.step> | undefined;
  for (let k = 0; k < feeds[0]!.length; k++) {
    states.forEach((st, c) => {
      const frame = feeds[c]![k]!;
      spent = barsKernel.step(st, frame, share ? spent : undefined);
      digestValue(h, barsClosedEvent(spent));
      const ts = frame.t[frame.t.length - 1]! + 2_000_000;
      const ticked = share
        ? barsActor.tickEvent!(st, ts)
        : barsClosedEvent(barsKernel.advance(st, ts));
      digestValue(h, ticked);
      h.update(barsKernel.save(st));
    });
  }
  return { digest: h.digest("hex"), states };
}

/**
 * Digests from the kernels before their buffers grew (a fixed expectation, not recomputed); the
 * anomaly kind's since its format 27 saves its tallies as counts of a byte or two (26 saved its
 * keys' times of birth once each and an index a key, 25 kept its key tables up to three quarters
 * full, 24 saved the warm-up values it holds, not its whole buffer; its results, pinned below,
 * moved with none of them); the collapse kind's
 * since its format 10 saves its ring as far as reached and its seasons' features in use (its
 * results moved not).
 */
const EXPECTED: Record<string, string> = {
  "stats wave": "5e97225f44310c85bd7f4d4a45891b5f0dd66c1e248a40dc3f56654d188db9bf",
  "stats wild": "e96a5af0c5c2d42680ed4084bebad2f18d59dbaa4353e2ef54750868adb0cc9c",
  "anomaly wave": "110a8465a4c9b206f244ecce84893d9c356b4b70671ccfebdcc18286eccc209c",
  "anomaly wild": "3e1e98fae837bb32d9754325269a5f9f60b1cac4035188e6459e42d2d7f0c453",
  "collapse wave": "1a2d5561da6118f828e6440834a2eae86e41e5714fb73afb96869623c50aa726",
  "collapse wild": "d49b51817edb23c59a71fcac613c16fc5277dea0ef0df0f90f39d2cc0353b097",
  "bars wave": "c63318a2ae22cb22667d0ce117f77b86151526e7b8ad1b0cb329828d084c6ba0",
  "bars wild": "591600747be2cbdaf6fd021248fb98403aa3f7c8583d552f287be824bd9b7fb8",
};

/**
 * The results alone, each state saved and loaded after every frame: a change of a kind's saved
 * format moves the digests above, never these.
 */
const EXPECTED_RESULTS: Record<string, string> = {
  "stats wave": "622727c094762859fb2ef0251b406e7ff5b7606edf9fc8c2b79bec02a62b191e",
  "stats wild": "27fdc3c9a1d20e1bd55ca9d2e2233383d4f1f6714edcf0f15c8f78f007d53200",
  "anomaly wave": "9dac585a246274a36589babc33239c02b9effa9edc68d639490b1784630fcbd4",
  "anomaly wild": "51465c326e4553983433a5109c54f6b36c7707cb85d04b1568f542ae456d8307",
  "collapse wave": "687cb8fa78ccc7ee97af4b042da99815ff39491ddaa575b4f79ece9d243f608b",
  "collapse wild": "3d3031402f118c219fbcac70c6dc4cc3ed97eb8bbeee6cd57bd52f42dd3edf87",
  "bars wave": "900aabdb6c28325b27afca4c307c155ba18ec04f00bd6177b366eea4d25732e2",
  "bars wild": "949dcf812a338b88d8179fd7a59ea4b2e28db78ae493c926950ec66b659e7cea",
};

for (const kind of ["stats", "anomaly", "collapse", "bars"]) {
  test(`${kind}: states stepped in turn, reusing each other's results, as each alone`, () => {
    const got = runInTurn(kind);
    for (const channel of Object.keys(CHANNELS)) {
      assert.is(got[channel], EXPECTED[`${kind} ${channel}`], channel);
    }
  });
}

test("bars: steps and ticks with one scratch for two states close the bars each alone does", () => {
  const shared = barsInTurn(true), own = barsInTurn(false);
  assert.is(shared.digest, own.digest);
  // The scratch is one: the states hold one buffer, not one each.
  assert.is(shared.states[0]!.closed.data, shared.states[1]!.closed.data);
  assert.is.not(own.states[0]!.closed.data, own.states[1]!.closed.data);
});

for (const [name, expected] of Object.entries(EXPECTED)) {
  const [kind, channel] = name.split(" ") as [string, string];
  test(`${name}: outputs and saved bytes as before, fed past each growth step`, () => {
    assert.is(run(kind, channel, false), expected);
  });
  test(`${name}: a state saved and loaded after every frame goes on the same`, () => {
    assert.is(run(kind, channel, true), expected);
  });
  test(`${name}: results as before, the state saved and loaded after every frame`, () => {
    assert.is(run(kind, channel, true, false), EXPECTED_RESULTS[name]);
  });
}

test.run();
