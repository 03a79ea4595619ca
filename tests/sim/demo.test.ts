import { suite } from "uvu";
import * as assert from "uvu/assert";
import { runFeed } from "../../bench/detect.ts";
import {
  createMarketFeed,
  DEMO_CRASH_RATE,
  demoActorConfigs,
  describeDemo,
} from "../../sim/mod.ts";

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

test("demoActorConfigs() scales the coherence bar with the tick interval and rejects a bad one", () => {
  const c = demoActorConfigs(4000);
  assert.is((c.coherence as { bar_us: number }).bar_us, 20_000);
  assert.match(
    describeDemo(4000),
    /coherence bars of 5 ticks \(20 ms\), warm-up 50 bars \(1\.0 s\)/,
  );
  assert.throws(() => demoActorConfigs(0), /intervalUs must be >= 1, got 0/);
});

test.run();
