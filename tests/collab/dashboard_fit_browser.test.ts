/**
 * The dashboard's chrome in a real browser, as this morning's screenshots on units31 found it
 * (issue 31): a market card's header with a unit set wrapped onto a second line (`1s` / `bars`),
 * and focusing a card low on the page scrolled the range picker out of sight; and in a window
 * 1600 px wide the custom range's `UTC` wrapped onto a row of its own, under its fields.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { encodeBar, encodeColumns, outSubject } from "../../protocol/mod.ts";
import { haveBrowser } from "../_support/browser.ts";
import { haveNatsServer } from "../_support/nats.ts";
import { openDashboard } from "./_support.ts";

const NAME = "dashboard headers and range picker in the browser";
const run = haveNatsServer(NAME) && haveBrowser(NAME);
const test = suite(NAME);

const CHANNELS = Array.from({ length: 4 }, (_, i) => `SYM00${i + 1}`);

interface PageTroupe {
  troupe: { grid: { focus(c: string, tMs: number): void; candles(c: string): { bars: number } } };
}

test("a card's header stays one line with a unit set; the range picker stays in sight", async () => {
  // Two rows of cards, taller than the window.
  const dash = await openDashboard({ name: "fit", height: 600 });
  try {
    const page = await dash.open({ role: "editor" });
    const bus = dash.bus;
    const t0 = (Math.floor(Date.now() / 1000) - 5) * 1_000_000;
    for (const [k, channel] of CHANNELS.entries()) {
      const t = new Float64Array(50).map((_, i) => t0 + i * 1e5);
      const v = new Float64Array(50).map((_, i) => 490.466 + k + i / 100);
      const columns = {
        value: v,
        expected: v,
        lower: v.map((x) => x - 1),
        upper: v.map((x) => x + 1),
      };
      const meta = { id: `fit-${channel}`, src: "test" };
      bus.publish(
        outSubject("anomaly", channel),
        encodeColumns({ channel, seq0: 0, t, columns }, meta),
      );
      for (let s = 0; s < 5; s++) {
        const bar = { open: 505.123, high: 506.5, low: 489.9, close: 490.466, count: 1, sum: 1 };
        bus.publish(
          outSubject("bars", channel),
          encodeBar({ id: `fit-${channel}-${s}`, src: "test", ts: t0 + s * 1e6 }, {
            channel,
            bar: "1s",
            t: t0 + s * 1e6,
            ...bar,
          }),
        );
      }
    }
    await bus.flush();
    await page.waitForFunction(
      (n) => document.querySelectorAll(".card h3 .quote:not(:empty)").length === n,
      CHANNELS.length,
      { timeout: 20_000 },
    );
    const card = '.card[data-channel="SYM004"]';
    await page.click(`${card} button[name=set-unit]`);
    await page.fill(`${card} input[name=unit]`, "USD");
    await page.press(`${card} input[name=unit]`, "Enter");
    await page.waitForSelector(`${card}[data-unit="USD"]`, { timeout: 5_000 });
    const heights = await page.$eval(card, (c) => ({
      h3: c.querySelector("h3")!.getBoundingClientRect().height,
      button: c.querySelector("h3 button.live")!.getBoundingClientRect().height,
      quote: c.querySelector("h3 .quote")!.getBoundingClientRect().height,
      text: c.querySelector("h3 .quote")!.textContent,
    }));
    // One line: no taller than its tallest control (units31: two lines, the quote wrapped).
    assert.ok(heights.h3 <= heights.button + 2, JSON.stringify(heights));
    assert.ok(heights.quote <= heights.button, JSON.stringify(heights));

    // Focusing the last card (at an incident, from the list) scrolls the page to it ...
    await page.evaluate(() => {
      (globalThis as unknown as PageTroupe).troupe.grid.focus("SYM004", Date.now() - 3000);
    });
    await page.waitForFunction(() => scrollY > 0, null, { timeout: 5_000 });
    // ... and the range picker stays in sight (units31: it scrolled off with the header).
    const picker = await page.$eval("#range", (r) => {
      const box = r.getBoundingClientRect();
      return { top: box.top, bottom: box.bottom, scrollY };
    });
    assert.ok(picker.top >= 0 && picker.bottom <= 600, JSON.stringify(picker));
    await page.click("button[name=range-1h]");
    assert.is(await page.getAttribute("button[name=range-1h]", "aria-pressed"), "true");
  } finally {
    await dash.close();
  }
});

test("in a 1600 px window with a team present, the custom range's UTC stays on its fields' row", async () => {
  const dash = await openDashboard({ name: "fit-utc", width: 1600 });
  try {
    // Four people on the session: the header's presence list takes its room from the picker.
    for (let k = 0; k < 3; k++) await dash.open({ role: "editor" });
    const page = await dash.open({ role: "editor" });
    await page.waitForFunction(() => document.querySelectorAll("#presence li").length >= 4);
    const rows = await page.evaluate(() => {
      const names = ["input[name=range-from]", "input[name=range-to]", ".range-zone"];
      return [...names, "button[name=range-custom]"].map((q) => {
        const box = document.querySelector(q)!.getBoundingClientRect();
        return { q, middle: Math.round(box.top + box.height / 2), right: box.right };
      });
    });
    const middles = new Set(rows.map((r) => r.middle));
    assert.ok(middles.size === 1, `one row: ${JSON.stringify(rows)}`);
    assert.ok(rows.every((r) => r.right <= 1600), `nothing cut: ${JSON.stringify(rows)}`);
  } finally {
    await dash.close();
  }
});

if (run) test.run();
