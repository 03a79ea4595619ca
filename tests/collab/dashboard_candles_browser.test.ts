/**
 * A market channel's card in a real browser, fed through a real nats-server and the stream
 * gateway: its header says the last close, the change over the bars held and the bar size, and
 * its candle strip shares the line chart's time axis (issue 31: the two covered different ranges,
 * neither labelled, and the header said nothing of the market).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { encodeBar, encodeColumns, outSubject } from "../../protocol/mod.ts";
import { haveBrowser } from "../_support/browser.ts";
import { haveNatsServer } from "../_support/nats.ts";
import { openDashboard } from "./_support.ts";

const NAME = "dashboard candles in the browser";
const run = haveNatsServer(NAME) && haveBrowser(NAME);
const test = suite(NAME);

interface Range {
  min: number;
  max: number;
}
interface PageTroupe {
  troupe: {
    grid: {
      chart(c: string): { xRange(): Range; plotX(): { left: number; width: number } };
      candles(
        c: string,
      ): { xRange(): Range; bars: number; plotX(): { left: number; width: number } };
    };
  };
}

test("a market card's header says last, change and bar size; its candles share the line's time axis", async () => {
  const dash = await openDashboard({ name: "candles" });
  try {
    const page = await dash.open();
    const bus = dash.bus;
    const t0 = (Math.floor(Date.now() / 1000) - 30) * 1_000_000;
    // A minute's bar first (a fresh page may meet one before any second's: units31 then showed
    // `1m bars` and no candle), then 30 s of the line at 10 samples a second, and 30 one-second
    // bars from 100 to 105: the strip takes the finer size.
    bus.publish(
      outSubject("bars", "MKT"),
      encodeBar({ id: "mkt-b-1m", src: "test", ts: t0 - 60e6 }, {
        channel: "MKT",
        bar: "1m",
        t: t0 - 60e6,
        open: 90,
        high: 91,
        low: 89,
        close: 90,
        count: 60,
        sum: 5400,
      }),
    );
    for (let s = 0; s < 30; s++) {
      const t = new Float64Array(10).map((_, i) => t0 + s * 1e6 + i * 1e5);
      const v = new Float64Array(10).map(() => 100 + s / 6);
      bus.publish(
        outSubject("anomaly", "MKT"),
        encodeColumns({
          channel: "MKT",
          seq0: s * 10,
          t,
          columns: {
            value: v,
            expected: v,
            lower: v.map((x) => x - 1),
            upper: v.map((x) => x + 1),
          },
        }, { id: `mkt-c-${s}`, src: "test" }),
      );
      const open = 100 + s / 6, close = s === 29 ? 105 : 100 + (s + 1) / 6;
      bus.publish(
        outSubject("bars", "MKT"),
        encodeBar({ id: `mkt-b-${s}`, src: "test", ts: t0 + s * 1e6 }, {
          channel: "MKT",
          bar: "1s",
          t: t0 + s * 1e6,
          open,
          high: close + 0.1,
          low: open - 0.1,
          close,
          count: 1,
          sum: close,
        }),
      );
    }
    await bus.flush();
    const quote = page.locator('.card[data-channel="MKT"] h3 .quote');
    await page.waitForFunction(
      () => (globalThis as unknown as PageTroupe).troupe.grid.candles("MKT").bars === 30,
      null,
      { timeout: 20_000 },
    );
    await page.waitForFunction(
      () =>
        document.querySelector('.card[data-channel="MKT"] h3 .quote')?.textContent?.includes("105"),
      null,
      { timeout: 5_000 },
    );
    assert.is(await quote.textContent(), "last 105 · +5.00% (29s) · 1s bars");
    // After a frame, both strips show one time span.
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(null))));
    const ranges = await page.evaluate(() => {
      const g = (globalThis as unknown as PageTroupe).troupe.grid;
      return { line: g.chart("MKT").xRange(), candles: g.candles("MKT").xRange() };
    });
    // ... on plots of one width, one above the other: the same moment at the same pixel.
    const boxes = await page.evaluate(() => {
      const g = (globalThis as unknown as PageTroupe).troupe.grid;
      return [g.chart("MKT").plotX(), g.candles("MKT").plotX()];
    });
    assert.ok(
      Math.abs(boxes[0]!.left - boxes[1]!.left) < 1 &&
        Math.abs(boxes[0]!.width - boxes[1]!.width) < 1,
      JSON.stringify(boxes),
    );
    assert.ok(
      Math.abs(ranges.line.min - ranges.candles.min) < 1e-3 &&
        Math.abs(ranges.line.max - ranges.candles.max) < 1e-3,
      JSON.stringify(ranges),
    );
    // Focused at an incident (pinned), then 24 h from the picker, with no bar arriving since:
    // the strip follows the line to each range (on units31 it kept the live range it had).
    const focusMs = t0 / 1000 + 10_000;
    await page.evaluate((ms) => {
      (globalThis as unknown as PageTroupe & {
        troupe: { grid: { focus(c: string, t: number): void } };
      }).troupe.grid.focus("MKT", ms);
    }, focusMs);
    await page.locator("button[name=range-24h]").click();
    const same = () => {
      const g = (globalThis as unknown as PageTroupe).troupe.grid;
      const a = g.chart("MKT").xRange(), b = g.candles("MKT").xRange();
      return a.max - a.min > 86_000 && a.min === b.min && a.max === b.max;
    };
    await page.waitForFunction(same, null, { timeout: 5_000 }).catch(() => undefined);
    const after = await page.evaluate(() => {
      const g = (globalThis as unknown as PageTroupe).troupe.grid;
      return { line: g.chart("MKT").xRange(), candles: g.candles("MKT").xRange() };
    });
    assert.ok(after.line.max - after.line.min > 86_000, JSON.stringify(after));
    assert.equal(after.candles, after.line, "the strip shows the line's 24 h");
  } finally {
    await dash.close();
  }
});

if (run) test.run();
