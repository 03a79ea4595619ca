/**
 * A card that follows an open incident read from history keeps its candle strip going with the
 * bars that come live, in real Chromium against a real nats-server, a real incident stage and the
 * history the collab server reads from the feed stream. On the code before (e351250), once the
 * history answer had come the strip drew its bars alone: the line went on with each sample, the
 * strip's axis with it, but the bars closed after the answer were never drawn.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { haveBrowser } from "../_support/browser.ts";
import { haveNatsServer } from "../_support/nats.ts";
import {
  bar,
  incidentSession,
  live,
  near,
  openOldFiring,
  type PageTroupe,
  rangeReaches,
  S,
  sourceIs,
} from "./_incident_page.ts";

const NAME = "dashboard candle strip after a history answer";
const run = haveNatsServer(NAME) && haveBrowser(NAME);
const test = suite(NAME);

/** What CH's strip draws, and the line's and the strip's ranges. */
const strip = (s: { page: import("playwright-core").Page }) =>
  s.page.evaluate(() => {
    const g = (globalThis as unknown as PageTroupe).troupe.grid;
    return {
      bars: g.candles("CH")!.shownBars(),
      line: g.chart("CH")!.xRange(),
      strip: g.candles("CH")!.xRange(),
    };
  });

test("a card following an incident from history draws the bars that close after the answer", async () => {
  await incidentSession({ name: "strip-tail" }, async (s) => {
    const { now } = s;
    // A bar: the card has its strip, as a market channel's card has.
    await bar(s, now - 60 * S);
    await s.page.waitForSelector('.card[data-channel="CH"] .candles', { timeout: 20_000 });
    await openOldFiring(s);
    await sourceIs(s.page, "history");
    await s.page.waitForFunction(
      () => (globalThis as unknown as PageTroupe).troupe.grid.candles("CH")!.shownBars().count > 1,
      null,
      { timeout: 5_000 },
    );
    const answered = await strip(s);
    assert.ok(answered.bars.count > 1, `the answer's bars are drawn: ${JSON.stringify(answered)}`);
    assert.ok(answered.bars.last < now / S + 1, JSON.stringify(answered));
    assert.ok(answered.bars.high < 200, JSON.stringify(answered));
    // Samples come, and a bar of each second closes after them, one much higher than the rest.
    for (const k of [1, 2, 3]) {
      await live(s, Float64Array.of(now + k * S), 20 + k);
      await bar(s, now + k * S, k === 2 ? 500 : 102);
      await rangeReaches(s.page, now / S + k);
    }
    await s.page.waitForFunction(
      () => (globalThis as unknown as PageTroupe).troupe.grid.candles("CH")!.bars >= 4,
      null,
      { timeout: 20_000 },
    );
    // The strip draws them after the answer's (on the code before, it kept the answer's alone).
    const last = now / S + 3;
    await s.page.waitForFunction(
      (t) => (globalThis as unknown as PageTroupe).troupe.grid.candles("CH")!.shownBars().last >= t,
      last,
      { timeout: 5_000 },
    ).catch(() => undefined);
    const got = await strip(s);
    near(got.bars.last, last, `the strip's last bar (${JSON.stringify(got.bars)})`);
    assert.is(got.bars.high, 500, "the strip draws the high bar that came");
    assert.ok(got.bars.first <= answered.bars.first, "the answer's bars are still drawn");
    near(got.line.max, last, "the line's end");
    assert.equal(got.strip, got.line, "the strip shows the line's range");
  });
});

if (run) test.run();
