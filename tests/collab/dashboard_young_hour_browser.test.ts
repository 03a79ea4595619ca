/**
 * The 1 h view of a young session in a real browser, over a real nats-server whose feed stream
 * holds five minutes of a channel with three incidents in its last two: the three incidents sit
 * a pixel or two apart at the right edge of an hour, and their severities are one tag (`sev 5 ×3`)
 * on one row, not a column of `sev 5 / sev 4 / sev 5` tags over the line; the header says the
 * hour shown (`(1h)`) and the bar size drawn (before: `(25s) · 15s bars`, the bars held live).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { encodeIncident, incidentSubject } from "../../protocol/mod.ts";
import { haveBrowser } from "../_support/browser.ts";
import { type PageDrawnText, recordDrawnText } from "../_support/drawn_text.ts";
import { haveNatsServer } from "../_support/nats.ts";
import { openDashboardOverHistory } from "./_support.ts";

const NAME = "dashboard young session's hour in the browser";
const run = haveNatsServer(NAME) && haveBrowser(NAME);
const test = suite(NAME);

interface PageTroupe extends PageDrawnText {
  troupe: {
    grid: {
      chart(c: string): { source: string; incidentBands(): unknown[] } | undefined;
    };
  };
}

/** A firing incident of YNG over [first, last] (µs) with `severity`. */
function incident(id: string, first: number, last: number, severity: number): Uint8Array {
  const member = { channel: "YNG", first_us: first, last_us: last, findings: 2, peak_severity: 4 };
  return encodeIncident({ id: `${id}:2`, src: "test", ts: last }, {
    id,
    kind: "anomaly",
    state: "firing",
    fired: true,
    silenced: false,
    members: [{ ...member, peak_severity: severity }],
    first_us: first,
    last_us: last,
    first_finding: "f-1",
    last_finding: "f-2",
    findings: 2,
    peak_severity: severity,
    links: [],
  });
}

test("an hour's view of five minutes: one tag for three incidents at one place; the header says 1h", async () => {
  const dash = await openDashboardOverHistory({
    name: "young-hour",
    history: { channel: "YNG", spanS: 300, value: (k) => 20 + (k % 11) },
  });
  try {
    const page = await dash.open({ prepare: (p) => recordDrawnText(p, { match: /^sev \d/ }) });
    const t0 = dash.historyStartUs;
    for (const [i, sev] of [5, 4, 5].entries()) {
      const first = t0 + (200 + 20 * i) * 1_000_000;
      dash.bus.publish(
        incidentSubject("anomaly"),
        incident(`anomaly-${first}-YNG`, first, first + 10_000_000, sev),
      );
    }
    await dash.bus.flush();
    await page.waitForSelector("#incidents li.incident", { timeout: 20_000 });
    await page.evaluate(() => void (globalThis as unknown as PageTroupe).troupe.grid.chart("YNG"));
    await page.click("#range button[name=range-1h]");
    await page.waitForFunction(
      () => {
        const c = (globalThis as unknown as PageTroupe).troupe.grid.chart("YNG");
        return c?.source === "history" && c.incidentBands().length === 3;
      },
      null,
      { timeout: 20_000 },
    );
    await page.evaluate(() => (globalThis as unknown as PageTroupe).drawn = []);
    // One more drawing of the range shown, recorded from its start: the window narrowed, the
    // cards' charts follow their new width.
    const size = page.viewportSize() ?? { width: 1280, height: 800 };
    await page.setViewportSize({ width: size.width - 40, height: size.height });
    await page.waitForFunction(
      () => (globalThis as unknown as PageTroupe).drawn.some((d) => d.channel === "YNG"),
      null,
      { timeout: 5_000 },
    );
    const tags = await page.evaluate(() =>
      (globalThis as unknown as PageTroupe).drawn.filter((d) => d.channel === "YNG").map((d) => ({
        text: d.text,
        y: d.y,
      }))
    );
    const rows = new Set(tags.map((t) => t.y));
    assert.is(rows.size, 1, `the tags on one row, not stacked: ${JSON.stringify(tags)}`);
    assert.ok(tags.every((t) => t.text === "sev 5 ×3"), JSON.stringify(tags));

    const quote = page.locator('.card[data-channel="YNG"] h3 .quote');
    await page.waitForFunction(
      () =>
        /\(1h\)/.test(
          document.querySelector('.card[data-channel="YNG"] h3 .quote')?.textContent ?? "",
        ),
      null,
      { timeout: 5_000 },
    ).catch(() => undefined); // the assertion says what it said
    const said = (await quote.textContent()) ?? "";
    assert.match(said, /\(1h\) · \d+[smh] bars$/);
  } finally {
    await dash.close();
  }
});

if (run) test.run();
