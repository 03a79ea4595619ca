/**
 * A channel sampled every five minutes in 2013 (a CSV of the time, injected) in a real browser,
 * through a real nats-server and the stream gateway: clicking one of its incidents (one finding,
 * resolved) opens a window fitted to the channel's sampling, holding a dozen samples each side,
 * not the minute each side that held one sample (an empty chart); and its card says where its
 * data is, being far from now.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { encodeColumns, encodeIncident, incidentSubject, outSubject } from "../../protocol/mod.ts";
import { haveBrowser } from "../_support/browser.ts";
import { haveNatsServer } from "../_support/nats.ts";
import { openDashboard } from "./_support.ts";

const NAME = "dashboard slow old channel in the browser";
const run = haveNatsServer(NAME) && haveBrowser(NAME);
const test = suite(NAME);

interface PageTroupe {
  troupe: {
    grid: {
      chart(c: string): { xRange(): { min: number; max: number }; shownPoints(): number };
    };
  };
}

const STEP_US = 300_000_000;
const T0 = Date.UTC(2013, 11, 2) * 1000;

test("an incident of a channel sampled every 5 minutes in 2013 opens on a dozen samples each side", async () => {
  const dash = await openDashboard({ name: "slow-channel" });
  try {
    const page = await dash.open({ role: "editor" });
    const n = 200;
    const t = new Float64Array(n).map((_, i) => T0 + i * STEP_US);
    const v = new Float64Array(n).map((_, i) => 50 + (i % 13));
    dash.bus.publish(
      outSubject("anomaly", "nyc_taxi"),
      encodeColumns({
        channel: "nyc_taxi",
        seq0: 0,
        t,
        columns: { value: v, expected: v, lower: v.map((x) => x - 3), upper: v.map((x) => x + 3) },
      }, { id: "slow-c-0", src: "test" }),
    );
    const at = T0 + 100 * STEP_US;
    const id = `anomaly-${at}-nyc_taxi`;
    dash.bus.publish(
      incidentSubject("anomaly"),
      encodeIncident({ id: `${id}:2`, src: "test", ts: at }, {
        id,
        kind: "anomaly",
        state: "resolved",
        fired: true,
        silenced: false,
        members: [{
          channel: "nyc_taxi",
          first_us: at,
          last_us: at,
          findings: 1,
          peak_severity: 4,
        }],
        first_us: at,
        last_us: at,
        first_finding: "f-1",
        last_finding: "f-1",
        findings: 1,
        peak_severity: 4,
        links: [],
      }),
    );
    await dash.bus.flush();
    const card = '.card[data-channel="nyc_taxi"]';
    await page.waitForSelector(card, { timeout: 20_000 });
    // Far from now, the card says where its data is (before: a card that looked empty or live).
    await page.waitForSelector(`${card} .data-where:not([hidden])`, { timeout: 5_000 });
    assert.is(
      await page.textContent(`${card} .data-where`),
      "Its data: 2013-12-02 00:00 – 2013-12-02 16:35 UTC (not live)",
    );
    const row = page.locator(`#incidents li[data-id="${id}"]`);
    await row.waitFor({ timeout: 20_000 });
    await row.locator(".line").click();
    await page.waitForFunction(
      (a) => {
        const x = (globalThis as unknown as PageTroupe).troupe.grid.chart("nyc_taxi").xRange();
        return x.min < a && a < x.max && x.max - x.min < 86_400;
      },
      at / 1e6,
      { timeout: 10_000 },
    );
    const shown = await page.evaluate(() => {
      const c = (globalThis as unknown as PageTroupe).troupe.grid.chart("nyc_taxi");
      return { x: c.xRange() };
    });
    // Twelve samples of 5 minutes each side (before: a minute each side, one sample).
    assert.ok(shown.x.max - shown.x.min >= 2 * 12 * 300 - 1, JSON.stringify(shown));
  } finally {
    await dash.close();
  }
});

if (run) test.run();
