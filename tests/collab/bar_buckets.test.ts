import { suite } from "uvu";
import * as assert from "uvu/assert";
import { barsKernel, CLOSED_FIELDS, type ClosedBars } from "../../actors/bars/mod.ts";
import { BarBuckets, historyBarSizeUs } from "../../collab/history/bar_buckets.ts";
import { HISTORY_BAR_COLUMNS, type HistoryBars } from "../../protocol/mod.ts";
import { Prng } from "../../sim/mod.ts";

const test = suite("bar buckets");
const SEED = 31;
const DAY_US = 86_400e6;
/** A day's start, µs (a whole day since the epoch, so bars align from it). */
const DAY0 = 20_000 * DAY_US;

/** A random walk of n samples 1 s apart from t0 (µs), with one spike up and one down. */
function walk(n: number, t0: number, prng: Prng) {
  const t = new Float64Array(n), v = new Float64Array(n);
  for (let i = 0, x = 100; i < n; i++) {
    t[i] = t0 + i * 1e6;
    x += prng.normal();
    v[i] = i === 40_001 ? x + 1000 : i === 7_777 ? x - 1000 : x;
  }
  return { t, v };
}

/** Adds the samples in frames of uneven sizes, the frames in a shuffled order. */
function addShuffled(b: BarBuckets, t: Float64Array, v: Float64Array, prng: Prng): void {
  const frames: Array<[number, number]> = [];
  for (let at = 0; at < t.length;) {
    const n = 1 + Math.floor(prng.next() * 500);
    frames.push([at, Math.min(t.length, at + n)]);
    at += n;
  }
  for (let i = frames.length - 1; i > 0; i--) {
    const j = Math.floor(prng.next() * (i + 1));
    [frames[i], frames[j]] = [frames[j]!, frames[i]!];
  }
  for (const [a, z] of frames) b.add(t.subarray(a, z), v.subarray(a, z));
}

function rows(bars: HistoryBars): number[][] {
  return [...bars.t].map((_, i) => HISTORY_BAR_COLUMNS.map((c) => bars[c][i]!));
}

test("bars() gives each bar's open, high, low, close and count, as a brute force finds them", () => {
  const prng = new Prng(SEED);
  const { t, v } = walk(86_400, DAY0 + 17e6, prng);
  const b = new BarBuckets({ t0: DAY0, t1: DAY0 + DAY_US, bars_max: 250 });
  addShuffled(b, t, v, prng);
  const got = b.bars();
  // 250 bars at most over a day: 5m makes 288, so 15m bars (96).
  assert.is(got.size_us, 900e6, `seed ${SEED}`);
  const expected = new Map<number, number[]>();
  // The walk starts 17 s into the day: its last 17 s are past the range, and left out.
  for (let i = 0; i < t.length && t[i]! < DAY0 + DAY_US; i++) {
    const start = Math.floor(t[i]! / 900e6) * 900e6;
    const bar = expected.get(start);
    if (!bar) expected.set(start, [start, v[i]!, v[i]!, v[i]!, v[i]!, 1]);
    else {
      bar[2] = Math.max(bar[2]!, v[i]!);
      bar[3] = Math.min(bar[3]!, v[i]!);
      bar[4] = v[i]!;
      bar[5]!++;
    }
  }
  assert.equal(rows(got), [...expected.values()], `seed ${SEED}`);
  assert.ok(got.high.includes(v[40_001]!), "the spike up is a bar's high");
  assert.ok(got.low.includes(v[7_777]!), "the spike down is a bar's low");
});

test("a coarser bar is the merge of the finer bars it covers: no spike lost", () => {
  const prng = new Prng(SEED + 1);
  const { t, v } = walk(86_400, DAY0, prng);
  const fine = new BarBuckets({ t0: DAY0, t1: DAY0 + DAY_US, bars_max: 1440 });
  const coarse = new BarBuckets({ t0: DAY0, t1: DAY0 + DAY_US, bars_max: 24 });
  fine.add(t, v);
  addShuffled(coarse, t, v, prng);
  assert.is(fine.size_us, 60e6);
  assert.is(coarse.size_us, 3600e6);
  const merged = new Map<number, number[]>();
  for (const [ts, open, high, low, close, count] of rows(fine.bars())) {
    const start = Math.floor(ts! / 3600e6) * 3600e6;
    const m = merged.get(start);
    if (!m) merged.set(start, [start, open!, high!, low!, close!, count!]);
    else {
      m[2] = Math.max(m[2]!, high!);
      m[3] = Math.min(m[3]!, low!);
      m[4] = close!;
      m[5]! += count!;
    }
  }
  assert.equal(rows(coarse.bars()), [...merged.values()], `seed ${SEED + 1}`);
  const spikeHour = coarse.bars().high[Math.floor(40_001 / 3600)]!;
  assert.is(spikeHour, v[40_001]!, "the hour's high is the spike");
});

test("a minute's bar is the bars actor's 1m bar of the same samples", () => {
  const prng = new Prng(SEED + 3);
  const { t, v } = walk(7_200, DAY0 + 13e6, prng);
  const state = barsKernel.init(
    { bar_sizes: ["1m"], history_bars: 500, close_grace_ms: 1000 },
    "K",
  );
  const actor: number[][] = [];
  const take = (c: ClosedBars) => {
    for (let k = 0; k < c.count; k++) {
      const f = c.data.subarray(k * CLOSED_FIELDS, (k + 1) * CLOSED_FIELDS);
      actor.push([f[1]!, f[2]!, f[3]!, f[4]!, f[5]!, f[6]!]);
    }
  };
  for (let at = 0; at < t.length; at += 60) {
    const frame = {
      channel: "K",
      seq0: at,
      t: t.subarray(at, at + 60),
      v: v.subarray(at, at + 60),
    };
    take(barsKernel.step(state, frame));
  }
  take(barsKernel.advance(state, DAY0 + DAY_US));
  const b = new BarBuckets({ t0: DAY0, t1: DAY0 + 7_300e6, bars_max: 200 });
  b.add(t, v);
  assert.is(b.size_us, 60e6);
  assert.equal(rows(b.bars()), actor, `seed ${SEED + 3}`);
});

test("bars stay within bars_max, aligned to the epoch, and skip what is outside or NaN", () => {
  const prng = new Prng(SEED + 2);
  for (let k = 0; k < 200; k++) {
    const t0 = DAY0 + Math.floor(prng.next() * DAY_US);
    const span = 1 + Math.floor(prng.next() * 31 * DAY_US);
    const barsMax = 1 + Math.floor(prng.next() * 4096);
    const size = historyBarSizeUs(t0, t0 + span, barsMax);
    const slots = Math.floor((t0 + span - 1) / size) - Math.floor(t0 / size) + 1;
    assert.ok(slots <= barsMax, `seed ${SEED + 2} case ${k}: ${slots} bars of ${size} µs`);
    assert.ok(size % 1e6 === 0, `whole seconds, got ${size}`);
  }
  const b = new BarBuckets({ t0: DAY0 + 10e6, t1: DAY0 + 20e6, bars_max: 10 });
  b.add(
    Float64Array.of(DAY0 + 9e6, DAY0 + 10e6, DAY0 + 11e6, DAY0 + 12e6, DAY0 + 20e6),
    Float64Array.of(1, 2, NaN, 3, 4),
  );
  assert.equal(rows(b.bars()), [[DAY0 + 10e6, 2, 2, 2, 2, 1], [DAY0 + 12e6, 3, 3, 3, 3, 1]]);
  assert.throws(() => new BarBuckets({ t0: 5, t1: 5, bars_max: 4 }), /t0 5 and t1 5/);
  assert.throws(() => new BarBuckets({ t0: 0, t1: 5, bars_max: 0 }), /bars_max .* got 0/);
});

test.run();
