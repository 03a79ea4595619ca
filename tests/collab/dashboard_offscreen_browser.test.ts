/**
 * A card off screen does not draw (issue 31: a frame's script time was the strips of 16 charts,
 * of which a window shows some), in a real browser on a real nats-server: every card draws once,
 * then only the cards in view paint their strips; scrolled into view, a card repaints whole and
 * shows the samples that came while it was away. Its candle strip too: a bar coming to a card off
 * screen draws nothing until the card is back in view.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { NatsBus } from "../../actors/runtime/mod.ts";
import { encodeBar, encodeColumns, outSubject } from "../../protocol/mod.ts";
import { haveBrowser } from "../_support/browser.ts";
import { haveNatsServer } from "../_support/nats.ts";
import { openDashboard } from "./_support.ts";

const NAME = "dashboard cards off screen";
const run = haveNatsServer(NAME) && haveBrowser(NAME);
const test = suite(NAME);

const CHANNELS = ["OS1", "OS2", "OS3", "OS4", "OS5", "OS6", "OS7", "OS8"];

interface PageChart {
  livePaints(): { none: number; strip: number; full: number };
  xRange(): { min: number; max: number };
}
interface PageCandles {
  draws: number;
  bars: number;
  shownBars(): { count: number; last: number };
}
interface PageTroupe {
  troupe: {
    grid: {
      channels(): string[];
      chart(c: string): PageChart | undefined;
      candles(c: string): PageCandles | undefined;
    };
  };
}

/** `n` samples a second apart from `t0S` (seconds) on every channel, one frame each. */
async function publish(bus: NatsBus, t0S: number, n: number, seq0: number): Promise<void> {
  const col = (f: (i: number) => number) => Float64Array.from({ length: n }, (_, i) => f(i));
  for (const channel of CHANNELS) {
    bus.publish(
      outSubject("anomaly", channel),
      encodeColumns({
        channel,
        seq0,
        t: col((i) => (t0S + i) * 1e6),
        columns: {
          value: col((i) => Math.sin(seq0 + i)),
          expected: col(() => 0),
          lower: col(() => -2),
          upper: col(() => 2),
        },
      }, { id: `os-${channel}-${seq0}`, src: "test" }),
    );
  }
  await bus.flush();
}

test("an off-screen card paints no strips, and repaints whole with what came when scrolled into view", async () => {
  const dash = await openDashboard({ name: "offscreen", height: 500 });
  try {
    const page = await dash.open();
    const paints = (c: string) =>
      page.evaluate(
        (c) => (globalThis as unknown as PageTroupe).troupe.grid.chart(c)?.livePaints(),
        c,
      );
    const t0 = Math.floor(Date.now() / 1000) - 100;
    await publish(dash.bus, t0, 20, 0);
    // Every card draws once, in view or not (the first draw counts every card).
    await page.waitForFunction(
      (cs) =>
        cs.every((c) =>
          ((globalThis as unknown as PageTroupe).troupe.grid.chart(c)?.livePaints().full ?? 0) > 0
        ),
      CHANNELS,
      { timeout: 20_000 },
    );
    const first = CHANNELS[0]!, last = CHANNELS[CHANNELS.length - 1]!;
    const below = await page.$eval(
      `.card[data-channel="${last}"]`,
      (card) => card.getBoundingClientRect().top > innerHeight,
    );
    assert.ok(below, `${last}'s card lies below a 500 px window`);
    const before = { first: (await paints(first))!, last: (await paints(last))! };
    // Five more samples, one a frame apart: the card in view paints them as strips.
    for (let k = 0; k < 5; k++) {
      await publish(dash.bus, t0 + 20 + k, 1, 20 + k);
      await page.waitForTimeout(100);
    }
    await page.waitForFunction(
      ([c, n]) =>
        ((globalThis as unknown as PageTroupe).troupe.grid.chart(c as string)?.livePaints()
          .strip ?? 0) >= (n as number),
      [first, before.first.strip + 3] as const,
      { timeout: 20_000 },
    );
    const away = (await paints(last))!;
    assert.equal(
      { strip: away.strip, full: away.full },
      { strip: before.last.strip, full: before.last.full },
      "the card off screen painted nothing",
    );
    await page.$eval(`.card[data-channel="${last}"]`, (card) => card.scrollIntoView());
    await page.waitForFunction(
      ([c, n]) =>
        ((globalThis as unknown as PageTroupe).troupe.grid.chart(c as string)?.livePaints()
          .full ?? 0) > (n as number),
      [last, away.full] as const,
      { timeout: 20_000 },
    );
    const shown = await page.evaluate(
      (c) => (globalThis as unknown as PageTroupe).troupe.grid.chart(c)!.xRange(),
      last,
    );
    // The newest sample (t0 + 24) is at the right edge of what it shows now.
    assert.ok(Math.abs(shown.max - (t0 + 24)) < 1, JSON.stringify({ shown, newest: t0 + 24 }));
  } finally {
    await dash.close();
  }
});

/** A closed 1 s bar of `channel` starting at `tS` (seconds), closing at `close`. */
async function publishBar(bus: NatsBus, channel: string, tS: number, close: number) {
  const t = tS * 1e6;
  bus.publish(
    outSubject("bars", channel),
    encodeBar({ id: `os-bar-${channel}-${tS}`, src: "test", ts: t }, {
      channel,
      bar: "1s",
      t,
      open: 1,
      high: close + 1,
      low: 0,
      close,
      count: 1,
      sum: close,
    }),
  );
  await bus.flush();
}

test("an off-screen card's candle strip draws no bar until the card is scrolled into view", async () => {
  const dash = await openDashboard({ name: "offscreen-candles", height: 500 });
  try {
    const page = await dash.open();
    const candles = (c: string) =>
      page.evaluate((c) => {
        const k = (globalThis as unknown as PageTroupe).troupe.grid.candles(c);
        return k && { draws: k.draws, bars: k.bars, shown: k.shownBars() };
      }, c);
    const until = (c: string, what: "draws" | "bars", n: number) =>
      page.waitForFunction(
        ([c, what, n]) =>
          ((globalThis as unknown as PageTroupe).troupe.grid.candles(c as string)?.[
            what as "draws" | "bars"
          ] ?? 0) >= (n as number),
        [c, what, n] as const,
        { timeout: 20_000 },
      );
    const t0 = Math.floor(Date.now() / 1000) - 100;
    await publish(dash.bus, t0, 20, 0);
    await page.waitForFunction(
      (cs) =>
        cs.every((c) =>
          ((globalThis as unknown as PageTroupe).troupe.grid.chart(c)?.livePaints().full ?? 0) > 0
        ),
      CHANNELS,
      { timeout: 20_000 },
    );
    const first = CHANNELS[0]!, last = CHANNELS[CHANNELS.length - 1]!;
    // The first bar makes the strip, which draws once, off screen or not.
    await publishBar(dash.bus, last, t0 + 1, 10);
    await until(last, "draws", 1);
    // Three more bars to the card off screen, then one to the card in view: once that one is
    // drawn, the frame that took the others has run too.
    for (let k = 2; k <= 4; k++) await publishBar(dash.bus, last, t0 + k, 10 + k);
    await until(last, "bars", 4);
    await publishBar(dash.bus, first, t0 + 1, 5);
    await until(first, "draws", 1);
    await publishBar(dash.bus, first, t0 + 2, 6);
    await until(first, "draws", 2);
    const away = (await candles(last))!;
    assert.equal(
      { draws: away.draws, shown: away.shown.count },
      { draws: 1, shown: 1 },
      `the strip off screen drew its first bar only: ${JSON.stringify(away)}`,
    );
    await page.$eval(`.card[data-channel="${last}"]`, (card) => card.scrollIntoView());
    await until(last, "draws", 2);
    const back = (await candles(last))!;
    assert.equal(back.shown.count, 4, `back in view it draws the 4 bars: ${JSON.stringify(back)}`);
    assert.equal(back.shown.last, t0 + 4);
    const quote = await page.$eval(
      `.card[data-channel="${last}"] .quote`,
      (q) => (q as HTMLElement).dataset.last,
    );
    assert.equal(quote, "14", "the header says the last close that came while away");
  } finally {
    await dash.close();
  }
});

if (run) test.run();
