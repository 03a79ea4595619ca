/**
 * An annotation's text on a pinned chart (uPlot's, with its axes), in real Chromium against a
 * real nats-server holding the channel's feed: it starts just right of its line, as the live view
 * writes it. On the code before (54e5c24) it ended at its line, left of it: the draw hook wrote
 * it with the text alignment uPlot's axes leave on the canvas (`right`, `middle`).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { outSubject } from "../../protocol/mod.ts";
import { haveBrowser } from "../_support/browser.ts";
import { type PageDrawnText, recordDrawnText } from "../_support/drawn_text.ts";
import { anomalyColumns } from "../_support/findings.ts";
import { haveNatsServer } from "../_support/nats.ts";
import { feedHistory, openDashboard } from "./_support.ts";

const NAME = "dashboard annotation text in the browser";
const run = haveNatsServer(NAME) && haveBrowser(NAME);
const test = suite(NAME);
const S = 1_000_000;
const SPAN_S = 300;

interface PageTroupe extends PageDrawnText {
  troupe: {
    grid: {
      chart(c: string): {
        source: string;
        points: number;
        xRange(): { min: number; max: number };
        plotX(): { left: number; width: number };
      } | undefined;
    };
    link: { sdoc: { addAnnotation(a: Record<string, unknown>): void } };
  };
}

test("an annotation's text on a pinned chart starts just right of its line", async () => {
  const text = "deploy 42";
  const dash = await openDashboard({ name: "annotation-text" });
  const bus = dash.bus;
  try {
    const now = await feedHistory(bus, "CH", SPAN_S);
    const errors: string[] = [];
    const page = await dash.open({
      role: "editor",
      async prepare(p) {
        p.on("pageerror", (e) => errors.push(e.message));
        await recordDrawnText(p, { match: /^deploy 42$/ });
      },
    });
    bus.publish(
      outSubject("anomaly", "CH"),
      anomalyColumns("CH", Float64Array.from({ length: 20 }, (_, i) => now - (19 - i) * S)),
    );
    await bus.flush();
    await page.waitForFunction(
      () => ((globalThis as unknown as PageTroupe).troupe.grid.chart("CH")?.points ?? 0) >= 20,
      null,
      { timeout: 20_000 },
    );
    // A note two minutes ago, written to the session as the annotations panel writes it.
    const tMs = (now - 120 * S) / 1000;
    await page.evaluate(
      ({ tMs, text }) =>
        (globalThis as unknown as PageTroupe).troupe.link.sdoc.addAnnotation({
          id: "a-1",
          t: tMs,
          channel: "CH",
          text,
          author: "test",
        }),
      { tMs, text },
    );
    // 5 minutes: history, drawn by uPlot, its axes first and then the overlays.
    await page.click("#range button[name=range-5m]");
    await page.waitForFunction(
      () => (globalThis as unknown as PageTroupe).troupe.grid.chart("CH")!.source === "history",
      null,
      { timeout: 20_000 },
    );
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(null))));
    const got = await page.evaluate(() => {
      const g = globalThis as unknown as PageTroupe;
      const c = g.troupe.grid.chart("CH")!;
      return { drawn: g.drawn, x: c.xRange(), plot: c.plotX() };
    });
    const d = got.drawn.at(-1);
    assert.ok(d, "the annotation's text is drawn");
    const w = d.width / d.dpr;
    const left = d.canvasLeft + d.x / d.dpr -
      (d.align === "right" || d.align === "end" ? w : d.align === "center" ? w / 2 : 0);
    const line = got.plot.left +
      (tMs / 1000 - got.x.min) / (got.x.max - got.x.min) * got.plot.width;
    assert.ok(
      left > line && left - line < 8,
      `"${text}" starts at ${left.toFixed(1)} px, not just right of its line at ` +
        `${line.toFixed(1)} px (align ${d.align}, baseline ${d.baseline})`,
    );
    // Its baseline 12 px under the plot's top, as the live view's.
    assert.is(d.baseline, "alphabetic");
    assert.equal(errors, []);
  } finally {
    await dash.close();
  }
});

if (run) test.run();
