/**
 * The cards' charts follow their cards' width, in real Chromium fed through a real nats-server and
 * the stream gateway: built at the width of the grid's column, and when the window is resized
 * (the grid's columns narrow), each card's line, its live view's canvas and its candle strip take
 * the card's new width and the live view is painted whole again at it. The grid reads no layout
 * for this (a ResizeObserver says the widths): a card whose observer were missing keeps its first
 * width, and this fails.
 */
import type { Page } from "playwright-core";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { encodeBar, encodeColumns, outSubject } from "../../protocol/mod.ts";
import type { NatsBus } from "../../actors/runtime/mod.ts";
import { haveBrowser } from "../_support/browser.ts";
import { haveNatsServer } from "../_support/nats.ts";
import { openDashboard } from "./_support.ts";

const NAME = "dashboard card width in the browser";
const run = haveNatsServer(NAME) && haveBrowser(NAME);
const test = suite(NAME);

const CHANNELS = ["AAA", "BBB", "CCC"] as const;

interface PageTroupe {
  troupe: {
    grid: {
      chart(c: string): {
        width: number;
        livePaints(): { full: number; strip: number } | undefined;
      } | undefined;
      candles(c: string): { plotX(): { width: number } } | undefined;
    };
  };
}

/** Each card's width (its content, as the charts take it), its line's, its live canvas's (CSS
 *  pixels), its strip's plot's, and how often its live view was painted whole. */
function widths(page: Page) {
  return page.evaluate((channels) => {
    const grid = (globalThis as unknown as PageTroupe).troupe.grid;
    return channels.map((c) => {
      const card = document.querySelector<HTMLElement>(`.card[data-channel="${c}"]`)!;
      const live = card.querySelector<HTMLCanvasElement>("canvas.live-plot")!;
      const chart = grid.chart(c)!;
      return {
        channel: c,
        card: card.clientWidth - 18,
        line: chart.width,
        live: live.width / devicePixelRatio,
        candles: grid.candles(c)?.plotX().width,
        full: chart.livePaints()?.full ?? 0,
      };
    });
  }, [...CHANNELS]);
}

/** 20 s of `channel` at 10 samples a second from `t0` (µs), and a bar of its first second. */
function publish(bus: NatsBus, channel: string, t0: number): void {
  const t = new Float64Array(200).map((_, i) => t0 + i * 1e5);
  const v = new Float64Array(200).map((_, i) => 10 + Math.sin(i / 10));
  bus.publish(
    outSubject("anomaly", channel),
    encodeColumns({
      channel,
      seq0: 0,
      t,
      columns: { value: v, expected: v, lower: v.map((x) => x - 1), upper: v.map((x) => x + 1) },
    }, { id: `w-${channel}`, src: "test" }),
  );
  bus.publish(
    outSubject("bars", channel),
    encodeBar({ id: `b-${channel}`, src: "test", ts: t0 }, {
      channel,
      bar: "1s",
      t: t0,
      open: 10,
      high: 11,
      low: 9,
      close: 10.5,
      count: 10,
      sum: 105,
    }),
  );
}

/** Waits until every card's charts are as wide as it, and returns the widths. */
async function settled(page: Page, what: string): Promise<Awaited<ReturnType<typeof widths>>> {
  await page.waitForFunction(
    (channels) => {
      const grid = (globalThis as unknown as PageTroupe).troupe.grid;
      return channels.every((c) => {
        const card = document.querySelector<HTMLElement>(`.card[data-channel="${c}"]`);
        return card && Math.abs(grid.chart(c)!.width - (card.clientWidth - 18)) <= 1;
      });
    },
    [...CHANNELS],
    { timeout: 5_000 },
  ).catch(() => undefined);
  // Two frames: the live views drew at the width they took.
  await page.evaluate(() =>
    new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))
  );
  await page.waitForTimeout(200);
  const got = await widths(page);
  for (const w of got) {
    const at = `${what}: ${JSON.stringify(w)}`;
    assert.ok(Math.abs(w.line - w.card) <= 1, `the line is as wide as its card, ${at}`);
    assert.is(w.live, w.line, `the live view's canvas is as wide as the line, ${at}`);
  }
  return got;
}

test("a card's line, live view and strip follow its width when the window is resized", async () => {
  const dash = await openDashboard({ name: "card-width", width: 1600, height: 1000 });
  try {
    const page = await dash.open();
    const t0 = (Math.floor(Date.now() / 1000) - 20) * 1_000_000;
    for (const c of CHANNELS) publish(dash.bus, c, t0);
    await dash.bus.flush();
    await page.waitForFunction(
      (channels) => {
        const grid = (globalThis as unknown as PageTroupe).troupe.grid;
        return channels.every((c) => grid.chart(c) && grid.candles(c) !== undefined);
      },
      [...CHANNELS],
      { timeout: 20_000 },
    );
    const wide = await settled(page, "at 1600 px");
    // The strip's plot is the line's live plot's width (one time axis), before and after.
    const strips = wide.map((w) => w.candles);
    // Two columns of 440 px in place of 590: every card narrows.
    await page.setViewportSize({ width: 1300, height: 1000 });
    const narrow = await settled(page, "at 1300 px");
    for (const [i, w] of narrow.entries()) {
      const before = wide[i]!;
      const at = JSON.stringify({ before, after: w });
      assert.ok(w.line < before.line - 100, `the line narrowed with its card: ${at}`);
      assert.ok(w.full > before.full, `the live view was painted whole at its new width: ${at}`);
      assert.is(
        w.candles! - strips[i]!,
        w.line - before.line,
        `the strip's plot narrowed as the line's: ${at}`,
      );
    }
  } finally {
    await dash.close();
  }
});

if (run) test.run();
