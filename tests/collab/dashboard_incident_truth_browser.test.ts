/**
 * A card opened at an incident follows what the incident is, in real Chromium against a real
 * nats-server and a real incident stage fed the findings the hosts publish (the stage's updates
 * reach the page through the stream gateway, as in `troupe up`). On the code before (54e5c24):
 * an old firing incident, opened from history, stayed at the "now" it was opened at while samples
 * came; a firing incident's band ended at its last finding; an incident that resolved while its
 * card was open kept following the samples (its updates never reached the card) and its legend
 * still said firing. On 59e75b0: the candle strip under a card following a firing incident
 * stayed at the window the card was opened with until a bar came, while its line went on; and an
 * incident that resolved re-pinned its card, whose legend lost its history entries until the new
 * history answer came.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { Page } from "playwright-core";
import { defaultIncidentConfig, runIncidentStage } from "../../actors/incidents/mod.ts";
import type { NatsBus } from "../../actors/runtime/mod.ts";
import { encodeBar, type Incident, outSubject } from "../../protocol/mod.ts";
import { haveBrowser } from "../_support/browser.ts";
import { type PageDrawnText, recordDrawnText } from "../_support/drawn_text.ts";
import { anomalyColumns, anomalyFinding } from "../_support/findings.ts";
import { haveNatsServer } from "../_support/nats.ts";
import { feedHistory, openDashboard } from "./_support.ts";

const NAME = "dashboard incident truth in the browser";
const run = haveNatsServer(NAME) && haveBrowser(NAME);
const test = suite(NAME);
const S = 1_000_000;
/** Seconds of CH's feed the feed stream holds (its history) before the page opens. */
const SPAN_S = 300;

interface Range {
  min: number;
  max: number;
}
interface PageChart {
  source: string;
  points: number;
  xRange(): Range;
  plotX(): { left: number; width: number };
  valueAt(tS: number): { t: number; v: number } | undefined;
  incidentBands(): Array<{ id: string; t0: number; t1: number }>;
}
interface PageTroupe extends PageDrawnText {
  troupe: {
    grid: {
      chart(c: string): PageChart | undefined;
      candles(c: string): { xRange(): Range } | undefined;
    };
    link: { sdoc: { addAnnotation(a: Record<string, unknown>): void } };
  };
}

/** What a test is given: the page, the bus, the stage's incidents, and `now` (µs, whole s). */
interface Session {
  page: Page;
  bus: NatsBus;
  incidents(): Incident[];
  now: number;
}

/**
 * A page (an editor's, recording the texts drawn that match `drawn`) over CH's last five minutes
 * of feed, with an incident stage on the bus; `check` drives it.
 */
async function session(
  options: { drawn?: RegExp },
  check: (s: Session) => Promise<void>,
): Promise<void> {
  const dash = await openDashboard({ name: "incident-truth" });
  const bus = dash.bus;
  const stage = runIncidentStage(bus, { config: defaultIncidentConfig });
  try {
    const now = await feedHistory(bus, "CH", SPAN_S);
    const errors: string[] = [];
    const page = await dash.open({
      role: "editor",
      async prepare(p) {
        p.on("pageerror", (e) => errors.push(e.message));
        if (options.drawn) await recordDrawnText(p, { match: options.drawn });
      },
    });
    await check({ page, bus, incidents: () => stage.stage.list(), now });
    assert.equal(errors, []);
  } finally {
    stage.stop();
    await dash.close();
  }
}

/** Publishes CH's samples at `t` (µs) as the anomaly actor does, and waits until the page's
 *  chart has taken `points` samples in all. */
async function live(s: Session, t: Float64Array, points: number): Promise<void> {
  s.bus.publish(outSubject("anomaly", "CH"), anomalyColumns("CH", t));
  await s.bus.flush();
  await s.page.waitForFunction(
    (n) => ((globalThis as unknown as PageTroupe).troupe.grid.chart("CH")?.points ?? 0) >= n,
    points,
    { timeout: 20_000 },
  );
}

/** Publishes anomaly findings at `ts` (µs) on `channel`, as the anomaly actor does. */
async function findings(s: Session, channel: string, ts: number[]): Promise<void> {
  for (const t of ts) s.bus.publish(outSubject("anomaly", channel), anomalyFinding(channel, t));
  await s.bus.flush();
}

/** The stage's incident of CH once it is in `state` on the page; clicks it with `open`. */
async function incidentOfCh(s: Session, state: string, open = false): Promise<Incident> {
  const row = () => s.page.locator(`#incidents li[data-state="${state}"]`).first();
  await row().waitFor({ timeout: 20_000 });
  const i = s.incidents().find((i) => i.members.some((m) => m.channel === "CH"));
  assert.ok(i, `the stage holds an incident of CH: ${JSON.stringify(s.incidents())}`);
  if (open) await s.page.locator(`#incidents li[data-id="${i.id}"]`).click();
  return i;
}

/** What CH's chart shows: its source, range, bands, and the point nearest the range's end. */
const shown = (page: Page) =>
  page.evaluate(() => {
    const c = (globalThis as unknown as PageTroupe).troupe.grid.chart("CH")!;
    const x = c.xRange();
    const bands = c.incidentBands().map((b) => ({ id: b.id, t0: b.t0, t1: b.t1 }));
    return { source: c.source, x, bands, last: c.valueAt(x.max) };
  });

/** Asserts `a` is `b` (seconds) to a microsecond: the page keeps times as seconds. */
function near(a: number | undefined, b: number, what: string): void {
  assert.ok(a !== undefined && Math.abs(a - b) < 1e-5, `${what}: ${a}, not ${b}`);
}

/** Waits until CH's chart shows a range whose end is at least `tS`. */
async function rangeReaches(page: Page, tS: number): Promise<void> {
  await page.waitForFunction(
    (t) => (globalThis as unknown as PageTroupe).troupe.grid.chart("CH")!.xRange().max >= t,
    tS,
    { timeout: 5_000 },
  );
}

test("an old firing incident opened from history goes on with the samples that come", async () => {
  await session({}, async (s) => {
    const { now } = s;
    // The page's ring holds CH's last 20 s; the incident began 200 s ago, before them.
    await live(s, Float64Array.from({ length: 20 }, (_, i) => now - (19 - i) * S), 20);
    await findings(s, "CH", [now - 200 * S, now - 190 * S]);
    const firing = await incidentOfCh(s, "firing", true);
    await s.page.waitForFunction(
      () => (globalThis as unknown as PageTroupe).troupe.grid.chart("CH")!.source === "history",
      null,
      { timeout: 20_000 },
    );
    const opened = (await shown(s.page)).x;
    assert.ok(opened.min < firing.first_us / S, JSON.stringify(opened));
    near(opened.max, now / S, "opened up to the newest sample");
    // A sample comes: the window, its line and the band reach it (on the code before, the window
    // stayed at `now`, the line ended with the history answer and the band at the last finding).
    const next = now + S;
    await live(s, Float64Array.of(next), 21);
    await rangeReaches(s.page, next / S);
    const got = await shown(s.page);
    assert.is(got.source, "history");
    near(got.x.max, next / S, "the window's end");
    near(got.last?.t, next / S, "the line's last point");
    assert.equal(got.bands.map((b) => b.id), [firing.id]);
    near(got.bands[0]!.t1, next / S, "the band's end");
  });
});

/** CH's last 200 s live on the page, and an incident of CH firing 40 s to 30 s ago, opened. */
async function openFiring(s: Session): Promise<Incident> {
  const { now } = s;
  await live(s, Float64Array.from({ length: 200 }, (_, i) => now - (199 - i) * S), 200);
  await findings(s, "CH", [now - 40 * S, now - 30 * S]);
  const firing = await incidentOfCh(s, "firing", true);
  assert.is((await shown(s.page)).source, "ring");
  return firing;
}

test("a firing incident's band reaches the newest sample, not its last finding", async () => {
  await session({}, async (s) => {
    const firing = await openFiring(s);
    const opened = await shown(s.page);
    assert.equal(opened.bands.map((b) => b.id), [firing.id]);
    near(opened.bands[0]!.t0, firing.first_us / S, "the band's start");
    near(opened.bands[0]!.t1, s.now / S, "the band's end");
    // A sample comes: the band goes on to it.
    await live(s, Float64Array.of(s.now + S), 201);
    await rangeReaches(s.page, s.now / S + 1);
    await s.page.waitForFunction(
      (t) =>
        (globalThis as unknown as PageTroupe).troupe.grid.chart("CH")!.incidentBands()[0]!.t1 >=
          t,
      s.now / S + 1 - 1e-5,
      { timeout: 5_000 },
    );
  });
});

test("an opened incident that resolves shows its span and follows no more", async () => {
  await session({}, async (s) => {
    const { now } = s;
    const firing = await openFiring(s);
    // Still firing, its window goes on with the samples (as before).
    await live(s, Float64Array.of(now + S), 201);
    await rangeReaches(s.page, now / S + 1);

    // A finding elsewhere a minute after CH's last, past the incident's grouping window (60 s
    // from its first): the stage's time passes the 30 s hold, and CH's incident resolves.
    await findings(s, "OTHER", [now + 30 * S]);
    await s.page.locator(`#incidents li[data-id="${firing.id}"][data-state="resolved"]`)
      .waitFor({ timeout: 20_000 });
    const resolved = s.incidents().find((i) => i.id === firing.id)!;
    assert.is(resolved.state, "resolved");
    const span = { min: resolved.first_us / S - 60, max: resolved.last_us / S + 60 };
    // The card took the update with the panel: re-pinned to its span and a minute each side (on
    // the code before, still following: its end the newest sample), the band to its last finding.
    const after = await shown(s.page);
    near(after.x.min, span.min, "the window's start");
    near(after.x.max, span.max, "the window's end");
    assert.equal(after.bands.map((b) => b.id), [firing.id]);
    near(after.bands[0]!.t1, resolved.last_us / S, "the band's end");
    const entry =
      `.card[data-channel="CH"] .incident-legend .incident-entry[data-id="${firing.id}"]`;
    assert.is(
      await s.page.textContent(entry),
      `▮ anomaly sev ${resolved.peak_severity} resolved · ${firing.id}`,
    );
    // More samples move it no more.
    await live(s, Float64Array.of(now + 2 * S), 202);
    near((await shown(s.page)).x.max, span.max, "the window's end after a sample");
  });
});

/** Publishes one closed 1 s bar of CH starting at `t` (µs), as the bars actor does. */
async function bar(s: Session, t: number): Promise<void> {
  const b = { channel: "CH", bar: "1s", t, open: 101, high: 102, low: 100, close: 101.5 };
  s.bus.publish(
    outSubject("bars", "CH"),
    encodeBar({ id: `ch-bar-${t}`, src: "test", ts: t }, { ...b, count: 1, sum: 101.5 }),
  );
  await s.bus.flush();
}

test("an opened firing incident's candle strip goes on with its line as samples come", async () => {
  await session({}, async (s) => {
    const { now } = s;
    // A bar: the card has its strip, as a market channel's card has.
    await bar(s, now - 60 * S);
    await s.page.waitForSelector('.card[data-channel="CH"] .candles', { timeout: 20_000 });
    await openFiring(s);
    // Samples come, and no bar: the line's window grows to them, and the strip with it (on the
    // code before, the strip stayed at the window opened with until the next bar came).
    for (const k of [1, 2, 3]) {
      await live(s, Float64Array.of(now + k * S), 200 + k);
      await rangeReaches(s.page, now / S + k);
      const axes = () =>
        s.page.evaluate(() => {
          const g = (globalThis as unknown as PageTroupe).troupe.grid;
          return { line: g.chart("CH")!.xRange(), strip: g.candles("CH")!.xRange() };
        });
      await s.page.waitForFunction(
        () => {
          const g = (globalThis as unknown as PageTroupe).troupe.grid;
          return g.candles("CH")!.xRange().max === g.chart("CH")!.xRange().max;
        },
        null,
        { timeout: 5_000 },
      ).catch(() => undefined);
      const got = await axes();
      near(got.line.max, now / S + k, "the line's end");
      assert.equal(got.strip, got.line, "the strip shows the line's range");
    }
  });
});

test("a resolved incident's card keeps its history legend while its span is read again", async () => {
  await session({}, async (s) => {
    const { now } = s;
    // As above: opened from history (the ring holds CH's last 20 s, the incident began 200 s ago).
    await live(s, Float64Array.from({ length: 20 }, (_, i) => now - (19 - i) * S), 20);
    await findings(s, "CH", [now - 200 * S, now - 190 * S]);
    const firing = await incidentOfCh(s, "firing", true);
    const legend = '.card[data-channel="CH"] .incident-legend';
    await s.page.locator(`${legend} .incident-entry[data-id="${firing.id}"][data-history="1"]`)
      .waitFor({ timeout: 20_000 });
    // Every render of the legend from now on, as the entries it wrote (`id:fromHistory`).
    await s.page.evaluate((sel) => {
      const renders: string[][] = [];
      (globalThis as unknown as { renders: string[][] }).renders = renders;
      new MutationObserver((records) => {
        for (const r of records) {
          if (r.type !== "childList") continue;
          renders.push([...r.addedNodes].map((n) => {
            const e = n as HTMLElement;
            return `${e.dataset.id}:${e.dataset.history}`;
          }));
        }
      }).observe(document.querySelector(sel)!, { childList: true });
    }, legend);
    // It resolves (a finding elsewhere passes the stage's hold): the card re-pins to its span,
    // older than the ring, and reads it again.
    await findings(s, "OTHER", [now + 30 * S]);
    await s.page.locator(`#incidents li[data-id="${firing.id}"][data-state="resolved"]`)
      .waitFor({ timeout: 20_000 });
    const resolved = s.incidents().find((i) => i.id === firing.id)!;
    const min = resolved.first_us / S - 60;
    await s.page.waitForFunction(
      (m) => {
        const c = (globalThis as unknown as PageTroupe).troupe.grid.chart("CH")!;
        return c.source === "history" && Math.abs(c.xRange().min - m) < 1e-5;
      },
      min,
      { timeout: 20_000 },
    );
    // The answer came; until it did, the legend kept the history's entry (on the code before,
    // the re-pin dropped the answer shown, and the legend lost it until the new one came).
    const renders = await s.page.evaluate(() =>
      (globalThis as unknown as { renders: string[][] }).renders
    );
    assert.ok(renders.length > 0, "the legend rendered the resolution");
    for (const r of renders) assert.ok(r.includes(`${firing.id}:1`), JSON.stringify(renders));
    assert.is(
      await s.page.textContent(`${legend} .incident-entry[data-id="${firing.id}"]`),
      `▮ anomaly sev ${resolved.peak_severity} resolved · ${firing.id}`,
    );
  });
});

if (run) test.run();
