/**
 * A day's time axis in real Chromium, against a real nats-server holding the channel's feed: a
 * typed 24 h range from 22:02 one day to 22:02 the next ticks 00:00 06:00 12:00 18:00, all of the
 * second day; the first tick, too near the plot's left edge, has no label. On the code before, no
 * label said a date (the s36 screenshot: `06:00 12:00 18:00` for yesterday 22:02 to today 22:02);
 * now the date the first tick carried goes to the next label, on the line and on its candles.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ensureFeedStream } from "../../actors/runtime/mod.ts";
import { encodeBar, encodeFrame, feedSubject, outSubject } from "../../protocol/mod.ts";
import { haveBrowser } from "../_support/browser.ts";
import { type PageDrawnText, recordDrawnText } from "../_support/drawn_text.ts";
import { haveNatsServer } from "../_support/nats.ts";
import { openDashboard } from "./_support.ts";

const NAME = "dashboard day axis in the browser";
const run = haveNatsServer(NAME) && haveBrowser(NAME);
const test = suite(NAME);

interface PageTroupe extends PageDrawnText {
  troupe: { grid: { chart(c: string): { source: string } | undefined } };
}

test("a 24 h range from 22:02 says the date on its axes though every tick is of one day", async () => {
  const dash = await openDashboard({ name: "day-axis" });
  const pub = dash.bus;
  try {
    await ensureFeedStream(pub.nc);
    // From 22:02 the day before yesterday (UTC) to 22:02 yesterday: all in the past.
    const midnight = Math.floor(Date.now() / 86_400_000) * 86_400;
    const from = midnight - 2 * 86_400 + 22 * 3600 + 120, to = from + 86_400;
    const n = 24 * 12;
    const t = new Float64Array(n).map((_, i) => (from + 60 + i * 300) * 1e6);
    const v = new Float64Array(n).map((_, i) => 100 + (i % 17));
    pub.publish(
      feedSubject("m", "MKT"),
      encodeFrame({ channel: "MKT", seq0: 0, t, v }, { id: "mkt-day", src: "test" }),
    );
    await pub.flush();
    const errors: string[] = [];
    // Every text drawn on a card's canvases, with the card's channel.
    const page = await dash.open({
      async prepare(p) {
        p.on("pageerror", (e) => errors.push(e.message));
        await recordDrawnText(p);
      },
    });
    const now = Date.now() * 1000;
    pub.publish(
      outSubject("bars", "MKT"),
      encodeBar({ id: "mkt-live", src: "test", ts: now }, {
        channel: "MKT",
        bar: "1s",
        t: now,
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

    const utc = (s: number) => new Date(s * 1000).toISOString().slice(0, 16).replace("T", " ");
    await page.fill("#range input[name=range-from]", utc(from));
    await page.fill("#range input[name=range-to]", utc(to));
    await page.evaluate(() => (globalThis as unknown as PageTroupe).drawn = []);
    await page.click("#range button[name=range-custom]");
    await page.waitForFunction(
      () => (globalThis as unknown as PageTroupe).troupe.grid.chart("MKT")?.source === "history",
      null,
      { timeout: 20_000 },
    );
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(null))));
    const drawn = await page.evaluate(() => (globalThis as unknown as PageTroupe).drawn);
    const times = [
      ...new Set(
        drawn.filter((d) => d.channel === "MKT" && /\d\d:\d\d$/.test(d.text)).map((d) => d.text),
      ),
    ];
    const day = utc(to).slice(5, 10);
    assert.ok(times.includes(`${day} 06:00`), `the date where the day's labels start: ${times}`);
    assert.ok(times.includes("12:00") && times.includes("18:00"), `${times}`);
    assert.equal(errors, []);
  } finally {
    await dash.close();
  }
});

if (run) test.run();
