/// <reference lib="dom" />
/**
 * The dashboard at fleet size in a real browser, fed through a real nats-server and the stream
 * gateway: of a 2,000-channel grid's 64 slots only the cards near the window are built (the others
 * are placeholders, with no chart); scrolling builds the cards that come into view, with the
 * samples that came while they were off screen, and frees those that leave, while the order and
 * the groups hold. And a burst of messages larger than a frame's budget comes to the page in a few
 * WebSocket messages (the gateway's batches) and is routed whole, over several frames, in the
 * order sent. On the code before: every one of the 64 cards was built, a burst was routed in one
 * task, and it came as a WebSocket message each.
 */
import type { Page } from "playwright-core";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { openChannelLabels } from "../../actors/ingest/mod.ts";
import { encodeColumns, outSubject } from "../../protocol/mod.ts";
import { haveBrowser } from "../_support/browser.ts";
import { haveNatsServer } from "../_support/nats.ts";
import { type Dashboard, openDashboard } from "./_support.ts";

const NAME = "dashboard virtual grid in the browser";
const run = haveNatsServer(NAME) && haveBrowser(NAME);
const test = suite(NAME);

/** The fleet: INSTANCES machines of METRICS series each. */
const INSTANCES = 50, METRICS = 40;
/** Points each channel sends first. */
const FIRST = 50;

interface PageTroupe {
  troupe: {
    grid: {
      shown(): string[];
      channels(): string[];
      built(): string[];
      chart(c: string): { points: number } | undefined;
    };
    index: { tail(c: string): Float64Array[] | undefined; score(c: string): number };
    routing: {
      routed: number;
      deferred: number;
      mostPerFrame: number;
      slicedFrames: number;
      waiting: number;
    };
  };
}

const pad = (n: number) => String(n).padStart(2, "0");
const instanceOf = (i: number) => `h${pad(i)}:9100`;
const channelOf = (i: number, m: number) => `h${pad(i)}_9100-node-node_m${pad(m)}_bytes`;

/**
 * How far channel (i, m)'s newest sample is off its band of ±1: machine 0's series the worst,
 * then machine 1's, ...; within a machine the higher metric first.
 */
const offOf = (i: number, m: number) => 100 - 2 * i + m / 100;

/** `n` samples of `channel` a second apart from `t0S`, the newest `off` above the expected 10. */
function publishPoints(
  dash: Dashboard,
  channel: string,
  o: { t0S: number; n: number; off: number },
): void {
  const col = (f: (i: number) => number) => Float64Array.from({ length: o.n }, (_, i) => f(i));
  dash.bus.publish(
    outSubject("anomaly", channel),
    encodeColumns({
      channel,
      seq0: 0,
      t: col((i) => (o.t0S + i) * 1e6),
      columns: {
        value: col((i) => (i === o.n - 1 ? 10 + o.off : 10)),
        expected: col(() => 10),
        lower: col(() => 9),
        upper: col(() => 11),
      },
    }, { id: `virtual-${channel}-${o.t0S}`, src: "test" }),
  );
}

/**
 * Whether a placeholder shows in the window, what is built where, and the cards the grid says it
 * built, read at one moment (runs in the page): the grid goes on building the cards near the
 * window over the next frames.
 */
function layout(): {
  inView: string[];
  built: Array<{ channel: string; top: number; bottom: number }>;
  gridBuilt: string[];
  cards: number;
  slots: number;
} {
  const inWindow = (r: DOMRect) => r.bottom > 0 && r.top < innerHeight;
  const slots = [...document.querySelectorAll<HTMLElement>("#charts .card-slot")];
  const cards = [...document.querySelectorAll<HTMLElement>("#charts .card")];
  return {
    inView: slots.filter((s) => !s.hidden && inWindow(s.getBoundingClientRect()))
      .map((s) => s.dataset.channel!),
    built: cards.map((c) => {
      const r = c.getBoundingClientRect();
      return { channel: c.dataset.channel!, top: r.top, bottom: r.bottom };
    }),
    gridBuilt: (globalThis as unknown as PageTroupe).troupe.grid.built(),
    cards: cards.length,
    slots: slots.length,
  };
}

/** Waits until no slot in the window is a placeholder; what is built then. */
async function settled(page: Page, what: string): Promise<ReturnType<typeof layout>> {
  try {
    await page.waitForFunction(
      () => {
        const slots = document.querySelectorAll<HTMLElement>("#charts .card-slot");
        return [...slots].every((s) => {
          const r = s.getBoundingClientRect();
          return s.hidden || r.bottom <= 0 || r.top >= innerHeight;
        });
      },
      undefined,
      { timeout: 20_000 },
    );
  } catch {
    assert.unreachable(
      `${what}: placeholders in view ${JSON.stringify(await page.evaluate(layout))}`,
    );
  }
  return await page.evaluate(layout);
}

const shown = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as PageTroupe).troupe.grid.shown());

/** Waits until the grid shows `want`, in order. */
async function untilShown(page: Page, what: string, want: string[]): Promise<void> {
  try {
    await page.waitForFunction(
      (w) => JSON.stringify((globalThis as unknown as PageTroupe).troupe.grid.shown()) === w,
      JSON.stringify(want),
      { timeout: 30_000 },
    );
  } catch {
    assert.equal(await shown(page), want, `${what}; the page: ${await grounds(page, want)}`);
  }
}

/**
 * What the grid's order stood on when it was not the one wanted: each slot's channel, CSS order,
 * whether its card is built and its channel's score; the channels wanted without a slot; the
 * router's counts. A failure then says which of them was off.
 */
async function grounds(page: Page, want: string[]): Promise<string> {
  return JSON.stringify(
    await page.evaluate((w) => {
      const t = (globalThis as unknown as PageTroupe).troupe;
      const slots = [...document.querySelectorAll<HTMLElement>("#charts .card, #charts .card-slot")]
        .map((e) =>
          `${e.dataset.channel} ${e.style.order || "-"} ${
            e.classList.contains("card") ? "card" : "slot"
          } ${t.index.score(e.dataset.channel!)}`
        );
      const has = new Set(t.grid.channels());
      return {
        slots,
        wantedWithoutSlot: w.filter((c) => !has.has(c)).map((c) => `${c} ${t.index.score(c)}`),
        routing: t.routing,
      };
    }, want),
  );
}

test("of 2,000 channels' 64 slots, cards are built near the window; scrolling builds and frees them", async () => {
  const dash = await openDashboard({ name: "virtual" });
  const book = await openChannelLabels(dash.bus, { read: false });
  try {
    const puts: Promise<void>[] = [];
    for (let i = 0; i < INSTANCES; i++) {
      for (let m = 0; m < METRICS; m++) {
        puts.push(book.put(channelOf(i, m), [
          { name: "__name__", value: `node_m${pad(m)}_bytes` },
          { name: "instance", value: instanceOf(i) },
          { name: "job", value: "node" },
        ]));
        if (puts.length >= 256) await Promise.all(puts.splice(0));
      }
    }
    await Promise.all(puts);
    const page = await dash.open({
      waitFor: `body[data-stream-subscribed][data-channel-labels='${INSTANCES * METRICS}']`,
    });
    // The functions handed to the page are compiled with their names kept (esbuild's __name).
    await page.evaluate("globalThis.__name ??= (f) => f");
    const t0S = Math.floor(Date.now() / 1000) - 600;
    for (let i = 0; i < INSTANCES; i++) {
      for (let m = 0; m < METRICS; m++) {
        publishPoints(dash, channelOf(i, m), { t0S, n: FIRST, off: offOf(i, m) });
      }
    }
    await dash.bus.flush();
    // The worst 64: machine 0's 40 series, then machine 1's 24 highest, each worst first.
    const want = [
      ...Array.from({ length: METRICS }, (_, k) => channelOf(0, METRICS - 1 - k)),
      ...Array.from({ length: 24 }, (_, k) => channelOf(1, METRICS - 1 - k)),
    ];
    await untilShown(page, "the worst 64, grouped", want);
    const heads = await page.locator("#charts .group-head .name").allTextContents();
    assert.equal(heads, [`instance="h00:9100" job="node"`, `instance="h01:9100" job="node"`]);

    const top = await settled(page, "at the top");
    assert.ok(top.cards > 0 && top.cards < 40, `cards built at the top: ${top.cards}`);
    assert.is(top.cards + top.slots, 64, "every slot a card or a placeholder");
    const builtTop = top.gridBuilt;
    assert.equal(builtTop.slice().sort(), top.built.map((b) => b.channel).sort());
    for (const b of top.built) {
      // Near the window: within the slots' margin (200 px) and a row's height of rounding.
      assert.ok(b.top < 1000 + 200 && b.bottom > -200, `${b.channel} near: ${b.top}..${b.bottom}`);
    }
    const last = want[63]!;
    assert.not.ok(builtTop.includes(last), "the last slot is a placeholder");

    // 20 more points to the last channel while it is off screen, its newest as far off as before.
    publishPoints(dash, last, { t0S: t0S + FIRST, n: 20, off: offOf(1, 16) });
    await dash.bus.flush();
    await page.waitForFunction(
      (c) => (globalThis as unknown as PageTroupe).troupe.index.tail(c)?.[0]?.length === 70,
      last,
      { timeout: 10_000 },
    );
    // Twice: the cards built in the slots scrolled to are not as tall as their placeholders.
    await page.evaluate(() => scrollTo(0, document.documentElement.scrollHeight));
    await settled(page, "at the bottom");
    await page.evaluate(() => scrollTo(0, document.documentElement.scrollHeight));
    const bottom = await settled(page, "at the bottom");
    const builtBottom = bottom.built.map((b) => b.channel);
    assert.ok(builtBottom.includes(last), `the last card built: ${builtBottom.join(" ")}`);
    assert.not.ok(builtBottom.includes(want[0]!), "the first card freed");
    assert.ok(await page.$(`.card-slot[data-channel="${want[0]}"]`), "the first a placeholder");
    const lastChart = await page.evaluate((c) => {
      const t = (globalThis as unknown as PageTroupe).troupe;
      return { points: t.grid.chart(c)?.points, newest: t.index.tail(c)?.[0]?.at(-1) };
    }, last);
    assert.equal(lastChart, { points: 70, newest: (t0S + FIRST + 19) * 1e6 });
    assert.equal(await shown(page), want, "the order holds at the bottom");

    await page.evaluate(() => scrollTo(0, 0));
    const again = await settled(page, "back at the top");
    const builtAgain = again.built.map((b) => b.channel);
    assert.ok(builtAgain.includes(want[0]!), "the first card built again");
    assert.not.ok(builtAgain.includes(last), "the last card freed again");
    assert.is(
      await page.evaluate(
        (c) => (globalThis as unknown as PageTroupe).troupe.grid.chart(c)?.points,
        want[0]!,
      ),
      FIRST,
    );
    assert.equal(await shown(page), want, "the order holds back at the top");

    // The filter chooses among all 2,000: each machine's m16, a group each, machine 0's first; the
    // cards it hides are freed, those it shows near the window built.
    const m16 = Array.from({ length: INSTANCES }, (_, i) => channelOf(i, 16));
    await page.fill("#channel-filter", "m16");
    await untilShown(page, "each machine's m16", m16);
    await settled(page, "filtered");
    await page.waitForFunction(() => !document.querySelector("#charts .card[hidden]"), undefined, {
      timeout: 10_000,
    });
    const filtered = await page.evaluate(layout);
    assert.ok(filtered.built.some((b) => b.channel === m16[0]), "machine 0's m16 built");
    for (const b of filtered.built) assert.ok(m16.includes(b.channel), `${b.channel} passes`);
    await page.fill("#channel-filter", "");
    await untilShown(page, "the worst 64 again", want);
    await page.close();
  } finally {
    await book.close();
    await dash.close();
  }
});

test("a burst of messages past a frame's budget comes in a few WebSocket messages and is routed whole, over frames, in order", async () => {
  const dash = await openDashboard({ name: "virtual-burst" });
  // The WebSocket messages the page's stream socket receives, as Chromium's network reports them.
  let frames = 0;
  const page = await dash.open({
    prepare: (p) =>
      void p.on("websocket", (ws) => {
        if (new URL(ws.url()).pathname === "/stream") ws.on("framereceived", () => frames++);
      }),
  });
  try {
    const before = await page.evaluate(() =>
      (globalThis as unknown as PageTroupe).troupe.routing.routed
    );
    // Far more than a frame's budget: 3,000 messages of one point over 100 new channels (the
    // first 16 each make a card as they are routed), all at once: the page's main thread is held
    // while they arrive, so their socket's messages are handled one after another.
    const n = 3000, channels = 100, t0S = Math.floor(Date.now() / 1000) - n;
    const held = page.evaluate(() => {
      const end = performance.now() + 4000;
      while (performance.now() < end) { /* held */ }
    });
    await new Promise((r) => setTimeout(r, 200));
    const received = dash.collab.stream!.stats().received;
    const framesBefore = frames;
    for (let k = 0; k < n; k++) {
      const channel = `B${pad(k % channels)}`;
      publishPoints(dash, channel, { t0S: t0S + Math.floor(k / channels), n: 1, off: 0 });
    }
    await dash.bus.flush();
    // The gateway has them all (and sends as it receives) well before the page is let go.
    for (let i = 0; i < 150 && dash.collab.stream!.stats().received < received + n; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await held;
    await page.waitForFunction(
      (want) => (globalThis as unknown as PageTroupe).troupe.routing.routed >= want,
      before + n,
      { timeout: 20_000 },
    ).catch(() => undefined);
    const got = await page.evaluate((chs) => {
      const t = (globalThis as unknown as PageTroupe).troupe;
      const r = t.routing;
      // Each channel's points in the order sent: a second apart, up to its newest.
      const tails = chs.map((c) => t.index.tail(c)?.[0] ?? new Float64Array());
      const rising = tails.every((times) =>
        times.every((x, i) => i === 0 || x === times[i - 1]! + 1e6)
      );
      return {
        routed: r.routed,
        deferred: r.deferred,
        most: r.mostPerFrame,
        sliced: r.slicedFrames,
        waiting: r.waiting,
        lengths: [...new Set(tails.map((x) => x.length))],
        newest: [...new Set(tails.map((x) => x.at(-1)))],
        rising,
      };
    }, Array.from({ length: channels }, (_, i) => `B${pad(i)}`));
    assert.is(got.routed - before, n, `every message routed: ${JSON.stringify(got)}`);
    const burstFrames = frames - framesBefore;
    assert.ok(burstFrames * 10 <= n, `${n} messages came in ${burstFrames} WebSocket messages`);
    assert.is(got.waiting, 0);
    assert.ok(got.deferred > 0, `some waited for a later frame: ${JSON.stringify(got)}`);
    assert.ok(got.most <= 256, `at most a frame's budget between two frames: ${got.most}`);
    assert.ok(got.sliced >= Math.ceil(got.deferred / 256), JSON.stringify(got));
    const last = (t0S + n / channels - 1) * 1e6;
    assert.equal([got.lengths, got.newest, got.rising], [[n / channels], [last], true]);
  } finally {
    await page.close();
    await dash.close();
  }
});

if (run) test.run();
