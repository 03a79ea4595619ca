/**
 * injectReport() is what `troupe inject --json` prints: the feed, the counts and rates of
 * inject()'s result, how it was delivered, and the labels' file when one was written.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { InProcessBus } from "../../../actors/runtime/mod.ts";
import { VirtualClock } from "../../../sim/clock.ts";
import { createMarketFeed, inject, injectReport } from "../../../sim/feeds/mod.ts";

const test = suite("inject report");

test("injectReport() gives an at-most-once run's counts, rates and labels as inject() gave them", async () => {
  const bus = new InProcessBus();
  const feed = createMarketFeed({ seed: 1, symbols: 2, volume: false, batch: 100 });
  const clock = new VirtualClock(1_700_000_000_000_000, { autoAdvance: true });
  const r = await inject(bus, feed, { rate: 1_000, durationS: 1, clock, run: "demo-1" });
  const sent = { feed, subjects: "troupe.feed.market.*", stream: undefined, publisher: undefined };
  assert.equal(injectReport(r, { ...sent, labels: "truth.json" }), {
    feed: "market",
    run: "demo-1",
    subjects: "troupe.feed.market.*",
    channels: 2,
    samples: 1_000,
    frames: 10,
    bytes: r.bytes,
    elapsed_s: 1,
    asked_per_s: 1_000,
    achieved_per_s: 1_000,
    achieved_over_asked: 1,
    delivery: "at-most-once",
    forgiven_s: 0,
    stopped: "duration",
    labels: "truth.json",
  });
  assert.ok(r.bytes > 0);
  assert.not.ok("labels" in injectReport(r, sent), "no labels' file, no labels field");
  await bus.close();
});

test.run();
