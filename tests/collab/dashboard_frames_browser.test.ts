/**
 * What a live round costs the dashboard's main thread beyond its drawing, in a real browser fed
 * through a real nats-server and the stream gateway (issue 31: the frame bar). A round that
 * scrolls cards with candle strips runs one animation frame, not two (the strips, marked by their
 * line's scroll during the frame's flush, had asked for a frame that then ran empty); and a card
 * following live writes nothing to its page each frame (its incident legend, empty, was rewritten
 * every frame it drew, which made Chromium recompute the page's style every frame). A panel marked
 * again after it was flushed in the frame being drawn (a strip drawn before its line, then marked by
 * the line's scroll) is drawn again in the next frame (the mark was dropped). A message handled
 * after a frame was drawn but before the loop saw its end counts once, in the next frame (it was
 * in the frame's span and charged to the next too).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { Page } from "playwright-core";
import type { NatsBus } from "../../actors/runtime/mod.ts";
import { encodeBar, encodeColumns, outSubject } from "../../protocol/mod.ts";
import { haveBrowser } from "../_support/browser.ts";
import { haveNatsServer } from "../_support/nats.ts";
import { type Dashboard, openDashboard } from "./_support.ts";

const NAME = "dashboard frames in the browser";
const run = haveNatsServer(NAME) && haveBrowser(NAME);
const test = suite(NAME);

const CHANNELS = ["FR1", "FR2", "FR3", "FR4"];
/** Samples a round, 10 a second of event time; a one-second bar closes each round. */
const PER_ROUND = 10;
const ROUNDS = 12;

let shared: Dashboard | undefined;
test.before(async () => {
  if (run) shared = await openDashboard({ name: "frames" });
});
test.after(async () => {
  await shared?.close();
});

interface PageTroupe {
  troupe: {
    grid: {
      chart(c: string): { points: number } | undefined;
      candles(c: string): { bars: number; draws: number } | undefined;
    };
    routing: { framesAsked: number };
    loop: {
      frameTimes: number[];
      frameCharges: number[];
      mark(panel: { flush(): void }): void;
      charge(ms: number): void;
    };
  };
  /**
   * Animation frames asked for since the test counted from (requestAnimationFrame's calls), less
   * those the router asked for to route messages after them (on a loaded machine a round's
   * messages may take more than a frame's routing budget): the frame loop's.
   */
  rafs: number;
  /** Mutations seen under the cards since the observer started. */
  mutations: string[];
}

/** Round `r` of every channel: its samples, and with `bars` the one-second bar before them. */
function publishRound(bus: NatsBus, t0S: number, r: number, bars: boolean): void {
  const tag = bars ? "b" : "l";
  for (const channel of CHANNELS) {
    const col = (f: (i: number) => number) =>
      Float64Array.from({ length: PER_ROUND }, (_, i) => f(r * PER_ROUND + i));
    bus.publish(
      outSubject("anomaly", channel),
      encodeColumns({
        channel,
        seq0: r * PER_ROUND,
        t: col((i) => (t0S + i / 10) * 1e6),
        columns: {
          value: col((i) => Math.sin(i / 9)),
          expected: col(() => 0),
          lower: col(() => -2),
          upper: col(() => 2),
        },
      }, { id: `fr-${tag}-${channel}-${r}`, src: "test" }),
    );
    if (!bars || r === 0) continue;
    const t = (t0S + r - 1) * 1e6, open = Math.sin((r - 1) / 0.9), close = Math.sin(r / 0.9);
    bus.publish(
      outSubject("bars", channel),
      encodeBar({ id: `fr-${tag}-${channel}-bar${r}`, src: "test", ts: t + 1e6 }, {
        channel,
        bar: "1s",
        t,
        open,
        high: Math.max(open, close) + 0.1,
        low: Math.min(open, close) - 0.1,
        close,
        count: PER_ROUND,
        sum: close * PER_ROUND,
      }),
    );
  }
}

/** Feeds `rounds` rounds from `from`, each once the page drew the one before. */
async function feed(page: Page, t0S: number, from: number, rounds: number, bars: boolean) {
  for (let r = from; r < from + rounds; r++) {
    publishRound(shared!.bus, t0S, r, bars);
    await shared!.bus.flush();
    await page.waitForFunction(
      ([chs, want]) => {
        const g = (globalThis as unknown as PageTroupe).troupe.grid;
        return chs.every((c) => (g.chart(c)?.points ?? 0) >= want);
      },
      [CHANNELS, (r + 1) * PER_ROUND] as const,
      { timeout: 10_000 },
    );
    // The round's frame and anything it asked for (the loop waits 8-50 ms before a frame).
    await page.waitForTimeout(120);
  }
}

test("a round that scrolls cards with candle strips runs one animation frame, not two", async () => {
  const page = await shared!.open();
  try {
    const t0S = Math.floor(Date.now() / 1000) - 60;
    await feed(page, t0S, 0, 3, true);
    await page.waitForFunction(
      (chs) => chs.every((c) => (globalThis as unknown as PageTroupe).troupe.grid.candles(c)),
      CHANNELS,
      { timeout: 10_000 },
    );
    // Under tsx the page's functions below keep their names through a helper, `__name`, which
    // the page does not have: give it one that does nothing.
    await page.evaluate("globalThis.__name ??= (f) => f");
    const before = await page.evaluate(() => {
      const g = globalThis as unknown as PageTroupe & {
        requestAnimationFrame: typeof requestAnimationFrame;
      };
      const rAF = g.requestAnimationFrame.bind(globalThis);
      const routing = g.troupe.routing;
      const asked = routing.framesAsked;
      let rafs = 0;
      Object.defineProperty(g, "rafs", { get: () => rafs - (routing.framesAsked - asked) });
      g.requestAnimationFrame = (cb: FrameRequestCallback) => (rafs++, rAF(cb));
      return {
        frames: g.troupe.loop.frameTimes.length,
        draws: g.troupe.grid.candles("FR1")!.draws,
      };
    });
    await feed(page, t0S, 3, ROUNDS, true);
    // A frame asked for late in the last round (a loaded machine) is counted once it ends; one
    // that ran empty never is, and the counts stay apart.
    await page.waitForFunction(
      (b) => {
        const g = globalThis as unknown as PageTroupe;
        return g.rafs === g.troupe.loop.frameTimes.length - b;
      },
      before.frames,
      { timeout: 2_000 },
    ).catch(() => {});
    const after = await page.evaluate(() => {
      const g = globalThis as unknown as PageTroupe;
      return {
        rafs: g.rafs,
        frames: g.troupe.loop.frameTimes.length,
        draws: g.troupe.grid.candles("FR1")!.draws,
      };
    });
    const frames = after.frames - before.frames;
    // The rounds drew, their strips included (they follow the line's scroll). A round is fed once
    // the page holds the last one's points, which on a loaded machine can be before that round's
    // frame has run: two rounds then share a frame, so at least half of them drew apart.
    assert.ok(frames >= ROUNDS / 2, `frames drawn: ${JSON.stringify({ before, after })}`);
    assert.ok(after.draws - before.draws >= ROUNDS / 2, JSON.stringify({ before, after }));
    assert.is(after.rafs, frames, `animation frames asked for, against ${frames} drawn`);
  } finally {
    await page.close();
  }
});

test("a panel marked again after its flush in a frame is flushed in the next frame", async () => {
  const page = await shared!.open();
  try {
    // Under tsx the page's functions below keep their names through a helper, `__name`, which
    // the page does not have: give it one that does nothing.
    await page.evaluate("globalThis.__name ??= (f) => f");
    const seen = await page.evaluate(async () => {
      const loop = (globalThis as unknown as PageTroupe).troupe.loop;
      // Each flush, with its frame: the flushes of one frame run in one task, so a frame is
      // counted at its first flush and ends with the task's microtasks.
      const seen: string[] = [];
      let frame = -1, open = false;
      const flushed = (name: string) => {
        if (!open) {
          open = true;
          frame++;
          queueMicrotask(() => {
            open = false;
          });
        }
        seen.push(`${name}@${frame}`);
      };
      const strip = { flush: () => flushed("strip") };
      const other = { flush: () => flushed("other") };
      const line = {
        flush() {
          flushed("line");
          loop.mark(strip);
          loop.mark(other);
        },
      };
      loop.mark(strip);
      loop.mark(line);
      // Up to 2 s of animation frames (the loop waits 8-50 ms between its frames).
      const until = performance.now() + 2000;
      while (seen.length < 4 && performance.now() < until) {
        await new Promise((done) => requestAnimationFrame(done));
      }
      return seen;
    });
    // `other`, marked in the frame before its flush, joins it; `strip`, flushed already, is redrawn
    // in the next frame.
    assert.equal(seen, ["strip@0", "line@0", "other@0", "strip@1"]);
  } finally {
    await page.close();
  }
});

test("a message handled while a frame's end is awaited counts once, in the next frame", async () => {
  const page = await shared!.open();
  try {
    await page.evaluate("globalThis.__name ??= (f) => f");
    const frames = await page.evaluate(async () => {
      const loop = (globalThis as unknown as PageTroupe).troupe.loop;
      // A "message" of MESSAGE_MS, posted from the frame's flush: it runs as a task after the
      // frame's rendering and before the loop's own message that ends the frame.
      const MESSAGE_MS = 300;
      const channel = new MessageChannel();
      channel.port1.onmessage = () => {
        const t0 = performance.now();
        while (performance.now() - t0 < MESSAGE_MS) { /* the message's work */ }
        loop.charge(performance.now() - t0);
        loop.mark({ flush() {} });
      };
      const from = loop.frameTimes.length;
      loop.mark({ flush: () => channel.port2.postMessage(0) });
      const until = performance.now() + 5000;
      while (loop.frameTimes.length < from + 2 && performance.now() < until) {
        await new Promise((done) => setTimeout(done, 20));
      }
      return loop.frameTimes.slice(from).map((ms, i) => ({
        ms,
        charged: loop.frameCharges[from + i]!,
      }));
    });
    assert.is(frames.length, 2, `frames: ${JSON.stringify(frames)}`);
    const [drawn, next] = frames as [{ ms: number; charged: number }, typeof frames[0]];
    assert.ok(drawn.ms < 300, `the frame drawn before it holds no message: ${drawn.ms} ms`);
    assert.ok(next.charged >= 300, `the next frame is charged with it: ${next.charged} ms`);
    assert.ok(drawn.ms + next.ms < 600, `counted once: ${drawn.ms} + ${next.ms} ms`);
  } finally {
    await page.close();
  }
});

test("a card following live writes nothing to the page as it draws", async () => {
  const page = await shared!.open();
  try {
    const t0S = Math.floor(Date.now() / 1000) - 60;
    await feed(page, t0S, 0, 3, false);
    await page.evaluate(() => {
      const g = globalThis as unknown as PageTroupe;
      g.mutations = [];
      new MutationObserver((records) => {
        for (const r of records) {
          const at = r.target as Element;
          g.mutations.push(`${r.type} ${r.attributeName ?? ""} on ${at.className ?? at.nodeName}`);
        }
      }).observe(document.getElementById("charts")!, {
        subtree: true,
        childList: true,
        attributes: true,
        characterData: true,
      });
    });
    await feed(page, t0S, 3, ROUNDS, false);
    const seen = await page.evaluate(() => (globalThis as unknown as PageTroupe).mutations);
    assert.equal(seen, [], `writes under the cards over ${ROUNDS} live rounds`);
  } finally {
    await page.close();
  }
});

test.run();
