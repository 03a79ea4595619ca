/**
 * An incident opened on its card, in real Chromium against a real nats-server holding the
 * channel's feed. Its window: a firing incident has no end yet, so its card shows from before
 * its first finding up to now, not a minute past its last finding (on the code before, the s36
 * screenshot: ~55 s of the window in the future, a quarter of the chart empty); a resolved one
 * shows its span with its margin each side, as before. Its label: overlapping incidents' `sev N`
 * labels each sit inside their band, stacked, none over another (on the code before, they were
 * drawn right-aligned left of their bands, over the line, and every third went back to the first
 * row).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import type { Page } from "playwright-core";
import { ensureFeedStream, type NatsBus } from "../../actors/runtime/mod.ts";
import {
  encodeFrame,
  encodeIncident,
  feedSubject,
  type IncidentKind,
  type IncidentState,
  incidentSubject,
  outSubject,
} from "../../protocol/mod.ts";
import { haveBrowser } from "../_support/browser.ts";
import { type PageDrawnText, recordDrawnText } from "../_support/drawn_text.ts";
import { anomalyColumns } from "../_support/findings.ts";
import { haveNatsServer } from "../_support/nats.ts";
import { openDashboard } from "./_support.ts";

const NAME = "dashboard incident window in the browser";
const run = haveNatsServer(NAME) && haveBrowser(NAME);
const test = suite(NAME);
const S = 1_000_000;
const SPAN_S = 300;

interface Opened {
  id: string;
  kind?: IncidentKind;
  state: IncidentState;
  first: number;
  last: number;
  severity?: number;
}

/** The stage's update of incident `o` of CH (µs). */
function incident(o: Opened): Uint8Array {
  const peak_severity = o.severity ?? 4;
  const member = {
    channel: "CH",
    first_us: o.first,
    last_us: o.last,
    findings: 3,
    peak_severity,
  };
  return encodeIncident({ id: `${o.id}:2`, src: "test", ts: o.last }, {
    id: o.id,
    kind: o.kind ?? "anomaly",
    state: o.state,
    fired: true,
    silenced: false,
    members: [member],
    first_us: o.first,
    last_us: o.last,
    first_finding: "f-1",
    last_finding: "f-3",
    findings: 3,
    peak_severity,
    links: [],
  });
}

interface Range {
  min: number;
  max: number;
}
interface PageChart {
  source: string;
  points: number;
  xRange(): Range;
  plotX(): { left: number; width: number };
}
interface PageTroupe extends PageDrawnText {
  troupe: {
    grid: {
      chart(c: string): PageChart | undefined;
    };
  };
}

/** A page over CH's last five minutes of feed that records every `sev N` it draws, with
 *  `incidents` published as the stage does; `check` looks, `open` clicking one in the panel. */
async function session(
  incidents: (at: { t0: number; now: number }) => Opened[],
  check: (page: Page, open: (id: string) => Promise<void>, bus: NatsBus) => Promise<void>,
): Promise<void> {
  const dash = await openDashboard({ name: "incident-window" });
  const pub = dash.bus;
  try {
    await ensureFeedStream(pub.nc);
    const t0 = (Math.floor(Date.now() / 1000) - SPAN_S) * S;
    const t = new Float64Array(SPAN_S).map((_, i) => t0 + i * S);
    const v = new Float64Array(SPAN_S).map((_, i) => 100 + (i % 13));
    pub.publish(
      feedSubject("m", "CH"),
      encodeFrame({ channel: "CH", seq0: 0, t, v }, { id: "ch-0", src: "test" }),
    );
    await pub.flush();
    const errors: string[] = [];
    const page = await dash.open({
      async prepare(p) {
        p.on("pageerror", (e) => errors.push(e.message));
        await recordDrawnText(p, { match: /^sev \d$/ });
      },
    });
    const list = incidents({ t0, now: Date.now() * 1000 });
    for (const o of list) pub.publish(incidentSubject(o.kind ?? "anomaly"), incident(o));
    await pub.flush();
    for (const o of list) {
      await page.locator(`#incidents li[data-id="${o.id}"]`).waitFor({ timeout: 20_000 });
    }
    await check(page, (id) => page.locator(`#incidents li[data-id="${id}"]`).click(), pub);
    assert.equal(errors, []);
  } finally {
    await dash.close();
  }
}

/** Live samples of CH at `t` (µs), as the anomaly actor publishes its columns. */
function live(bus: NatsBus, t: Float64Array): void {
  bus.publish(outSubject("anomaly", "CH"), anomalyColumns("CH", t));
}

const xRange = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as PageTroupe).troupe.grid.chart("CH")!.xRange());

test("a firing incident opens up to now, a resolved one over its span and a minute each side", async () => {
  let firing: Opened, resolved: Opened;
  await session(({ t0, now }) => {
    firing = {
      id: `anomaly-${now - 40 * S}-CH`,
      state: "firing",
      first: now - 40 * S,
      last: now - 10 * S,
    };
    resolved = {
      id: `anomaly-${t0 + 20 * S}-CH`,
      state: "resolved",
      first: t0 + 20 * S,
      last: t0 + 50 * S,
    };
    return [firing, resolved];
  }, async (page, open, bus) => {
    // The page's ring holds CH's last 200 s, live (the firing incident's window and more).
    const now = Date.now() * 1000;
    live(bus, Float64Array.from({ length: 200 }, (_, i) => now - (199 - i) * S));
    await page.waitForFunction(
      () => ((globalThis as unknown as PageTroupe).troupe.grid.chart("CH")?.points ?? 0) >= 200,
      null,
      { timeout: 20_000 },
    );
    // Firing: from before its first finding to now, the newest sample (the live view's right
    // edge), no later.
    await open(firing.id);
    const f = await xRange(page);
    assert.ok(f.min < firing.first / S, `${JSON.stringify(f)} starts before the incident`);
    assert.ok(
      Math.abs(f.max - now / S) < 1e-6,
      `the window ends at the newest sample (${now / S}), not in the future: ${JSON.stringify(f)}`,
    );
    // Still firing, its window goes on with the samples that come (on the code before, and
    // with the window that ended at now, the newest samples were past its right edge).
    assert.is(
      await page.evaluate(() =>
        (globalThis as unknown as PageTroupe).troupe.grid.chart("CH")!.source
      ),
      "ring",
    );
    const next = Date.now() * 1000;
    live(bus, Float64Array.of(next));
    await page.waitForFunction(
      (t) =>
        (globalThis as unknown as PageTroupe).troupe.grid.chart("CH")!.xRange().max >= t - 1e-6,
      next / S,
      { timeout: 5_000 },
    );
    // Resolved: its span, a minute each side (its 30 s span is under two minutes).
    await open(resolved.id);
    assert.equal(await xRange(page), { min: resolved.first / S - 60, max: resolved.last / S + 60 });
  });
});

test("an alert's link (no token, the incident and its channel) opens the incident on its card", async () => {
  let resolved: Opened;
  await session(({ t0 }) => {
    resolved = {
      id: `anomaly-${t0 + 20 * S}-CH`,
      state: "resolved",
      first: t0 + 20 * S,
      last: t0 + 50 * S,
    };
    return [resolved];
  }, async (page) => {
    // The page was opened with a token; an alert's generatorURL carries none.
    const link = new URL("/", page.url());
    link.search = new URLSearchParams({
      session: "ops",
      from: new Date(resolved.first / 1000).toISOString(),
      to: new Date(resolved.last / 1000).toISOString(),
      channels: "CH",
      incident: resolved.id,
    }).toString();
    await page.goto(link.toString());
    await page.waitForFunction(
      (first) => {
        const c = (globalThis as unknown as PageTroupe).troupe?.grid.chart("CH");
        return c !== undefined && c.xRange().min === first;
      },
      resolved.first / S - 60,
      { timeout: 20_000 },
    );
    assert.equal(await xRange(page), { min: resolved.first / S - 60, max: resolved.last / S + 60 });
  });
});

test("overlapping incidents' labels sit in their bands, stacked, none over another", async () => {
  // Four firing incidents of CH 3 s apart, over one another (the s36 screenshot had two).
  const kinds: IncidentKind[] = ["anomaly", "collapse", "coherence", "anomaly"];
  let bands: Opened[] = [];
  await session(({ now }) => {
    bands = kinds.map((kind, i) => {
      const first = now - (60 - 3 * i) * S;
      return {
        id: `${kind}-${first}-CH`,
        kind,
        state: "firing",
        first,
        last: now - 5 * S,
        severity: 5 - i,
      };
    });
    return bands;
  }, async (page, open) => {
    const before = Date.now() / 1000;
    await open(bands[0]!.id);
    const after = Date.now() / 1000;
    await page.waitForFunction(
      () => (globalThis as unknown as PageTroupe).troupe.grid.chart("CH")?.source === "history",
      null,
      { timeout: 20_000 },
    );
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(null))));
    const got = await page.evaluate(() => {
      const g = globalThis as unknown as PageTroupe;
      const c = g.troupe.grid.chart("CH")!;
      return { drawn: g.drawn, x: c.xRange(), plot: c.plotX() };
    });
    // The last drawing of each label, as a box in CSS pixels.
    const last = new Map(got.drawn.map((d) => [d.text, d]));
    const boxes = bands.map((b) => {
      const d = last.get(`sev ${b.severity}`);
      assert.ok(d, `sev ${b.severity} drawn: ${[...last.keys()]}`);
      const w = d.width / d.dpr, h = d.px / d.dpr;
      const x = d.canvasLeft + d.x / d.dpr -
        (d.align === "right" || d.align === "end" ? w : d.align === "center" ? w / 2 : 0);
      const top = d.y / d.dpr -
        (d.baseline === "top" || d.baseline === "hanging"
          ? 0
          : d.baseline === "middle"
          ? h / 2
          : h);
      const start = got.plot.left +
        (b.first / S - got.x.min) / (got.x.max - got.x.min) * got.plot.width;
      return { text: d.text, x, top, w, h, start };
    });
    for (const b of boxes) {
      assert.ok(
        b.x >= b.start - 0.5,
        `${b.text} at ${b.x.toFixed(1)} px starts in its band (${b.start.toFixed(1)})`,
      );
    }
    for (const [i, a] of boxes.entries()) {
      for (const b of boxes.slice(i + 1)) {
        const apart = a.x + a.w <= b.x || b.x + b.w <= a.x || a.top + a.h <= b.top ||
          b.top + b.h <= a.top;
        assert.ok(apart, `${a.text} and ${b.text} overlap: ${JSON.stringify([a, b])}`);
      }
    }
    // No sample of CH on the page (history only): the window ends at the clock's now.
    const { max } = got.x;
    assert.ok(max >= before - 1e-3 && max <= after + 1e-3, `${max} is now: ${before}..${after}`);
    await page.locator('.card[data-channel="CH"]').screenshot({
      path: "tests/artifacts/dashboard_incident_labels.png",
    });
  });
});

if (run) test.run();
