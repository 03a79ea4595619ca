/**
 * The coherence phase's `for` duration (`change_for_bars`): a new phase must hold that many bars
 * in a row before the group takes it, so a calm market paced as `troupe up` paces it (8 symbols,
 * a tick every 4 ms, bars of 5 ticks) does not flap between normal, coherent and fragmented.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { coherenceActor } from "../../../actors/mod.ts";
import type { CoherenceChange } from "../../../actors/coherence/mod.ts";
import { ConfigError } from "../../../protocol/mod.ts";
import { createMarketFeed } from "../../../sim/feeds/mod.ts";
import { demoActorConfigs } from "../../../sim/mod.ts";

const test = suite("coherence change_for_bars");
const INTERVAL_US = 4_000;

/** Two minutes of a calm market (no crash, jump or stress) through one coherence group. */
function changesOnCalm(changeForBars: number): CoherenceChange[] {
  // The entry levels of before (1 sd), where a calm market's shift is past one a third of the time.
  const raw = {
    ...demoActorConfigs(INTERVAL_US).coherence,
    change_for_bars: changeForBars,
    coherent_enter: 1,
    fragmented_enter: -1,
  };
  const config = coherenceActor.parseConfig(raw, coherenceActor.defaultConfig, "coherence");
  const feed = createMarketFeed({
    symbols: 8,
    seed: 1,
    volume: false,
    batch: 100,
    intervalUs: INTERVAL_US,
    crashRate: 0,
    jumpRate: 0,
    calmMeanTicks: 1e15,
  });
  const state = coherenceActor.kernel.init(config, "all");
  const changes: CoherenceChange[] = [];
  for (let ticks = 0; ticks < 30_000; ticks += 100) {
    for (const f of feed.next()) changes.push(...coherenceActor.kernel.step(state, f).changes);
  }
  return changes;
}

test("a calm market flaps without a for duration and holds its phase with 50 bars", () => {
  const flapping = changesOnCalm(0);
  const held = changesOnCalm(50);
  assert.ok(flapping.length >= 60, `${flapping.length} changes in 2 minutes without it`);
  assert.ok(held.length <= 2, `${held.length} changes in 2 minutes with 50 bars`);
});

test("change_for_bars is a whole number >= 0, named when it is not", () => {
  const parse = (v: unknown) =>
    coherenceActor.parseConfig({ change_for_bars: v }, coherenceActor.defaultConfig, "coherence");
  assert.is(parse(0).change_for_bars, 0);
  assert.throws(() => parse(-1), (e: unknown) => e instanceof ConfigError);
  assert.throws(() => parse(2.5), /coherence.change_for_bars" must be an integer, got 2.5/);
});

test.run();
