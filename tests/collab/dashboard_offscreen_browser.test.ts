/**
 * A card off screen does not draw (issue 31: a frame's script time was the strips of 16 charts,
 * of which a window shows some), in a real browser on a real nats-server: every card draws once,
 * then only the cards in view paint their strips; scrolled into view, a card repaints whole and
 * shows the samples that came while it was away.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { NatsBus } from "../../actors/runtime/mod.ts";
import { encodeColumns, outSubject } from "../../protocol/mod.ts";
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
interface PageTroupe {
  troupe: { grid: { channels(): string[]; chart(c: string): PageChart | undefined } };
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

if (run) test.run();
