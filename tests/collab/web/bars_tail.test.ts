/**
 * The bars a card's strip draws while its line shows a history answer
 * (collab/web/browser/chart/_bars_tail.ts): the answer's, then the bars that closed live after them,
 * folded into the answer's size and cut at the window's end. On the code before, the strip drew
 * the answer's bars alone (tests/collab/dashboard_strip_tail_browser.test.ts shows it in
 * Chromium).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  type BarColumns,
  barsWithTail,
  bucketOf,
} from "../../../collab/web/browser/chart/_bars_tail.ts";

const test = suite("bars tail");

/** Columns of bars given as [start, open, high, low, close] rows. */
function columns(rows: number[][]): BarColumns {
  const col = (k: number) => Float64Array.from(rows, (r) => r[k]!);
  return [col(0), col(1), col(2), col(3), col(4)];
}

/** The rows of `bars`, for comparing. */
function rows(bars: BarColumns): number[][] {
  return Array.from(bars[0], (_, i) => bars.map((c) => c[i]!));
}

const T = 1_795_576_000;

test("live bars of the answer's size after its last are appended, up to the window's end", () => {
  const past = columns([[T, 1, 2, 0, 1], [T + 1, 1, 3, 1, 2]]);
  const held = columns([[T - 5, 9, 9, 9, 9], [T + 2, 2, 4, 2, 3], [T + 3, 3, 5, 3, 4]]);
  const got = barsWithTail({ bars: past, sizeS: 1 }, { bars: held, sizeS: 1 }, T + 2);
  assert.equal(rows(got), [[T, 1, 2, 0, 1], [T + 1, 1, 3, 1, 2], [T + 2, 2, 4, 2, 3]]);
  // Nothing after the answer within the window: the answer's own columns.
  assert.is(barsWithTail({ bars: past, sizeS: 1 }, { bars: held, sizeS: 1 }, T + 1.5), past);
});

test("a live bar in the answer's last bucket is folded into it, counted twice or not", () => {
  const past = columns([[T, 10, 12, 9, 11]]);
  // The answer read the first second of its last 5 s bar; the live ones hold it again and on.
  const held = columns([[T, 10, 12, 9, 11], [T + 1, 11, 15, 8, 14], [T + 5, 14, 14, 13, 13]]);
  const got = barsWithTail({ bars: past, sizeS: 5 }, { bars: held, sizeS: 1 }, Infinity);
  assert.equal(rows(got), [[T, 10, 15, 8, 14], [T + 5, 14, 14, 13, 13]]);
});

test("live 1 s bars after an answer of 5 s bars are folded on the epoch's 5 s boundaries", () => {
  const past = columns([[T - 5, 1, 2, 0, 1]]);
  const held = columns([
    [T + 3, 5, 6, 4, 5],
    [T + 4, 5, 9, 5, 8],
    [T + 6, 8, 8, 1, 2],
  ]);
  const got = barsWithTail({ bars: past, sizeS: 5 }, { bars: held, sizeS: 1 }, Infinity);
  assert.equal(rows(got), [[T - 5, 1, 2, 0, 1], [T, 5, 9, 4, 8], [T + 5, 8, 8, 1, 2]]);
});

test("live bars coarser than the answer's are not drawn after it (they cannot be split)", () => {
  const past = columns([[T, 1, 2, 0, 1]]);
  const held = columns([[T + 60, 1, 2, 0, 1]]);
  assert.is(barsWithTail({ bars: past, sizeS: 1 }, { bars: held, sizeS: 60 }, Infinity), past);
});

test("an answer with no bars takes the live bars in its size", () => {
  const past = columns([]);
  const held = columns([[T + 1, 1, 2, 0, 1], [T + 2, 1, 3, 1, 2]]);
  const got = barsWithTail({ bars: past, sizeS: 5 }, { bars: held, sizeS: 1 }, Infinity);
  assert.equal(rows(got), [[T, 1, 3, 0, 2]]);
});

test("bucketOf() gives a bar's own start for a start, bit for bit, as the strip turns it", () => {
  for (const us of [1_795_576_001_000_000, 1_795_576_123_000_000, 1_700_000_000_000_000]) {
    const s = us * 1e-6;
    assert.is(bucketOf(s, 1), s);
    assert.is(bucketOf(s + 0.25, 1), s);
    assert.is(bucketOf(s + 0.999, 1), s);
  }
  assert.is(bucketOf(T + 7, 5), T + 5);
});

test.run();
