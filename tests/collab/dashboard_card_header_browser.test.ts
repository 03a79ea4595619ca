/**
 * A market card's header over its chart, in a real browser fed through nats-server and the stream
 * gateway: a minute of one-second bars that fell from 200 to 100 then rose to 110 over the last
 * ten seconds, under a line that holds those ten seconds only. The header's change is the change
 * over the window the chart shows (it rose), not over every bar held (it fell, and the header said
 * so over a rising line). The card has a key naming the line, the band, the dots and the orange
 * lines, and a market's axes say `price` for want of a unit.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { encodeBar, encodeColumns, outSubject } from "../../protocol/mod.ts";
import { haveBrowser } from "../_support/browser.ts";
import { haveNatsServer } from "../_support/nats.ts";
import { openDashboard } from "./_support.ts";

const NAME = "dashboard card header in the browser";
const run = haveNatsServer(NAME) && haveBrowser(NAME);
const test = suite(NAME);

interface PageTroupe {
  troupe: { grid: { chart(c: string): { xRange(): { min: number; max: number } } } };
}

test("the header's change is over the chart's window; a key; a market's axis says price", async () => {
  const dash = await openDashboard({ name: "card-header" });
  const page = await dash.open();
  try {
    const bus = dash.bus;
    const t0 = (Math.floor(Date.now() / 1000) - 60) * 1_000_000;
    for (let s = 0; s < 60; s++) {
      const open = s < 50 ? 200 - s * 2 : 100 + (s - 50);
      const close = s < 50 ? open - 2 : open + 1;
      bus.publish(
        outSubject("bars", "HDR"),
        encodeBar({ id: `hdr-b-${s}`, src: "test", ts: t0 + s * 1e6 }, {
          channel: "HDR",
          bar: "1s",
          t: t0 + s * 1e6,
          open,
          high: Math.max(open, close),
          low: Math.min(open, close),
          close,
          count: 1,
          sum: close,
        }),
      );
    }
    // The line: the last ten seconds only, at 10 samples a second.
    for (let s = 50; s < 60; s++) {
      const t = new Float64Array(10).map((_, i) => t0 + s * 1e6 + i * 1e5);
      const v = new Float64Array(10).map((_, i) => 100 + (s - 50) + i / 10);
      bus.publish(
        outSubject("anomaly", "HDR"),
        encodeColumns({
          channel: "HDR",
          seq0: (s - 50) * 10,
          t,
          columns: {
            value: v,
            expected: v,
            lower: v.map((x) => x - 1),
            upper: v.map((x) => x + 1),
          },
        }, { id: `hdr-c-${s}`, src: "test" }),
      );
    }
    await bus.flush();
    const quote = page.locator('.card[data-channel="HDR"] h3 .quote');
    // The header's text over the line drawn: the line's scale is set at a frame, which under load
    // may come after the header was first written.
    await page.waitForFunction(
      () => {
        const text = document.querySelector('.card[data-channel="HDR"] h3 .quote')?.textContent;
        const range = (globalThis as unknown as PageTroupe).troupe.grid.chart("HDR")?.xRange();
        if (!text?.includes("110") || !range || !Number.isFinite(range.min)) return false;
        return text.includes(`(${Math.round(range.max - range.min)}s)`);
      },
      null,
      { timeout: 20_000 },
    );
    const text = (await quote.textContent())!;
    const change = Number(await quote.getAttribute("data-change"));
    const range = await page.evaluate(() =>
      (globalThis as unknown as PageTroupe).troupe.grid.chart("HDR")!.xRange()
    );
    const widthS = range.max - range.min;
    assert.ok(widthS < 20, `the line's window is its ten seconds: ${JSON.stringify(range)}`);
    // The bars in the window rose (on the code before: -45.00% over the 59 s of bars held).
    assert.ok(change > 0, `the change over the window shown: ${text}`);
    assert.ok(text.includes(`(${Math.round(widthS)}s)`), `the window's width: ${text}`);

    // The key: one entry a mark the chart draws.
    const keys = await page.locator('.card[data-channel="HDR"] .chart-key [data-key]')
      .evaluateAll((els) => els.map((e) => e.textContent));
    assert.equal(keys, ["value", "expected", "expected range", "anomaly", "change point"]);
    assert.ok(await page.locator('.card[data-channel="HDR"] .chart-key').isVisible());
    // A market's axes say price: the line's and the candles'.
    assert.is(await page.locator('.card[data-channel="HDR"] .plot .y-unit').textContent(), "price");
    assert.is(
      await page.locator('.card[data-channel="HDR"] .candles .y-unit').textContent(),
      "price",
    );
    assert.ok(await page.locator('.card[data-channel="HDR"] .plot .y-unit').isVisible());
  } finally {
    await page.close();
    await dash.close();
  }
});

if (run) test.run();
