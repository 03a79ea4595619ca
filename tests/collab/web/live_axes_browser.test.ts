/**
 * The live chart's time labels in a real browser (issue 31: "the leftmost tick label is cut",
 * `48` for `21:22:48`): a LivePlot of the page's bundle, on a canvas of its own, scrolls a window
 * of samples 0.1 s apart across ticks 10 s apart; whenever the leftmost tick's label would reach
 * left of the plot, nothing of it is shown, and the label row left of that tick stays blank.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { launchCollab } from "../../../collab/mod.ts";
import { haveBrowser, launchBrowser } from "../../_support/browser.ts";
import { tempDir } from "../../_support/nats.ts";
import { tokenFor } from "../_support.ts";

const NAME = "dashboard live chart time labels in the browser";
const run = haveBrowser(NAME);
const test = suite(NAME);

interface Frame {
  /** The leftmost tick's column and how far its label reaches left of it. */
  x: number;
  labelPx: number;
  /** Inked pixels of the label row between the plot's left edge and that label's start. */
  inkedLeftOfLabel: number;
  /** Inked pixels of that label's box, when it is inside the plot. */
  inkedLabel: number;
}

test("a time label the scroll would cut at the plot's left edge is not shown", async () => {
  const dir = tempDir("troupe-live-axes-");
  const collab = await launchCollab({ dataDir: dir.path });
  const browser = await launchBrowser({ width: 1200, height: 800 });
  try {
    const page = await browser.newPage();
    const token = await tokenFor(dir.path, "ops", "viewer");
    await page.goto(`http://127.0.0.1:${collab.server.port}/?session=ops&token=${token}`);
    await page.waitForFunction(() => "troupe" in globalThis, undefined, { timeout: 20_000 });
    // Source text, not a function: the test's transpiler would name inner closures with a helper
    // the page does not have.
    const frames = await page.evaluate(`(() => {
      const canvas = document.createElement("canvas");
      const plot = new globalThis.troupe.LivePlot(canvas);
      const left = 50, top = 10, width = 358, height = 134;
      plot.layout(420, 170, { left, top, width, height }, 1);
      const ctx = canvas.getContext("2d");
      const none = { anomalies: [], changes: [], annotations: [] };
      function window(end) {
        const cols = Array.from({ length: 5 }, () => new Float64Array(200));
        for (let i = 0; i < 200; i++) {
          const k = end - 200 + i, v = 10 * Math.sin(k / 9);
          cols[0][i] = 1000 + k / 10;
          cols[1][i] = v;
          cols[2][i] = v;
          cols[3][i] = v - 1;
          cols[4][i] = v + 1;
        }
        return cols;
      }
      const out = [];
      for (let end = 200; end < 200 + 3 * 60; end += 3) {
        plot.update(window(end), none);
        const { min, max } = plot.range();
        const k = width / (max - min);
        const T = Math.ceil(min / 10) * 10;
        const x = Math.round(left + (T - min) * k);
        const label = new Date(T * 1000).toISOString().slice(11, 19);
        const labelPx = Math.ceil(ctx.measureText(label).width) + 3;
        const y = top + height;
        let inked = 0;
        if (x - labelPx > left + 2) {
          const img = ctx.getImageData(left, y, x - labelPx - 1 - left, 170 - y).data;
          for (let i = 3; i < img.length; i += 4) if (img[i] > 0) inked++;
        } else if (x - 4 > left) {
          const img = ctx.getImageData(left, y, x - 4 - left, 170 - y).data;
          for (let i = 3; i < img.length; i += 4) if (img[i] > 0) inked++;
        }
        let inkedLabel = 0;
        if (x - labelPx > left) {
          const img = ctx.getImageData(x - labelPx, y, labelPx, 170 - y).data;
          for (let i = 3; i < img.length; i += 4) if (img[i] > 0) inkedLabel++;
        }
        out.push({ x, labelPx, inkedLeftOfLabel: inked, inkedLabel, k });
      }
      return out;
    })()`) as Array<Frame & { k: number }>;
    // Ticks 10 s apart: 5 s would be closer than the 90 px a label needs.
    assert.ok(frames[0]!.k * 5 < 90 && frames[0]!.k * 10 >= 90, `${frames[0]!.k} px a second`);
    const cut = frames.filter((f) => f.x - f.labelPx < 50 && f.x - 4 > 50);
    assert.ok(cut.length >= 3, `the scroll brought a label to the edge: ${JSON.stringify(frames)}`);
    for (const f of cut) {
      assert.is(f.inkedLeftOfLabel, 0, `a cut label is shown: ${JSON.stringify(f)}`);
    }
    // A label that fits is shown whole, and the row left of it is blank.
    const whole = frames.filter((f) => f.x - f.labelPx > 52);
    assert.ok(whole.length > 0);
    for (const f of whole) {
      assert.ok(f.inkedLabel > 20, `a whole label is shown: ${JSON.stringify(f)}`);
      assert.is(f.inkedLeftOfLabel, 0, JSON.stringify(f));
    }
  } finally {
    await browser.cleanup();
    await collab.close();
    dir.remove();
  }
});

if (run) test.run();
