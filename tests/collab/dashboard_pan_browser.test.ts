/**
 * Pan on a chart, in a real browser on a real nats-server (issue 31: "no time range, zoom or
 * pan"): a card's `«` shows the range shown moved half its width earlier, pinned; `»` moves it
 * back; `live` follows the live edge again.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { encodeColumns, outSubject } from "../../protocol/mod.ts";
import { haveBrowser } from "../_support/browser.ts";
import { haveNatsServer } from "../_support/nats.ts";
import { openDashboard } from "./_support.ts";

const NAME = "dashboard pan in the browser";
const run = haveNatsServer(NAME) && haveBrowser(NAME);
const test = suite(NAME);

interface PageTroupe {
  troupe: {
    grid: {
      chart(c: string): {
        points: number;
        source: string;
        xRange(): { min: number; max: number };
      } | undefined;
    };
  };
}

test("« and » pan a card's range by half its width, pinned; live follows again", async () => {
  const dash = await openDashboard({ name: "pan" });
  try {
    const page = await dash.open();
    const bus = dash.bus;
    // 1,000 samples 0.1 s apart, ending now: 100 s in the chart's ring.
    const n = 1000, t0 = Date.now() * 1000 - n * 100_000;
    const col = (f: (i: number) => number) => Float64Array.from({ length: n }, (_, i) => f(i));
    bus.publish(
      outSubject("anomaly", "PAN"),
      encodeColumns({
        channel: "PAN",
        seq0: 0,
        t: col((i) => t0 + i * 100_000),
        columns: {
          value: col((i) => Math.sin(i / 20)),
          expected: col(() => 0),
          lower: col(() => -1),
          upper: col(() => 1),
        },
      }, { id: "pan-1", src: "test" }),
    );
    await bus.flush();
    await page.waitForFunction(
      () => ((globalThis as unknown as PageTroupe).troupe.grid.chart("PAN")?.points ?? 0) >= 1000,
      undefined,
      { timeout: 20_000 },
    );
    const range = () =>
      page.evaluate(() => (globalThis as unknown as PageTroupe).troupe.grid.chart("PAN")!.xRange());
    const source = () =>
      page.evaluate(() => (globalThis as unknown as PageTroupe).troupe.grid.chart("PAN")!.source);
    // The live view shows the ring's span: half of it earlier reaches before the ring, so the
    // panned range is read from history (none here: the feed stream holds nothing of it).
    // The range is set when the chart draws its points (the next frame), not when they arrive.
    await page.waitForFunction(
      () => {
        const r = (globalThis as unknown as PageTroupe).troupe.grid.chart("PAN")!.xRange();
        return Number.isFinite(r.min) && Number.isFinite(r.max) && r.max > r.min;
      },
      undefined,
      { timeout: 20_000 },
    );
    const a = await range();
    const card = '.card[data-channel="PAN"]';
    await page.click(`${card} button.pan[title="earlier"]`);
    const b = await range();
    const width = a.max - a.min;
    assert.ok(Math.abs(b.max - (a.max - width / 2)) < 0.05 * width, JSON.stringify({ a, b }));
    assert.ok(Math.abs(b.max - b.min - width) < 0.05 * width, "the width is kept");
    assert.ok(["loading", "history"].includes(await source()), await source());
    await page.click(`${card} button.pan[title="later"]`);
    const c = await range();
    assert.ok(Math.abs(c.max - a.max) < 0.05 * width, JSON.stringify({ a, c }));
    assert.is.not(await source(), "live", "a panned range stays pinned");
    await page.click(`${card} button.live`);
    assert.is(await source(), "live");
  } finally {
    await dash.close();
  }
});

if (run) test.run();
