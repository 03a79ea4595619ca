/**
 * A feed sampled once a minute (the metrics feed) in a real browser, through a real nats-server
 * and the stream gateway: 36 hours of a channel's samples, one a minute, with the bars the bars
 * actor closes for them (a `1s` and a `1m` bar each minute). The card's candles are the minute's
 * bars, not `1s bars` drawn as dots a minute apart; and the live line's time labels say the date
 * at a day's first tick, as its candles' labels do (before, the line said `00:00:00` with no date
 * under candles that said `11-26 00:00`).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { encodeBar, encodeColumns, outSubject } from "../../protocol/mod.ts";
import { haveBrowser } from "../_support/browser.ts";
import { type PageDrawnText, recordDrawnText } from "../_support/drawn_text.ts";
import { haveNatsServer } from "../_support/nats.ts";
import { openDashboard } from "./_support.ts";

const NAME = "dashboard minute feed in the browser";
const run = haveNatsServer(NAME) && haveBrowser(NAME);
const test = suite(NAME);

interface PageTroupe extends PageDrawnText {
  troupe: { grid: { candles(c: string): { size: string | undefined; bars: number } } };
}

const CHANNEL = "api-cpu";
const MINUTES = 36 * 60;

test("one sample a minute: candles of minute bars, and the line's labels say the date", async () => {
  const dash = await openDashboard({ name: "minute-feed" });
  try {
    const page = await dash.open({ prepare: (p) => recordDrawnText(p) });
    const bus = dash.bus;
    const t0 = (Math.floor(Date.now() / 60_000) - MINUTES) * 60_000_000;
    for (let f = 0; f < MINUTES / 60; f++) {
      const t = new Float64Array(60).map((_, i) => t0 + (f * 60 + i) * 60e6);
      const v = t.map((_, i) => 40 + 10 * Math.sin((f * 60 + i) / 30));
      bus.publish(
        outSubject("anomaly", CHANNEL),
        encodeColumns({
          channel: CHANNEL,
          seq0: f * 60,
          t,
          columns: {
            value: v,
            expected: v,
            lower: v.map((x) => x - 5),
            upper: v.map((x) => x + 5),
          },
        }, { id: `mf-c-${f}`, src: "test" }),
      );
    }
    // The bars of the last hour, as the bars actor closes them: a 1s and a 1m bar a minute.
    for (let m = MINUTES - 60; m < MINUTES; m++) {
      for (const bar of ["1s", "1m"]) {
        const t = t0 + m * 60e6, v = 40 + (m % 5);
        bus.publish(
          outSubject("bars", CHANNEL),
          encodeBar({ id: `mf-b-${bar}-${m}`, src: "test", ts: t }, {
            channel: CHANNEL,
            bar,
            t,
            open: v,
            high: v + 1,
            low: v - 1,
            close: v + 0.5,
            count: 1,
            sum: v,
          }),
        );
      }
    }
    await bus.flush();
    await page.waitForFunction(
      (c) => (globalThis as unknown as PageTroupe).troupe.grid.candles(c).bars >= 50,
      CHANNEL,
      { timeout: 20_000 },
    );
    const candles = await page.evaluate(
      (c) => {
        const k = (globalThis as unknown as PageTroupe).troupe.grid.candles(c);
        return { size: k.size, bars: k.bars };
      },
      CHANNEL,
    );
    assert.is(candles.size, "1m", `the minute's bars: ${JSON.stringify(candles)}`);
    // The header is written in the strip's next frame.
    await page.waitForFunction(
      (c) =>
        document.querySelector(`.card[data-channel="${c}"] h3 .quote`)?.textContent?.endsWith(
          "1m bars",
        ),
      CHANNEL,
      { timeout: 5_000 },
    ).catch(() => undefined); // the assertion says what it said
    const quote = await page.textContent(`.card[data-channel="${CHANNEL}"] h3 .quote`);
    assert.match(quote ?? "", "1m bars");

    // The live line's labels (painted on its OffscreenCanvas): a day's first tick says its date,
    // as the candles' labels do.
    const datedRe = /^\d\d-\d\d \d\d:\d\d/;
    const strip = await page.evaluate(
      (c) =>
        (globalThis as unknown as PageTroupe).drawn.filter((d) => d.channel === c).map((d) =>
          d.text
        ),
      CHANNEL,
    );
    assert.ok(strip.some((t) => datedRe.test(t)), `the candles' labels say a date: ${strip}`);
    await page.waitForFunction(
      () => (globalThis as unknown as PageTroupe).offscreen.some((t) => /\d\d:\d\d/.test(t)),
      null,
      { timeout: 10_000 },
    );
    const line = await page.evaluate(() => (globalThis as unknown as PageTroupe).offscreen);
    assert.ok(line.some((t) => datedRe.test(t)), `the line's labels say a date: ${line}`);
  } finally {
    await dash.close();
  }
});

if (run) test.run();
