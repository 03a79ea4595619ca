/**
 * A market channel's range view in a real browser: a real nats-server keeps two hours of the
 * channel in its feed stream, the page has seen one live bar of it; the picker's 24 h draws the
 * line from history, and its candle strip draws the history answer's bars on the same axis, from
 * the first sample to the last, the spike among them. On the code before, the strip held only
 * the bars received live (here one, a sliver at the right edge of a day's axis).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { encodeBar, outSubject } from "../../protocol/mod.ts";
import { haveBrowser } from "../_support/browser.ts";
import { haveNatsServer } from "../_support/nats.ts";
import { openDashboardOverHistory } from "./_support.ts";

const NAME = "dashboard range candles in the browser";
const run = haveNatsServer(NAME) && haveBrowser(NAME);
const test = suite(NAME);

const SPAN_S = 7200;
const SPIKE_AT_S = 4000;

interface Range {
  min: number;
  max: number;
}
interface Shown {
  count: number;
  first: number;
  last: number;
  high: number;
}
interface PageTroupe {
  troupe: {
    grid: {
      chart(c: string): { source: string; xRange(): Range } | undefined;
      candles(c: string): { xRange(): Range; shownBars(): Shown };
    };
  };
}

test("24 h of a market channel: the candles draw history's bars on the line's range; a UTC custom range", async () => {
  const dash = await openDashboardOverHistory({
    name: "range-candles",
    history: {
      channel: "MKT",
      spanS: SPAN_S,
      value: (k) => k === SPIKE_AT_S ? 900 : 100 + (k % 23) / 10,
    },
  });
  const pub = dash.bus;
  const t0 = dash.historyStartUs;
  try {
    const errors: string[] = [];
    const page = await dash.open({
      prepare: (page) => void page.on("pageerror", (e) => errors.push(e.message)),
    });
    // One live bar: the card and its strip exist, as on a page that has watched a while.
    const live = t0 + SPAN_S * 1_000_000;
    pub.publish(
      outSubject("bars", "MKT"),
      encodeBar({ id: "mkt-live", src: "test", ts: live }, {
        channel: "MKT",
        bar: "1s",
        t: live,
        open: 101,
        high: 102,
        low: 100,
        close: 101.5,
        count: 1,
        sum: 101.5,
      }),
    );
    await pub.flush();
    await page.waitForSelector('.card[data-channel="MKT"] .candles', { timeout: 20_000 });

    await page.click("#range button[name=range-24h]");
    await page.waitForFunction(
      () => {
        const g = (globalThis as unknown as PageTroupe).troupe.grid;
        return g.chart("MKT")?.source === "history" && g.candles("MKT").shownBars().count > 1;
      },
      null,
      { timeout: 20_000 },
    );
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(null))));
    const got = await page.evaluate(() => {
      const g = (globalThis as unknown as PageTroupe).troupe.grid;
      const candles = g.candles("MKT");
      return { line: g.chart("MKT")!.xRange(), strip: candles.xRange(), bars: candles.shownBars() };
    });
    const first = t0 / 1e6, last = first + SPAN_S - 1;
    assert.ok(got.line.max - got.line.min > 86_000, JSON.stringify(got.line));
    assert.equal(got.strip, got.line, "the strip shows the line's range");
    // Two hours in a day's range at the chart's width (points_max 4 a column): bars of minutes,
    // from the first sample's bar to the last's.
    const b = got.bars;
    assert.ok(b.count >= 8 && b.count <= SPAN_S / 60 + 1, JSON.stringify(b));
    const size = (b.last - b.first) / (b.count - 1);
    assert.ok(b.first <= first && first - b.first < size, `first bar ${b.first}, data ${first}`);
    // The last bar is the last sample's, or the live bar's (a second after it) where the strip
    // has that bar too: whether the history's answer or the live bar came first.
    const end = b.last > last ? live / 1e6 : last;
    assert.ok(
      b.last <= end && end - b.last < size,
      `last bar ${b.last}, data ${last}, live ${end}`,
    );
    assert.is(b.high, 900, "the spike is a bar's high");
    // The header names the size drawn (on the code before, the live bars' `1s`).
    const name = size % 3600 === 0
      ? `${size / 3600}h`
      : size % 60 === 0
      ? `${size / 60}m`
      : `${size}s`;
    const quote = '.card[data-channel="MKT"] h3 .quote';
    assert.match((await page.textContent(quote))!, new RegExp(` · ${name} bars$`));
    await page.screenshot({ path: "tests/artifacts/dashboard_range_candles_24h.png" });

    // The custom range says its zone: typed `YYYY-MM-DD HH:MM` in UTC (on the code before, the
    // browser's `mm/dd/yyyy, --:-- --` in its own locale, read as UTC with nothing saying so);
    // 24 h wrote its range there, and a range typed shows exactly that, bars finer.
    const from = page.locator("#range input[name=range-from]");
    const to = page.locator("#range input[name=range-to]");
    assert.is(await from.getAttribute("placeholder"), "YYYY-MM-DD HH:MM");
    assert.is((await page.textContent("#range .range-zone"))?.trim(), "UTC");
    const utc = (s: number) => new Date(s * 1000).toISOString().slice(0, 16).replace("T", " ");
    assert.is(await from.inputValue(), utc(got.line.min));
    assert.is(await to.inputValue(), utc(got.line.max));
    await from.fill("2026-02-30 10:00");
    await page.click("#range button[name=range-custom]");
    assert.is(
      await page.textContent("#range .range-error"),
      'from "2026-02-30 10:00" is not a UTC time YYYY-MM-DD HH:MM',
    );
    const whole = Math.ceil(first / 60) * 60;
    await from.fill(utc(whole));
    await to.fill(utc(whole + 3600));
    await page.click("#range button[name=range-custom]");
    await page.waitForFunction(
      (w) => {
        const g = (globalThis as unknown as PageTroupe).troupe.grid;
        const x = g.chart("MKT")!.xRange();
        const c = g.chart("MKT")!;
        return c.source === "history" && x.min === w && g.candles("MKT").shownBars().count > 1;
      },
      whole,
      { timeout: 20_000 },
    );
    const hour = await page.evaluate(() => {
      const g = (globalThis as unknown as PageTroupe).troupe.grid;
      return { line: g.chart("MKT")!.xRange(), bars: g.candles("MKT").shownBars() };
    });
    assert.equal(hour.line, { min: whole, max: whole + 3600 });
    assert.is(await page.textContent("#range .range-error"), "");
    assert.ok(hour.bars.count > b.count / 2, `an hour's bars ${JSON.stringify(hour.bars)}`);

    // Live again: the strip draws the live bar again, and says its size.
    await page.click("#range button[name=range-live]");
    await page.waitForFunction(
      () =>
        (globalThis as unknown as PageTroupe).troupe.grid.candles("MKT").shownBars().count === 1,
      null,
      { timeout: 5_000 },
    );
    assert.match((await page.textContent(quote))!, / · 1s bars$/);
    assert.equal(errors, []);
  } finally {
    await dash.close();
  }
});

if (run) test.run();
