/**
 * `noise_half_life_samples`: a regime's evidence about its noise variance fades, so the noise level
 * may wander within a regime (the volatility of prices), and the few large samples of a change
 * that takes several ticks (a market crash) do not stay in the new regime's noise for good. Off
 * (0) by default: the kernel is then the format-8 kernel, bit for bit.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  type CollapseChange,
  collapseKernel,
  type CollapseState,
  describeCollapse,
} from "../../../actors/collapse/kernel.ts";
import {
  type CollapseConfig,
  defaultCollapseConfig,
  parseCollapseConfig,
} from "../../../actors/collapse/config.ts";
import { ConfigError } from "../../../protocol/mod.ts";
import { createMarketFeed, demoActorConfigs } from "../../../sim/mod.ts";
import { Prng } from "../../../sim/prng/mod.ts";
import { expFast, logFast } from "../../../actors/math/mod.ts";
import { FORMAT8_REST, FORMAT8_STATE_BASE64 } from "./_format8_state.ts";

const test = suite("collapse noise half-life");
const T0 = 1_700_000_000_000_000;

/** The market's settings (sim/demo.ts), over the defaults. */
const MARKET = demoActorConfigs(1_000_000).collapse as Partial<CollapseConfig>;

function config(over: Partial<CollapseConfig>): CollapseConfig {
  return parseCollapseConfig(over, defaultCollapseConfig, "collapse");
}

/** Steps `values` (sample i at T0 + (from + i) s) in frames of 250; changes and a changeProb hash. */
function run(state: CollapseState, values: ArrayLike<number>, from = 0) {
  const changes: CollapseChange[] = [];
  const f64 = new Float64Array(1);
  const words = new Uint32Array(f64.buffer);
  let probHash = 0;
  for (let i = 0; i < values.length; i += 250) {
    const n = Math.min(250, values.length - i);
    const v = Float64Array.from({ length: n }, (_, k) => values[i + k]!);
    const t = Float64Array.from({ length: n }, (_, k) => T0 + (from + i + k) * 1e6);
    const r = collapseKernel.step(state, { channel: "c", seq0: from + i, t, v });
    changes.push(...r.changes);
    for (const p of r.changeProb) {
      f64[0] = p;
      probHash = (Math.imul(probHash, 31) + (words[0]! ^ words[1]!)) | 0;
    }
  }
  return { changes, probHash };
}

/**
 * A price-like random walk: log steps of `sd`, twice that from `from` to `to`, and the log price
 * down by `drop.size` at sample `drop.at` (portable exp and log: the same bits on every runtime).
 */
function walk(
  seed: string,
  n: number,
  sd: number,
  from: number,
  to: number,
  drop = { at: -1, size: 0 },
): number[] {
  const rng = new Prng(seed);
  let lp = logFast(100);
  return Array.from({ length: n }, (_, i) => {
    lp += (i >= from && i < to ? 2 * sd : sd) * rng.normal();
    if (i === drop.at) lp -= drop.size;
    return expFast(lp);
  });
}

test("noise_half_life_samples is 0 (off) by default, and anything between 0 and 1 is refused", () => {
  assert.is(defaultCollapseConfig.noise_half_life_samples, 0);
  assert.is(config({ noise_half_life_samples: 2000 }).noise_half_life_samples, 2000);
  for (
    const [value, message] of [
      [0.5, /"collapse.noise_half_life_samples" must be 0 \(off\) or >= 1, got 0.5/],
      [-1, /must be >= 0, got -1/],
      ["long", /finite number, got "long"/],
    ] as const
  ) {
    try {
      config({ noise_half_life_samples: value as number });
      assert.unreachable(`${value} was accepted`);
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      assert.is(err.field, "collapse.noise_half_life_samples");
      assert.match(err.message, message);
    }
  }
});

test("a regime's noise evidence is that of its recent samples: its weight stays under 1 / (1 - 2^(-1/h))", () => {
  const values = walk("noise-weight", 6000, 0.002, 2000, 4000);
  const weights = (over: Partial<CollapseConfig>) => {
    const state = collapseKernel.init(config({ level_drift: 1000, ...over }), "c");
    run(state, values);
    const hypotheses = describeCollapse(state).hypotheses as { weight: number }[];
    return Math.max(...hypotheses.map((h) => h.weight));
  };
  const h = 500;
  const cap = 1 / (1 - 2 ** (-1 / h));
  const faded = weights({ noise_half_life_samples: h });
  assert.ok(faded <= cap && faded > cap / 2, `largest weight ${faded}, cap ${cap}`);
  // Kept whole, a regime's weight is the count of its samples: thousands here.
  const whole = weights({});
  assert.ok(whole > 5 * cap, `largest weight ${whole}`);
});

test("on the market feed, a large move in a stressed spell is no change with the half-life", () => {
  // Seed 1's market is stressed from tick 97,353 to 97,852; at 97,756 every symbol rises by 1 to
  // 2% over two ticks. Read against SYM005's noise averaged over its calm and stressed spells, it
  // was a change (97,753); against its recent noise it is not.
  const feed = createMarketFeed({
    intervalUs: 1e6,
    symbols: 10,
    seed: 1,
    volume: false,
    batch: 500,
  });
  const ch = feed.channels.indexOf("SYM005");
  const values: number[] = [];
  while (values.length < 98_500) values.push(...feed.next()[ch]!.v);
  const late = (over: Partial<CollapseConfig>) =>
    run(collapseKernel.init(config({ ...MARKET, ...over }), "c"), values).changes
      .map((c) => c.changeIndex)
      .filter((i) => i > 97_000);
  assert.equal(late({ noise_half_life_samples: 0 }), [97_753]);
  assert.equal(late({}), []);
});

test("load() reads a format-8 state and steps as the format-8 kernel did; it saves as format 10", () => {
  const bytes = Uint8Array.from(atob(FORMAT8_STATE_BASE64), (c) => c.charCodeAt(0));
  const state = collapseKernel.load(bytes);
  assert.is(describeCollapse(state).format, 10);
  assert.is(describeCollapse(state).noise_keep, 1);
  // The fixture's own series (see _format8_state.ts), from sample 2,500.
  const values = walk("format8", 5000, 0.002, 2000, 3500, { at: 3000, size: 0.06 }).slice(2500);
  const rest = run(state, values, 2500);
  assert.equal(rest.changes.map((c) => c.changeIndex), FORMAT8_REST.changes);
  assert.is(rest.probHash, FORMAT8_REST.probHash);
  const again = collapseKernel.save(state);
  assert.equal(collapseKernel.save(collapseKernel.load(again)), again);
});

test("with the half-life on, save() and load() are exact: a loaded state steps to the same bits", () => {
  const values = walk("noise-save", 4000, 0.002, 1000, 3000);
  const a = collapseKernel.init(config({ ...MARKET, noise_half_life_samples: 300 }), "c");
  run(a, values.slice(0, 2100));
  const bytes = collapseKernel.save(a);
  const b = collapseKernel.load(bytes);
  assert.equal(collapseKernel.save(b), bytes);
  const ra = run(a, values.slice(2100), 2100), rb = run(b, values.slice(2100), 2100);
  assert.is(ra.probHash, rb.probHash);
  assert.equal(ra.changes, rb.changes);
  assert.equal(collapseKernel.save(a), collapseKernel.save(b));
});

test.run();
