/**
 * The shared crosshair in a real browser, fed through a real nats-server and the stream gateway:
 * the pointer over one chart shows, in every card's header, that card's value at the same moment
 * (issue 31: no values on hover, nothing shared between cards).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { encodeColumns, outSubject } from "../../protocol/mod.ts";
import { haveBrowser } from "../_support/browser.ts";
import { haveNatsServer } from "../_support/nats.ts";
import { openDashboard } from "./_support.ts";

const NAME = "dashboard crosshair in the browser";
const run = haveNatsServer(NAME) && haveBrowser(NAME);
const test = suite(NAME);

test("the pointer over one chart shows every card's value at that moment", async () => {
  const dash = await openDashboard({ name: "crosshair" });
  try {
    const page = await dash.open();
    const bus = dash.bus;
    const t0 = (Math.floor(Date.now() / 1000) - 20) * 1_000_000;
    // 20 s of two channels at 10 samples a second: AAA is 10 + s, BBB is 200 + s (s: the second).
    for (const [channel, base] of [["AAA", 10], ["BBB", 200]] as const) {
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
      () =>
        document.querySelectorAll(".card[data-channel] canvas").length >= 2 &&
        ["AAA", "BBB"].every((c) =>
          (globalThis as unknown as { troupe: { grid: { chart(c: string): { points: number } } } })
            .troupe.grid.chart(c).points === 200
        ),
      null,
      { timeout: 20_000 },
    );
    await page.waitForTimeout(300);
    const over = await page.locator('.card[data-channel="AAA"] .u-over').boundingBox();
    assert.ok(over, "chart AAA has a plot");
    await page.mouse.move(over.x + over.width / 2, over.y + over.height / 2);
    await page.waitForFunction(
      () => document.querySelector('.card[data-channel="BBB"] .readout')?.textContent !== "",
      null,
      { timeout: 5_000 },
    );
    const read = (c: string) =>
      page.$eval(`.card[data-channel="${c}"] .readout`, (r) => ({
        text: r.textContent ?? "",
        t: Number((r as HTMLElement).dataset.t),
        v: Number((r as HTMLElement).dataset.value),
      }));
    const a = await read("AAA"), b = await read("BBB");
    assert.is(a.t, b.t, "the same moment on both cards");
    const second = Math.floor(a.t - t0 / 1e6 + 1e-9);
    assert.is(a.v, 10 + second, JSON.stringify(a));
    assert.is(b.v, 200 + second, JSON.stringify(b));
    assert.match(b.text, new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d ${200 + second}$`));
    await page.mouse.move(5, 5);
    await page.waitForFunction(
      () => document.querySelector('.card[data-channel="BBB"] .readout')?.textContent === "",
      null,
      { timeout: 5_000 },
    );
  } finally {
    await dash.close();
  }
});

if (run) test.run();
