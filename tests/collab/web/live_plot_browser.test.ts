/**
 * The dashboard's live chart view (collab/web/browser/plot/live_plot.ts) in a real browser: headless
 * Chromium on the page served by a real collab server, fed anomaly columns frames through the
 * stream gateway from a real nats-server. What the view painted strip by strip (scrolling the
 * canvas) must equal a repaint of the whole plot from the data at the same scales; a value outside
 * the y range repaints with new scales; drag-to-zoom pins the dragged time range and `live`
 * follows again. Both ways of drawing it are checked, in one page each: on the page (the default)
 * and in the live-plot worker on an OffscreenCanvas (`&render=worker`).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { Page } from "playwright-core";
import { NatsBus } from "../../../actors/runtime/mod.ts";
import { launchCollab } from "../../../collab/mod.ts";
import { encodeColumns } from "../../../protocol/mod.ts";
import { haveBrowser, launchBrowser } from "../../_support/browser.ts";
import { haveNatsServer, startTestNats, tempDir } from "../../_support/nats.ts";
import { tokenFor } from "../_support.ts";

const NAME = "dashboard live chart in the browser";
const run = haveNatsServer(NAME) && haveBrowser(NAME);
const test = suite(NAME);

interface Chart {
  points: number;
  xRange(): { min: number; max: number };
  livePaints(): { none: number; strip: number; full: number };
  repaintLive(): Promise<void>;
  livePixels(): Promise<Uint8ClampedArray>;
}
interface Frames {
  frameTimes: number[];
  frameScripts: number[];
  frameStarts: number[];
}
interface PageTroupe {
  troupe: {
    grid: { chart(c: string): Chart | undefined };
    loop: Frames;
    liveWorker: (Frames & { lastError: string }) | undefined;
  };
}

/** A channel's frames: a wandering value with its expected value and band, 10 samples a second. */
function series(channel: string) {
  let t = Date.UTC(2026, 0, 1) * 1000, i = 0;
  return (n: number, lift = 0): Uint8Array => {
    const tt = new Float64Array(n), value = new Float64Array(n), expected = new Float64Array(n);
    const lower = new Float64Array(n), upper = new Float64Array(n), score = new Float64Array(n);
    for (let k = 0; k < n; k++, i++) {
      t += 100_000;
      tt[k] = t;
      expected[k] = 100 + 20 * Math.sin(i / 40);
      value[k] = expected[k]! + 3 * Math.sin(i / 3) + lift;
      lower[k] = expected[k]! - 6;
      upper[k] = expected[k]! + 6;
      score[k] = 0.1;
    }
    return encodeColumns(
      { channel, seq0: i - n, t: tt, columns: { score, expected, lower, upper, value } },
      { id: `live-plot-test:${channel}:${i}`, src: "live-plot-test" },
    );
  };
}

/** The live view's pixels (read where it is drawn), and how many are not transparent. */
async function pixels(page: Page, channel: string): Promise<{ data: number[]; inked: number }> {
  return await page.evaluate(async (ch) => {
    const c = (globalThis as unknown as PageTroupe).troupe.grid.chart(ch);
    if (!c) throw new Error(`no chart for ${ch}`);
    const img = await c.livePixels();
    let inked = 0;
    for (let i = 3; i < img.length; i += 4) if (img[i]! > 0) inked++;
    return { data: Array.from(img), inked };
  }, channel);
}

/** Share of pixels whose channels differ by more than 32 between two captures. */
function differing(a: number[], b: number[]): number {
  assert.is(a.length, b.length, "the two captures have the same size");
  let n = 0;
  for (let i = 0; i < a.length; i += 4) {
    let d = 0;
    for (let c = 0; c < 4; c++) d = Math.max(d, Math.abs(a[i + c]! - b[i + c]!));
    if (d > 32) n++;
  }
  return n / (a.length / 4);
}

async function chart<T>(page: Page, channel: string, f: (c: Chart) => T): Promise<T> {
  return await page.evaluate(
    ([ch, src]) => {
      const c = (globalThis as unknown as PageTroupe).troupe.grid.chart(ch);
      if (!c) throw new Error(`no chart for ${ch}`);
      return (new Function("c", `return (${src})(c)`))(c);
    },
    [channel, f.toString()] as const,
  ) as T;
}

test("strips scrolled in equal a whole repaint; a value out of range rescales; a drag zooms (worker and page)", async () => {
  const nats = await startTestNats();
  const dir = tempDir("troupe-live-plot-");
  const collab = await launchCollab({ dataDir: dir.path, nats: nats.url, bridge: false });
  const bus = await NatsBus.connect(nats.url, { name: "live-plot-test" });
  const browser = await launchBrowser({ width: 1400, height: 900 });
  try {
    const token = await tokenFor(dir.path, "ops", "viewer");
    for (const render of ["worker", "main"] as const) {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(
        `http://127.0.0.1:${collab.server.port}/?session=ops&token=${token}&backfill=0` +
          (render === "worker" ? "&render=worker" : ""),
      );
      await page.waitForSelector("body[data-stream-subscribed]", { timeout: 20_000 });
      const drawnBy = await page.evaluate(() =>
        (globalThis as unknown as PageTroupe).troupe.liveWorker ? "worker" : "main"
      );
      assert.is(drawnBy, render, "the live views are drawn where the address asks");
      await checkLiveChart(page, bus, render === "worker" ? "LPW" : "LPM");
      if (render === "main") await checkRefresh(page);
      assert.equal(errors, []);
      assert.is(
        await page.evaluate(() =>
          (globalThis as unknown as PageTroupe).troupe.liveWorker?.lastError ?? ""
        ),
        "",
        "the worker reported no error",
      );
      await page.close();
    }
  } finally {
    await browser.cleanup();
    await bus.close();
    await collab.close();
    await nats.stop();
    dir.remove();
  }
});

/**
 * A refresh (the periodic repaint with fresh scales) repaints only when the fresh scales differ
 * from the ones shown: a window whose range is the same paints a strip; one whose range shrank
 * to half repaints, and paints a strip when no refresh is asked. Drives a LivePlot of the page's
 * bundle on a canvas of its own, with windows of 200 samples 0.1 s apart.
 */
async function checkRefresh(page: Page): Promise<void> {
  // Source text, not a function: the test's transpiler would name inner closures with a helper
  // the page does not have.
  const kinds = await page.evaluate(`(() => {
    const plot = new globalThis.troupe.LivePlot(document.createElement("canvas"));
    plot.layout(420, 170, { left: 50, top: 10, width: 358, height: 134 }, 1);
    const none = { anomalies: [], changes: [], annotations: [] };
    // The window of 200 samples ending at sample end, its values scaled by gain.
    function window(end, gain) {
      const cols = Array.from({ length: 5 }, () => new Float64Array(200));
      for (let i = 0; i < 200; i++) {
        const k = end - 200 + i, v = gain * 10 * Math.sin(k / 9);
        cols[0][i] = 1000 + k / 10;
        cols[1][i] = v;
        cols[2][i] = v;
        cols[3][i] = v - gain;
        cols[4][i] = v + gain;
      }
      return cols;
    }
    return [
      plot.update(window(200, 1), none),
      plot.update(window(202, 1), none, true),
      plot.update(window(204, 0.5), none),
      plot.update(window(206, 0.5), none, true),
      plot.update(window(208, 0.5), none, true),
    ];
  })()`) as string[];
  assert.equal(kinds, ["full", "strip", "strip", "full", "strip"], "paints per update");
}

/** Frames of whichever draws the live views: the worker's, else the page's loop. */
async function liveFrames(page: Page): Promise<Frames> {
  return await page.evaluate(() => {
    const t = (globalThis as unknown as PageTroupe).troupe;
    const { frameTimes, frameScripts, frameStarts } = t.liveWorker ?? t.loop;
    return { frameTimes, frameScripts, frameStarts };
  });
}

async function checkLiveChart(page: Page, bus: NatsBus, ch: string): Promise<void> {
  const subject = `troupe.out.anomaly.${ch}`;
  const next = series(ch);
  // 300 points, so that a whole repaint draws every sample (no decimation) and the two
  // pictures can be compared pixel for pixel.
  bus.publish(subject, next(300));
  await page.waitForFunction(
    (c) => ((globalThis as unknown as PageTroupe).troupe.grid.chart(c)?.points ?? 0) >= 300,
    ch,
    { timeout: 20_000 },
  );
  for (let u = 0; u < 40; u++) {
    bus.publish(subject, next(4));
    await new Promise((r) => setTimeout(r, 60));
  }
  await page.waitForFunction(
    (c) => ((globalThis as unknown as PageTroupe).troupe.grid.chart(c)?.points ?? 0) >= 460,
    ch,
    { timeout: 20_000 },
  );
  await page.waitForTimeout(300);
  const paints = await chart(page, ch, (c) => c.livePaints());
  assert.ok(paints.strip >= 10, `most updates paint a strip: ${JSON.stringify(paints)}`);
  assert.ok(paints.full <= 3, `few whole repaints: ${JSON.stringify(paints)}`);
  // Each frame is timed to the end of its rendering: at least its script time, and in all
  // more than the scripts alone (the browser rasterizes the canvases after them).
  const frames = await liveFrames(page);
  assert.ok(frames.frameTimes.length >= 10, `frames timed: ${frames.frameTimes.length}`);
  assert.is(frames.frameScripts.length, frames.frameTimes.length);
  assert.is(frames.frameStarts.length, frames.frameTimes.length);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  assert.ok(
    frames.frameTimes.every((ms, i) => ms >= frames.frameScripts[i]!),
    "a frame takes at least its scripts",
  );
  assert.ok(
    sum(frames.frameTimes) > sum(frames.frameScripts),
    `rendering counted: ${sum(frames.frameTimes)} ms in all, ${
      sum(frames.frameScripts)
    } ms of scripts`,
  );
  const strips = await pixels(page, ch);
  assert.ok(strips.inked > 3000, `the chart is drawn: ${strips.inked} pixels inked`);
  await chart(page, ch, (c) => c.repaintLive());
  const whole = await pixels(page, ch);
  const share = differing(strips.data, whole.data);
  assert.ok(share < 0.002, `strips and a whole repaint differ in ${(share * 100).toFixed(3)}%`);

  // A value far above the range: the next update repaints with new scales.
  bus.publish(subject, next(4, 500));
  await page.waitForFunction(
    ([c, full]) => {
      const chart = (globalThis as unknown as PageTroupe).troupe.grid.chart(c);
      return (chart?.livePaints().full ?? 0) > full;
    },
    [ch, paints.full] as const,
    { timeout: 10_000 },
  );

  // Drag across the middle of the plot: the chart pins a range inside the one shown.
  const shown = await chart(page, ch, (c) => c.xRange());
  const over = await page.locator(`.card[data-channel="${ch}"] .u-over`).boundingBox();
  assert.ok(over, "uPlot's cursor layer is there");
  const y = over.y + over.height / 2;
  await page.mouse.move(over.x + over.width * 0.3, y);
  await page.mouse.down();
  await page.mouse.move(over.x + over.width * 0.6, y, { steps: 5 });
  await page.mouse.up();
  const zoomed = await chart(page, ch, (c) => c.xRange());
  const span = shown.max - shown.min;
  assert.ok(
    zoomed.min > shown.min && zoomed.max < shown.max && zoomed.max - zoomed.min < span * 0.5,
    `zoomed ${JSON.stringify(zoomed)} inside ${JSON.stringify(shown)}`,
  );
  assert.ok(
    await page.locator(`.card[data-channel="${ch}"] canvas.live-plot`).evaluate((c) =>
      (c as HTMLElement).style.visibility === "hidden"
    ),
    "the live view is hidden while pinned",
  );
  await page.click(`.card[data-channel="${ch}"] button.live`);
  bus.publish(subject, next(4));
  await page.waitForFunction(
    ([c, max]) => {
      const chart = (globalThis as unknown as PageTroupe).troupe.grid.chart(c);
      return (chart?.xRange().max ?? 0) > max;
    },
    [ch, zoomed.max] as const,
    { timeout: 10_000 },
  );
}

if (run) test.run();
