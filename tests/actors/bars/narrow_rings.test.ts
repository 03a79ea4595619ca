/**
 * A bars ring holds start and close only while each of its bars is one sample's, and all seven
 * columns from its first bar of more: the same bars either way. A feed of one-second bars of one
 * sample, then bars of two, -0 and a seed, framed many ways, through a short ring that wraps: the
 * closed bars, the saved bytes after every frame (the digest below was taken from the kernel that
 * kept seven columns always), the bars read and viewed, and a state saved and loaded on the way.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createHash } from "node:crypto";
import {
  type BarsConfig,
  barsKernel,
  type BarsState,
  type HeldBars,
  heldCount,
  heldView,
  readHeld,
} from "../../../actors/bars/mod.ts";
import type { SampleFrame } from "../../../protocol/mod.ts";

const test = suite("bars narrow rings");

const T0 = 1_699_999_980_000_000; // µs, a whole minute
const CONFIG: BarsConfig = { bar_sizes: ["1s", "1m"], history_bars: 24, close_grace_ms: 0 };
const FRAMES = [1, 1, 3, 7, 1, 2, 5];

/** Sample i's time and value: one a second, then two a second from sample 70; -0 at 40. */
function sample(i: number): [number, number] {
  const sec = i < 70 ? i : 70 + Math.floor((i - 70) / 2);
  const t = T0 + sec * 1_000_000 + (i >= 70 && i % 2 === 1 ? 500_000 : 0);
  return [t, i === 40 ? -0 : ((i * 37) % 11) - 5 + i / 8];
}

function frames(from: number, to: number): SampleFrame[] {
  const out: SampleFrame[] = [];
  for (let i = from, k = 0; i < to; k++) {
    const n = Math.min(FRAMES[k % FRAMES.length]!, to - i);
    const t = new Float64Array(n), v = new Float64Array(n), seq0 = i;
    for (let j = 0; j < n; j++, i++) [t[j], v[j]] = sample(i);
    out.push({ channel: "n", seq0, t, v });
  }
  return out;
}

const COLUMNS = ["t", "open", "high", "low", "close", "count", "sum"] as const;

/** The closed bars of size index `j`, copied. */
function held(state: BarsState, j: number): HeldBars {
  const n = heldCount(state, j);
  const out = Object.fromEntries(
    COLUMNS.map((k) => [k, new Float64Array(n)]),
  ) as unknown as HeldBars;
  readHeld(state, j, out);
  return out;
}

/** The bytes of the one-second ring's columns. */
function ringBytes(state: BarsState): number {
  return state.sizes[0]!.ring.byteLength;
}

test("a ring of one-sample bars keeps two columns and saves and reads as seven", () => {
  const h = createHash("sha256");
  let state = barsKernel.init(CONFIG, "n");
  const narrowAt: number[] = [];
  for (const frame of frames(0, 140)) {
    const closed = barsKernel.step(state, frame);
    h.update(new Uint8Array(closed.data.buffer, 0, closed.count * 8 * 8));
    const saved = barsKernel.save(state);
    h.update(saved);
    // Every bar read equals what the view gives (the view of a narrow ring shares the close).
    const bars = held(state, 0), view = heldView(state, 0);
    for (const k of COLUMNS) {
      if (view) assert.equal([...view[k]], [...bars[k]], k);
    }
    if (2 * 8 * state.sizes[0]!.meta[10]! === ringBytes(state)) narrowAt.push(frame.seq0);
    if (frame.seq0 % 3 === 0) state = barsKernel.load(saved);
  }
  const seeded = barsKernel.seed(state, {
    sizeUs: 60_000_000,
    t: new Float64Array([T0 - 120_000_000, T0 - 60_000_000]),
    open: new Float64Array([1, 2]),
    high: new Float64Array([1, 2]),
    low: new Float64Array([1, 2]),
    close: new Float64Array([1, 2]),
    count: new Float64Array([1, 1]),
    sum: new Float64Array([1, 2]),
  });
  h.update(barsKernel.save(state));
  assert.is(seeded, 2, "before bars data made: dropped");
  assert.is(
    h.digest("hex"),
    "dbbcbb6170e8808b1fcf9cf46617a56bdcb2447c9ff0227d36de4e31d51ee528",
  );
  // Narrow until the first bar of two samples closed (by sample 72), wide after.
  assert.ok(narrowAt.length > 20 && narrowAt.every((seq0) => seq0 <= 72), `${narrowAt}`);
  assert.is(ringBytes(state), 7 * 8 * 24);
});

test("a loaded ring of one-sample bars is narrow, and a bar of two widens it", () => {
  const state = barsKernel.init(CONFIG, "n");
  for (const frame of frames(0, 60)) barsKernel.step(state, frame);
  const saved = barsKernel.save(state);
  const back = barsKernel.load(saved);
  assert.is(ringBytes(back), 2 * 8 * 24);
  assert.equal(barsKernel.save(back), saved);
  assert.equal(held(back, 0), held(state, 0));
  const [t] = sample(60);
  barsKernel.step(back, {
    channel: "n",
    seq0: 60,
    t: new Float64Array([t, t + 1]),
    v: new Float64Array([1, 2]),
  });
  barsKernel.step(back, {
    channel: "n",
    seq0: 62,
    t: new Float64Array([t + 2e6]),
    v: new Float64Array([3]),
  });
  assert.is(ringBytes(back), 7 * 8 * 24);
  const bars = held(back, 0);
  assert.equal([bars.count.at(-1), bars.open.at(-1), bars.high.at(-1), bars.sum.at(-1)], [
    2,
    1,
    2,
    3,
  ]);
  assert.equal([...bars.count.subarray(0, -1)], new Array(23).fill(1));
});

test.run();
