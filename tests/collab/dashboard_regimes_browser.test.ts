/**
 * A change point's regime levels in a real browser, fed through a real nats-server and the stream
 * gateway: the new regime's level is drawn from the change to its confirmation and not on to the
 * window's right edge (issue 31: the level was drawn across the window, far from a price that had
 * wandered off it), and the old regime's up to the change.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { encodeCollapse, encodeColumns, findingSubject, outSubject } from "../../protocol/mod.ts";
import { haveBrowser } from "../_support/browser.ts";
import { haveNatsServer } from "../_support/nats.ts";
import { openDashboard } from "./_support.ts";

const NAME = "dashboard regime levels in the browser";
const run = haveNatsServer(NAME) && haveBrowser(NAME);
const test = suite(NAME);

interface PageTroupe {
  troupe: {
    grid: {
      chart(c: string): {
        points: number;
        width: number;
        livePixels(): Promise<Uint8ClampedArray>;
      };
    };
  };
}

/** Columns of the live canvas (CSS: 50 left and 12 right of the plot) where the regime's orange
 *  shows, in the plot's left third, middle third and right third. */
async function orangeThirds(
  page: import("playwright-core").Page,
): Promise<[number, number, number]> {
  return await page.evaluate(async () => {
    const chart = (globalThis as unknown as PageTroupe).troupe.grid.chart("RGM");
    const px = await chart.livePixels();
    const dpr = devicePixelRatio, w = Math.round(chart.width * dpr);
    const left = 50 * dpr, right = w - 12 * dpr, third = (right - left) / 3;
    const thirds: [number, number, number] = [0, 0, 0];
    for (let x = left; x < right; x++) {
      for (let y = 0; y < px.length / 4 / w; y++) {
        const i = (y * w + x) * 4;
        const [r, g, b] = [px[i]!, px[i + 1]!, px[i + 2]!];
        if (r > 150 && g > 110 && g < 200 && b < 110) {
          const k = Math.min(2, Math.floor((x - left) / third));
          thirds[k] = thirds[k]! + 1;
          break;
        }
      }
    }
    return thirds;
  });
}

test("a regime's level is drawn over the span it held, not to the window's right edge", async () => {
  const dash = await openDashboard({ name: "regimes" });
  try {
    const page = await dash.open();
    const bus = dash.bus;
    const t0 = (Math.floor(Date.now() / 1000) - 30) * 1_000_000;
    // 30 s rising from 100 to 105 at 10 samples a second.
    for (let s = 0; s < 30; s++) {
      const t = new Float64Array(10).map((_, i) => t0 + s * 1e6 + i * 1e5);
      const v = new Float64Array(10).map((_, i) => 100 + (s + i / 10) / 6);
      const columns = {
        value: v,
        expected: v,
        lower: v.map((x) => x - 1),
        upper: v.map((x) => x + 1),
      };
      bus.publish(
        outSubject("anomaly", "RGM"),
        encodeColumns({ channel: "RGM", seq0: s * 10, t, columns }, {
          id: `rgm-${s}`,
          src: "test",
        }),
      );
    }
    // A change 10 s in, confirmed 2 s later: the old regime's mean 100.8, the new one's 101.9
    // (where the line is 11 s in, and is no longer from 13 s on).
    const change = t0 + 10e6;
    bus.publish(
      findingSubject("collapse", "RGM"),
      encodeCollapse({ id: "rgm-change", src: "test", ts: change + 2e6 }, {
        channel: "RGM",
        change_ts: change,
        change_index: 100,
        delay_samples: 20,
        mean_before: 100.8,
        mean_after: 101.9,
        level_before: 101.6,
        level_after: 101.9,
        spread_before: 0.5,
        spread_after: 0.5,
        direction: "up",
        severity: 2,
      }),
    );
    await bus.flush();
    await page.waitForFunction(
      () => (globalThis as unknown as PageTroupe).troupe.grid.chart("RGM")?.points === 300,
      null,
      { timeout: 20_000 },
    );
    // The change line (orange, a third of the way in) and the old regime's level show once the
    // overlays are painted, which a loaded machine may do in more than one frame.
    let thirds: [number, number, number] = [0, 0, 0];
    for (let i = 0; i < 50 && (thirds[0] === 0 || thirds[1] === 0); i++) {
      await page.waitForTimeout(100);
      thirds = await orangeThirds(page);
    }
    assert.ok(thirds[0] > 0 && thirds[1] > 0, `the old regime and the change: ${thirds}`);
    // Nothing orange from 20 s on (units31 drew the new level on to the right edge).
    assert.is(thirds[2], 0, `no level past its span: ${thirds}`);
  } finally {
    await dash.close();
  }
});

if (run) test.run();
