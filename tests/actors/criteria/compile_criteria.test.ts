import { suite } from "uvu";
import * as assert from "uvu/assert";
import { hasCrossedOver } from "trading-signals";
import { compileCriteria, CriteriaError } from "../../../actors/criteria/mod.ts";
import {
  type BarColumns,
  bollinger,
  macd,
  rsi,
  sma,
  stochastic,
  zscore,
} from "../../../actors/indicators/mod.ts";
import { randomBars } from "../indicators/_series.ts";

const test = suite("compileCriteria");

/** The first `n` bars of `bars` (a symbol with a shorter history). */
function head(bars: BarColumns, n: number): BarColumns {
  return {
    t: bars.t.subarray(0, n),
    open: bars.open.subarray(0, n),
    high: bars.high.subarray(0, n),
    low: bars.low.subarray(0, n),
    close: bars.close.subarray(0, n),
    volume: bars.volume.subarray(0, n),
  };
}

/** The error compileCriteria throws, or fails. */
function errorOf(criteria: string, rank?: string): CriteriaError {
  try {
    compileCriteria(criteria, rank === undefined ? {} : { rank });
  } catch (e) {
    assert.instance(e, CriteriaError);
    return e as CriteriaError;
  }
  throw new Error(`"${criteria}" compiled: expected a CriteriaError`);
}

test("a criteria missing its ')' names the column where it is expected", () => {
  const e = errorOf("rsi(14 < 30");
  assert.is(e.col, 7);
  assert.ok(e.message.startsWith("col 7: expected ')'"), e.message);
  assert.is(e.message, "col 7: expected ')', got '<'");
  assert.is(
    errorOf("rsi(14) < 30 and").message,
    "col 17: expected a number, a bar field, an indicator or '(', got the end",
  );
  assert.is(errorOf("(close > 3").message, "col 11: expected ')', got the end");
  assert.is(
    errorOf("close > 3)").message,
    "col 10: expected the end (this ')' closes nothing), got ')'",
  );
  assert.is(errorOf("close = 3").message, "col 7: unexpected character '='; use == to compare");
  assert.is(errorOf("   ").message, "col 1: expected an expression, got nothing");
});

test("unknown names, wrong arity and bad parameters are errors naming the column", () => {
  assert.match(
    errorOf("rsx(14) < 30").message,
    /^col 1: unknown indicator 'rsx'; expected one of sma, ema, rsi/,
  );
  assert.match(
    errorOf("close > price").message,
    /^col 9: unknown name 'price'; expected a bar field \(open, high/,
  );
  assert.is(errorOf("rsi < 30").message, "col 1: rsi is an indicator: call it, as rsi(…)");
  assert.is(errorOf("close(3) > 1").message, "col 1: close is a bar field: use it without '(…)'");
  assert.is(errorOf("rsi(14, 3) < 30").message, "col 1: rsi takes 0 to 1 numbers (n), got 2");
  assert.is(errorOf("close > sma()").message, "col 9: sma takes 1 numbers (n), got 0");
  assert.is(
    errorOf("close > sma(2.5)").message,
    "col 13: sma's n must be an integer from 1 to 10000, got 2.5",
  );
  assert.is(
    errorOf("close > sma(0)").message,
    "col 13: sma's n must be an integer from 1 to 10000, got 0",
  );
  assert.is(errorOf("atr(close, 14) > 1").message, "col 5: atr reads whole bars, not a column");
  assert.is(errorOf("sma(price, 14) > 1").message.slice(0, 31), "col 5: unknown name 'price'; ex");
});

test("multi-valued indicators need a value's name; a wrong one lists the right ones", () => {
  assert.is(
    errorOf("macd(12,26,9) > 0").message,
    "col 14: macd gives several values: expected .line, .signal, .hist",
  );
  assert.is(
    errorOf("macd(12,26,9).histo > 0").message,
    "col 15: macd has no value 'histo'; expected line, signal, hist",
  );
  assert.is(errorOf("rsi(14).value > 0").message, "col 9: rsi gives one value; remove '.value'");
  assert.is(
    errorOf("stoch()._fast > 0").message,
    "col 9: stoch has no value '_fast'; expected k, d",
  );
});

test("a number where a condition is needed, and the reverse, are errors", () => {
  assert.is(
    errorOf("rsi(14)").message,
    "col 1: expected a condition (a comparison such as rsi(14) < 30), got a number",
  );
  assert.match(errorOf("rsi(14) < 30 and close").message, /^col 18: expected a condition/);
  assert.match(
    errorOf("(close > 1) + 2 > 0").message,
    /^col 8: expected a number, got a condition/,
  );
  assert.is(
    errorOf("close > 1", "close > 2").message,
    "col 1: expected a number to rank by, got a condition",
  );
  assert.is(errorOf("close > 1", "rsi(").expression, "rank");
});

test("arithmetic, comparison and logic follow the usual precedence", () => {
  const bars = randomBars(5, 1);
  const yes = (c: string) => compileCriteria(c).evaluate(bars).kind === "match";
  assert.ok(yes("1 + 2 * 3 == 7"));
  assert.ok(yes("-2 * -3 == 6 and 8 / 4 / 2 == 1 and 10 - 3 - 2 == 5"));
  assert.ok(yes("not 1 > 2"));
  assert.ok(yes("1 > 2 or 2 > 1 and 3 > 2"));
  assert.not.ok(yes("(1 > 2 or 2 > 1) and 3 < 2"));
  assert.ok(yes("1.5e1 == 15 and .5 == 0.5 and 3 != 4 and 3 <= 3 and 4 >= 3"));
  assert.ok(
    yes(`close == ${bars.close[4]} and open == ${bars.open[4]} and volume == ${bars.volume[4]}`),
  );
});

test("verdicts equal the indicators computed directly, on every history length", () => {
  const c = compileCriteria(
    "rsi(14) < 55 and close > sma(20) or macd(12,26,9).hist > 0 and bollinger(20, 2).pct_b < 0.8",
    { rank: "rsi(14) + stoch(14,3,3).k / 10 - volume_z(20)" },
  );
  assert.is(c.barsNeeded, 34); // macd's signal: 26 + 9 - 1
  let matches = 0;
  for (const seed of [1, 2, 3]) {
    const all = randomBars(200, seed);
    for (let n = 1; n <= 200; n++) {
      const bars = head(all, n);
      const v = c.evaluate(bars);
      if (n < 34) {
        assert.equal(v, { kind: "insufficient_history", needed: 34, have: n });
        continue;
      }
      const i = n - 1, cl = bars.close;
      const r = rsi(cl, { period: 14 })[i]!;
      const want = (r < 55 && cl[i]! > sma(cl, { period: 20 })[i]!) ||
        (macd(cl, { fast: 12, slow: 26, signal: 9 }).hist[i]! > 0 &&
          bollinger(cl, { period: 20 }).pctB[i]! < 0.8);
      assert.is(v.kind, want ? "match" : "no_match", `seed ${seed}, ${n} bars`);
      if (v.kind !== "match") continue;
      matches++;
      const rank = r + stochastic(bars, { k: 14, smooth: 3, d: 3 }).k[i]! / 10 -
        zscore(bars.volume, { period: 20 })[i]!;
      assert.ok(Math.abs(v.rank! - rank) <= 1e-12 * Math.abs(rank), `rank ${v.rank} vs ${rank}`);
    }
  }
  assert.ok(matches > 50 && matches < 450, `${matches} matches of 501: the test shows little`);
});

test("crosses_above, as a function or between two numbers, equals trading-signals' hasCrossedOver", () => {
  const fn = compileCriteria("crosses_above(sma(5), sma(20))");
  const infix = compileCriteria("sma(5) crosses_above sma(20)");
  const below = compileCriteria("sma(5) crosses_below sma(20)");
  assert.is(fn.barsNeeded, 21);
  const all = randomBars(400, 4);
  const fast = sma(all.close, { period: 5 }), slow = sma(all.close, { period: 20 });
  let crossings = 0;
  for (let n = 21; n <= 400; n++) {
    const i = n - 1;
    const want = hasCrossedOver(fast[i - 1]!, slow[i - 1]!, fast[i]!, slow[i]!);
    assert.is(fn.evaluate(head(all, n)).kind, want ? "match" : "no_match", `at ${i}`);
    assert.is(infix.evaluate(head(all, n)).kind, want ? "match" : "no_match", `at ${i}`);
    if (want) {
      crossings++;
      assert.is(below.evaluate(head(all, n)).kind, "no_match");
    }
  }
  assert.ok(crossings >= 3, `${crossings} crossings`);
  assert.equal(fn.evaluate(head(all, 20)), { kind: "insufficient_history", needed: 21, have: 20 });
});

test("an indicator reads the column named first; a call written twice is computed once", () => {
  const bars = randomBars(100, 5);
  const v = compileCriteria("sma(volume, 10) > 0", { rank: "sma(volume, 10) + sma(volume,10)" })
    .evaluate(bars);
  const want = sma(bars.volume, { period: 10 })[99]! * 2;
  assert.equal(v, { kind: "match", rank: want });
});

test("too few bars for the rank is insufficient history, and a rank that is not finite is null", () => {
  const bars = randomBars(30, 6);
  assert.equal(compileCriteria("close > 0", { rank: "sma(50)" }).evaluate(bars), {
    kind: "insufficient_history",
    needed: 50,
    have: 30,
  });
  assert.equal(compileCriteria("close > 0", { rank: "close / 0 - close / 0" }).evaluate(bars), {
    kind: "match",
    rank: null,
  });
});

test("compareRanks orders best first by the order, nulls last", () => {
  const desc = compileCriteria("close > 0", { rank: "close" });
  const asc = compileCriteria("close > 0", { rank: "close", order: "asc" });
  assert.equal([3, null, 1, 2].sort((a, b) => desc.compareRanks(a, b)), [3, 2, 1, null]);
  assert.equal([3, null, 1, 2].sort((a, b) => asc.compareRanks(a, b)), [1, 2, 3, null]);
  assert.throws(
    () => compileCriteria("close > 0", { order: "up" as "asc" }),
    /order must be "asc" or "desc", got "up"/,
  );
});

test("evaluate() computes an indicator only where it is read: each verdict and rank equals its parts evaluated on their own", () => {
  // Parts that share indicators (rsi, sma), so a slot computed for one symbol and skipped for
  // the next would show as a stale value.
  const A = "rsi(14) < 50", B = "macd(12,26,9).hist > 0", C = "close crosses_above sma(10)";
  const D = "bollinger(20,2).pct_b > 1", R = "rsi(14) + sma(10) / 100";
  const whole = compileCriteria(`${A} and (${B} or ${C}) and not ${D}`, { rank: R });
  const part = (c: string) => compileCriteria(c);
  const [a, b, c, d] = [A, B, C, D].map(part);
  // The same deepest lag as `whole` (crosses_above reads the bar before): windowed indicators
  // start at the same bar, so the rank is the same to the last bit.
  const rank = compileCriteria(`${C} or 1 > 0`, { rank: R });
  const is = (x: ReturnType<typeof part>, bars: BarColumns) => x.evaluate(bars).kind === "match";
  let matches = 0, skipped = 0;
  for (let i = 0; i < 400; i++) {
    const bars = head(randomBars(120, 9000 + i), i % 37 === 3 ? 30 : 120);
    const got = whole.evaluate(bars);
    if (bars.close.length < whole.barsNeeded) {
      assert.is(got.kind, "insufficient_history", `symbol ${i}`);
      continue;
    }
    const want = is(a!, bars) && (is(b!, bars) || is(c!, bars)) && !is(d!, bars);
    if (!is(a!, bars)) skipped++;
    assert.is(got.kind, want ? "match" : "no_match", `symbol ${i}`);
    if (got.kind === "match") {
      matches++;
      const r = rank.evaluate(bars);
      assert.is(got.rank, r.kind === "match" ? r.rank : NaN, `symbol ${i} rank`);
    }
  }
  assert.ok(
    matches > 10 && skipped > 50,
    `both paths taken: ${matches} matches, ${skipped} stopped at the first part`,
  );
});

test.run();
