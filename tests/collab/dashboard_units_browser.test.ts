/**
 * Units on the dashboard in a real browser, fed through a real nats-server and the stream gateway
 * (issue 31: no units anywhere): a metrics channel's card says its unit in its header and over its
 * value labels, and the shared crosshair writes each value with it; a market symbol has none.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { encodeColumns, outSubject } from "../../protocol/mod.ts";
import { haveBrowser } from "../_support/browser.ts";
import { haveNatsServer } from "../_support/nats.ts";
import { openDashboard } from "./_support.ts";

const NAME = "dashboard units in the browser";
const run = haveNatsServer(NAME) && haveBrowser(NAME);
const test = suite(NAME);

const CHANNELS = [["api-latency_ms", 100, "ms"], ["web-cpu", 40, "%"], ["BTC", 200, ""]] as const;

test("a metrics card shows its unit in its header, on its y axis and at the crosshair", async () => {
  const dash = await openDashboard({ name: "units" });
  try {
    const page = await dash.open();
    const bus = dash.bus;
    const t0 = (Math.floor(Date.now() / 1000) - 20) * 1_000_000;
    // 20 s of each channel at 10 samples a second: base + s (s: the second).
    for (const [channel, base] of CHANNELS) {
      const t = new Float64Array(200).map((_, i) => t0 + i * 1e5);
      const v = new Float64Array(200).map((_, i) => base + Math.floor(i / 10));
      bus.publish(
        outSubject("anomaly", channel),
        encodeColumns({
          channel,
          seq0: 0,
          t,
          columns: {
            value: v,
            expected: v,
            lower: v.map((x) => x - 1),
            upper: v.map((x) => x + 1),
          },
        }, { id: `x-${channel}`, src: "test" }),
      );
    }
    await bus.flush();
    await page.waitForFunction(
      (names) =>
        names.every((c) =>
          (globalThis as unknown as { troupe: { grid: { chart(c: string): { points: number } } } })
            .troupe.grid.chart(c).points === 200
        ),
      CHANNELS.map(([c]) => c),
      { timeout: 20_000 },
    );
    await page.waitForTimeout(300);
    for (const [channel, , unit] of CHANNELS) {
      const card = `.card[data-channel="${channel}"]`;
      assert.is(await page.$eval(`${card} h3 .unit`, (e) => e.textContent), unit, channel);
      const axis = page.locator(`${card} .y-unit`);
      assert.is(await axis.textContent(), unit, channel);
      const box = await axis.boundingBox();
      const plot = await page.locator(`${card} .plot`).boundingBox();
      if (unit === "") {
        assert.is(box, null, `${channel}: no unit, no label`);
        continue;
      }
      // In the value labels' margin (the live view's left 50 CSS pixels), above the plot's top
      // margin's middle (10 CSS pixels: no value label reaches higher).
      assert.ok(box && plot, channel);
      const where = JSON.stringify({ box, plot });
      assert.ok(box.x >= plot.x && box.x + box.width <= plot.x + 50, where);
      assert.ok(box.y + box.height <= plot.y + 5, where);
    }
    const over = await page.locator('.card[data-channel="api-latency_ms"] .u-over').boundingBox();
    assert.ok(over, "chart api-latency_ms has a plot");
    await page.mouse.move(over.x + over.width / 2, over.y + over.height / 2);
    await page.waitForFunction(
      () => document.querySelector('.card[data-channel="BTC"] .readout')?.textContent !== "",
      null,
      { timeout: 5_000 },
    );
    for (const [channel, base, unit] of CHANNELS) {
      const r = await page.$eval(`.card[data-channel="${channel}"] .readout`, (e) => ({
        text: e.textContent ?? "",
        t: Number((e as HTMLElement).dataset.t),
      }));
      const value = base + Math.floor(r.t - t0 / 1e6 + 1e-9);
      const shown = unit === "" ? `${value}` : unit === "%" ? `${value}%` : `${value} ${unit}`;
      assert.match(r.text, new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d ${shown}$`), channel);
    }
  } finally {
    await dash.close();
  }
});

if (run) test.run();
