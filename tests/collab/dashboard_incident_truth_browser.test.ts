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
import type { Incident } from "../../protocol/mod.ts";
import { haveBrowser } from "../_support/browser.ts";
import { haveNatsServer } from "../_support/nats.ts";
import {
  bar,
  findings,
  incidentOfCh,
  incidentSession,
  live,
  near,
  openOldFiring,
  type PageTroupe,
  rangeReaches,
  S,
  type Session,
  shown,
  sourceIs,
} from "./_incident_page.ts";

const NAME = "dashboard incident truth in the browser";
const run = haveNatsServer(NAME) && haveBrowser(NAME);
const test = suite(NAME);
const session = (check: (s: Session) => Promise<void>) =>
  incidentSession({ name: "incident-truth" }, check);

test("an old firing incident opened from history goes on with the samples that come", async () => {
  await session(async (s) => {
    const { now } = s;
    // The page's ring holds CH's last 20 s; the incident began 200 s ago, before them.
    const firing = await openOldFiring(s);
    await sourceIs(s.page, "history");
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
  await session(async (s) => {
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
  await session(async (s) => {
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

test("an opened firing incident's candle strip goes on with its line as samples come", async () => {
  await session(async (s) => {
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
  await session(async (s) => {
    const { now } = s;
    // As above: opened from history (the ring holds CH's last 20 s, the incident began 200 s ago).
    const firing = await openOldFiring(s);
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
