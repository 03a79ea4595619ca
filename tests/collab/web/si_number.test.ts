/**
 * Numbers short enough for a card's axis and header (collab/web/browser/plot/si_number.ts): SI
 * prefixes, one per axis, decimals by the step (on the code before, a value axis wrote every
 * digit, and `1,234,000,000` showed cut as `000,000`).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { siAxis, siValue } from "../../../collab/web/browser/plot/mod.ts";

const test = suite("si number");

test("siAxis() writes a large axis with one SI prefix and the decimals its step needs", () => {
  const mem = siAxis(2e8, 1.6e9);
  assert.equal([0, 2e8, 1e9, 1.2e9, 1.6e9].map(mem), ["0", "0.2G", "1.0G", "1.2G", "1.6G"]);
  const net = siAxis(5e7, 3.5e8);
  assert.equal([3e8, 3.5e8].map(net), ["300M", "350M"]);
  assert.equal([-2500, 0, 2500].map(siAxis(2500, 2500)), ["-2.5k", "0", "2.5k"]);
});

test("siAxis() writes an ordinary scale without a prefix and a tiny one with m or µ", () => {
  assert.equal([0.25, 0.5, 0.75].map(siAxis(0.25, 0.75)), ["0.25", "0.50", "0.75"]);
  assert.equal([10, 20, 990].map(siAxis(10, 990)), ["10", "20", "990"]);
  assert.equal([0.002, 0.004].map(siAxis(0.002, 0.004)), ["2m", "4m"]);
  assert.equal([2e-5, 4e-5].map(siAxis(2e-5, 4e-5)), ["20µ", "40µ"]);
  // A tick at zero computed with rounding error reads 0, not -0.0.
  assert.is(siAxis(0.1, 1)(-1e-17), "0");
});

test("siAxis() labels are at most 7 characters from 1e-6 to 1e17", () => {
  for (let e = -6; e <= 17; e++) {
    for (const m of [1, 2.5, 5, 9.99]) {
      const max = m * 10 ** e, step = 10 ** (e - 1);
      const label = siAxis(step, max)(-max);
      assert.ok(label.length <= 7, `${max} with step ${step}: ${label}`);
    }
  }
});

test("siValue() writes a value with its unit, prefixed where the unit allows", () => {
  assert.is(siValue(1_234_567_890, "B"), "1.235 GB");
  assert.is(siValue(350e6, "B/s"), "350 MB/s");
  assert.is(siValue(0.0042, "s/s"), "4.2 ms/s");
  assert.is(siValue(0.25, "s/s"), "0.25 s/s");
  assert.is(siValue(37.5, "%"), "37.5%");
  assert.is(siValue(12_500, ""), "12.5k");
  assert.is(siValue(0.004, "ms"), "0.004 ms");
  assert.is(siValue(2_000_000, "ms"), "2000000 ms");
});

test.run();
