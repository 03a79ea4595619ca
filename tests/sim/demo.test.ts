import { suite } from "uvu";
import * as assert from "uvu/assert";
import { runFeed } from "../../bench/detect.ts";
import {
  createMarketFeed,
  DEMO_CRASH_RATE,
  demoActorConfigs,
  describeDemo,
} from "../../sim/mod.ts";
import { collapseKernel, defaultCollapseConfig } from "../../actors/collapse/mod.ts";

const test = suite("troupe up demo settings");
const T0 = 1_700_000_000_000_000;

/** The first minute of `troupe up`'s default feed (8 channels, 2,000 samples/s) through the actors. */
function firstMinute(seed: number) {
  const channels = 8, rate = 2000;
  const intervalUs = Math.round((channels * 1e6) / rate);
  const feed = createMarketFeed({
    symbols: channels,
    seed,
    batch: Math.round(rate / channels / 20),
    volume: false,
    intervalUs,
    crashRate: DEMO_CRASH_RATE,
    startUs: T0,
  });
  const findings = runFeed(feed, {
    samples: 60e6 / intervalUs,
    configs: demoActorConfigs(intervalUs),
  });
  return { findings, truth: feed.truth() };
}

for (const seed of [1, 2]) {
  test(`each kind shows findings within the first minute, collapse about once per crash (seed ${seed})`, () => {
    const { findings, truth } = firstMinute(seed);
    for (const kind of ["anomaly", "collapse", "coherence"]) {
      const first = findings.find((f) => f.kind === kind);
      assert.ok(first, `no ${kind} finding in the first minute`);
      assert.ok(first!.ts - T0 < 60e6, `${kind} first at ${(first!.ts - T0) / 1e6} s`);
    }
    // Not thousands: the default configuration read this random walk as a change every few
    // dozen ticks (2,661 collapse events in 30 s).
    const collapses = findings.filter((f) => f.kind === "collapse").length;
    const crashes = truth.changePoints.length;
    assert.ok(collapses <= 2 * crashes + 16, `${collapses} collapse events for ${crashes} crashes`);
  });
}

test("on the market feed a crash over 4 ticks is one change: its end is no second change", () => {
  // Seed 1's SYM006 crashes at tick 74,533 over 4 ticks (24 of 340). The regime dated at the
  // crash's first tick holds the fall's ticks in its noise; one that began 13 ticks later, once
  // the fall was over, overtook it ~570 ticks on, and with min_gap_samples 5 that was a second
  // change, dated at the oldest tick the kernel keeps (74,606).
  const feed = createMarketFeed({
    intervalUs: 1e6,
    symbols: 10,
    seed: 1,
    volume: false,
    batch: 500,
  });
  const ch = feed.channels.indexOf("SYM006");
  const v: number[] = [];
  while (v.length < 76_000) v.push(...feed.next()[ch]!.v);
  assert.ok(feed.truth().changePoints.some((c) => c.channel === "SYM006" && c.index === 74_533));
  const changes = (over: Record<string, unknown>) => {
    const state = collapseKernel.init({
      ...defaultCollapseConfig,
      ...demoActorConfigs(1e6).collapse,
      ...over,
    }, "SYM006");
    const out: number[] = [];
    for (let i = 0; i < v.length; i += 500) {
      const frame = Float64Array.from(v.slice(i, i + 500));
      const t = Float64Array.from(frame, (_, k) => T0 + (i + k) * 1e6);
      const r = collapseKernel.step(state, { channel: "SYM006", seq0: i, t, v: frame });
      out.push(...r.changes.map((c) => c.changeIndex).filter((x) => x > 74_000));
    }
    return out;
  };
  assert.equal(changes({}), [74_533]);
  assert.equal(changes({ min_gap_samples: 5 }), [74_533, 74_606]);
});

test("demoActorConfigs() scales the coherence bar with the tick interval and rejects a bad one", () => {
  const c = demoActorConfigs(4000);
  assert.is((c.coherence as { bar_us: number }).bar_us, 20_000);
  assert.match(
    describeDemo(4000),
    /coherence bars of 5 ticks \(20 ms\), warm-up 50 bars \(1\.0 s\)/,
  );
  assert.match(describeDemo(4000), /min_gap_samples 20 .* noise_half_life_samples 5000/);
  assert.throws(() => demoActorConfigs(0), /intervalUs must be >= 1, got 0/);
});

test.run();
