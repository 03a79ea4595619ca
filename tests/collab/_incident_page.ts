/**
 * Test support for the dashboard suites about a card opened at an incident: a page over channel
 * CH's last five minutes of feed (its history) with a real incident stage on the bus (its updates
 * reach the page through the stream gateway, as in `troupe up`), and the steps those suites take:
 * CH's samples, findings and bars published as the actors do, the stage's incident of CH clicked
 * in the panel, and what CH's chart shows read from the page.
 */
import * as assert from "uvu/assert";
import type { Page } from "playwright-core";
import { defaultIncidentConfig, runIncidentStage } from "../../actors/incidents/mod.ts";
import type { NatsBus } from "../../actors/runtime/mod.ts";
import { encodeBar, findingSubject, type Incident, outSubject } from "../../protocol/mod.ts";
import { type PageDrawnText, recordDrawnText } from "../_support/drawn_text.ts";
import { anomalyColumns, anomalyFinding } from "../_support/findings.ts";
import { type Dashboard, feedHistory, openDashboard } from "./_support.ts";

/** A microsecond's second. */
export const S = 1_000_000;
/** Seconds of CH's feed the feed stream holds (its history) before the page opens. */
export const SPAN_S = 300;

export interface Range {
  min: number;
  max: number;
}
export interface PageChart {
  source: string;
  points: number;
  card: HTMLElement;
  xRange(): Range;
  plotX(): { left: number; width: number };
  valueAt(tS: number): { t: number; v: number } | undefined;
  incidentBands(): Array<{ id: string; t0: number; t1: number }>;
}
export interface PageCandles {
  bars: number;
  xRange(): Range;
  shownBars(): { count: number; first: number; last: number; high: number };
}
export interface PageTroupe extends PageDrawnText {
  troupe: {
    grid: {
      chart(c: string): PageChart | undefined;
      candles(c: string): PageCandles | undefined;
    };
    link: { sdoc: { addAnnotation(a: Record<string, unknown>): void } };
  };
}

/** What a test is given: the page, the bus, the stage's incidents, `now` (µs, whole s: the
 *  history's newest sample) and the dashboard (its nats-server). */
export interface Session {
  page: Page;
  bus: NatsBus;
  incidents(): Incident[];
  now: number;
  dash: Dashboard;
}

/**
 * A page (an editor's, recording the texts drawn that match `drawn`) over CH's last five minutes
 * of feed, with an incident stage on the bus; `check` drives it. No page error may happen.
 */
export async function incidentSession(
  options: { name: string; drawn?: RegExp },
  check: (s: Session) => Promise<void>,
): Promise<void> {
  const dash = await openDashboard({ name: options.name });
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
    await check({ page, bus, incidents: () => stage.stage.list(), now, dash });
    assert.equal(errors, []);
  } finally {
    stage.stop();
    await dash.close();
  }
}

/** Publishes CH's samples at `t` (µs) as the anomaly actor does, and waits until the page's
 *  chart has taken `points` samples in all. */
export async function live(s: Session, t: Float64Array, points: number): Promise<void> {
  s.bus.publish(outSubject("anomaly", "CH"), anomalyColumns("CH", t));
  await s.bus.flush();
  await s.page.waitForFunction(
    (n) => ((globalThis as unknown as PageTroupe).troupe.grid.chart("CH")?.points ?? 0) >= n,
    points,
    { timeout: 20_000 },
  );
}

/** Publishes anomaly findings at `ts` (µs) on `channel`, as the anomaly actor does. */
export async function findings(s: Session, channel: string, ts: number[]): Promise<void> {
  for (const t of ts) s.bus.publish(findingSubject("anomaly", channel), anomalyFinding(channel, t));
  await s.bus.flush();
}

/** Publishes one closed 1 s bar of CH starting at `t` (µs), as the bars actor does (its high
 *  `high`, 102 unless said). */
export async function bar(s: Session, t: number, high = 102): Promise<void> {
  const b = { channel: "CH", bar: "1s", t, open: 101, high, low: 100, close: 101.5 };
  s.bus.publish(
    outSubject("bars", "CH"),
    encodeBar({ id: `ch-bar-${t}`, src: "test", ts: t }, { ...b, count: 1, sum: 101.5 }),
  );
  await s.bus.flush();
}

/** The stage's incident of CH once it is in `state` on the page; clicks it with `open`. */
export async function incidentOfCh(s: Session, state: string, open = false): Promise<Incident> {
  const row = () => s.page.locator(`#incidents li[data-state="${state}"]`).first();
  await row().waitFor({ timeout: 20_000 });
  const i = s.incidents().find((i) => i.members.some((m) => m.channel === "CH"));
  assert.ok(i, `the stage holds an incident of CH: ${JSON.stringify(s.incidents())}`);
  if (open) await s.page.locator(`#incidents li[data-id="${i.id}"]`).click();
  return i;
}

/** What CH's chart shows: its source, range, bands, and the point nearest the range's end. */
export const shown = (page: Page) =>
  page.evaluate(() => {
    const c = (globalThis as unknown as PageTroupe).troupe.grid.chart("CH")!;
    const x = c.xRange();
    const bands = c.incidentBands().map((b) => ({ id: b.id, t0: b.t0, t1: b.t1 }));
    return { source: c.source, x, bands, last: c.valueAt(x.max) };
  });

/** Asserts `a` is `b` (seconds) to a microsecond: the page keeps times as seconds. */
export function near(a: number | undefined, b: number, what: string): void {
  assert.ok(a !== undefined && Math.abs(a - b) < 1e-5, `${what}: ${a}, not ${b}`);
}

/** Waits until CH's chart shows a range whose end is at least `tS`. */
export async function rangeReaches(page: Page, tS: number): Promise<void> {
  await page.waitForFunction(
    (t) => (globalThis as unknown as PageTroupe).troupe.grid.chart("CH")!.xRange().max >= t,
    tS,
    { timeout: 5_000 },
  );
}

/** Waits until CH's chart says `source` (`history`, `failed`, ...); throws with what it says
 *  after `timeoutMs`. */
export async function sourceIs(page: Page, source: string, timeoutMs = 20_000): Promise<void> {
  await page.waitForFunction(
    (s) => (globalThis as unknown as PageTroupe).troupe.grid.chart("CH")?.source === s,
    source,
    { timeout: timeoutMs },
  ).catch(async (err: Error) => {
    const now = await page.evaluate(() =>
      (globalThis as unknown as PageTroupe).troupe.grid.chart("CH")?.source
    );
    throw new Error(`CH's chart never said ${source} in ${timeoutMs} ms: it says ${now}`, {
      cause: err,
    });
  });
}

/** The ring holds CH's last 20 s and an incident of CH began 200 s ago, before them: it is
 *  opened from the panel, and the card reads its window from history. */
export async function openOldFiring(s: Session): Promise<Incident> {
  const { now } = s;
  await live(s, Float64Array.from({ length: 20 }, (_, i) => now - (19 - i) * S), 20);
  await findings(s, "CH", [now - 200 * S, now - 190 * S]);
  return await incidentOfCh(s, "firing", true);
}
