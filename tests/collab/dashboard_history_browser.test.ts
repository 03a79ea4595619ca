/**
 * The dashboard's past in a real browser: a real nats-server keeps two hours of a channel in its
 * feed stream; a page that never saw the channel live is told of an anomaly 90 minutes old, and
 * clicking it opens the channel at that moment, drawn from `GET /history` (on the code before
 * history, the card did not even exist: the click showed nothing). The range picker's 24 h shows
 * the whole two hours, downsampled, on every card. Both come over the page's stream socket (the
 * WebSocket form of history, with the token the socket opened with), not `GET /history`, which
 * the page uses only while that socket is not open (on the code before, every one was HTTP).
 * The card opened from the old event draws the answer's bars as candles at once, though no live
 * bar of the channel ever came (before, only a live bar made a card's candle strip). An incident
 * of the channel over an hour old, clicked in the incidents panel, opens the card over its span
 * with the incident drawn as a band and named in the card's legend, the history answer listing it.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  encodeEventEnvelope,
  encodeIncident,
  findingSubject,
  incidentSubject,
} from "../../protocol/mod.ts";
import { haveBrowser } from "../_support/browser.ts";
import { haveNatsServer } from "../_support/nats.ts";
import { openDashboardOverHistory } from "./_support.ts";

const NAME = "dashboard history in the browser";
const run = haveNatsServer(NAME) && haveBrowser(NAME);
const test = suite(NAME);

const SPAN_S = 7200;

/** The stage's update of a firing anomaly incident of OLD over [first, last] (µs). */
function oldIncident(id: string, first: number, last: number): Uint8Array {
  const member = { channel: "OLD", first_us: first, last_us: last, findings: 3, peak_severity: 4 };
  return encodeIncident({ id: `${id}:2`, src: "test", ts: last }, {
    id,
    kind: "anomaly",
    state: "firing",
    fired: true,
    silenced: false,
    members: [member],
    first_us: first,
    last_us: last,
    first_finding: "f-1",
    last_finding: "f-3",
    findings: 3,
    peak_severity: 4,
    links: [],
  });
}

interface PageChart {
  incidentBands(): Array<{ id: string; t0: number; t1: number; severity: number }>;
  source: string;
  shownPoints(): number;
  xRange(): { min: number; max: number };
}
interface PageTroupe {
  troupe: {
    grid: {
      chart(c: string): PageChart | undefined;
      candles(c: string): { shownBars(): { count: number; high: number } } | undefined;
    };
    history: { bySocket: number; byHttp: number };
    stream: { close(): void };
  };
}

test("clicking an event 90 minutes old opens its channel at that time, from history; 24 h shows it all", async () => {
  const dash = await openDashboardOverHistory({
    name: "history",
    history: { channel: "OLD", spanS: SPAN_S, value: (k) => 50 + (k % 17) },
  });
  const pub = dash.bus;
  const t0 = dash.historyStartUs;
  try {
    const errors: string[] = [];
    // What the browser itself sent and received: HTTP requests for /history, and history answers
    // on the stream socket (msgpack maps `{t: "history", id, data}`).
    let httpHistory = 0, socketHistory = 0;
    const page = await dash.open({
      prepare(page) {
        page.on("pageerror", (e) => errors.push(e.message));
        page.on(
          "request",
          (r) => void (new URL(r.url()).pathname === "/history" && httpHistory++),
        );
        page.on("websocket", (ws) => {
          if (!ws.url().includes("/stream")) return;
          ws.on("framereceived", (f) => {
            if (typeof f.payload !== "string" && f.payload.includes("history")) socketHistory++;
          });
        });
      },
    });
    const at = t0 + 1800 * 1_000_000; // 30 minutes in: an hour and a half ago
    pub.publish(
      findingSubject("anomaly", "OLD"),
      encodeEventEnvelope({ id: "old-anomaly", type: "anomaly", src: "test", ts: at }, {
        type: "anomaly",
        ts: at,
        channel: "OLD",
        score: 0.95,
        value: 66,
        expected: 50,
        lower: 45,
        upper: 55,
      }),
    );
    await pub.flush();
    const row = page.locator('#events li[data-channel="OLD"]').first();
    await row.waitFor({ timeout: 20_000 });
    await row.click();
    await page.waitForSelector('.card[data-channel="OLD"][data-history-samples]', {
      timeout: 20_000,
    });
    const shown = await page.evaluate(() => {
      const c = (globalThis as unknown as PageTroupe).troupe.grid.chart("OLD")!;
      return { source: c.source, points: c.shownPoints(), x: c.xRange() };
    });
    assert.is(shown.source, "history");
    // Ten minutes around it at 1 Hz: 600 samples, each drawn (they fit in the chart's points).
    assert.is(
      await page.getAttribute('.card[data-channel="OLD"]', "data-history-samples"),
      "600",
    );
    assert.is(shown.points, 600);
    assert.ok(shown.x.min <= at / 1e6 && at / 1e6 <= shown.x.max, JSON.stringify(shown.x));
    // Its candles come with the answer, though no live bar ever came (on the code before, the
    // strip was made by a live bar only: an old channel showed none).
    await page.waitForSelector('.card[data-channel="OLD"] .candles', { timeout: 2_000 });
    await page.waitForFunction(
      () => (globalThis as unknown as PageTroupe).troupe.grid.candles("OLD")!.shownBars().count > 1,
      null,
      { timeout: 5_000 },
    );
    const bars = await page.evaluate(() =>
      (globalThis as unknown as PageTroupe).troupe.grid.candles("OLD")!.shownBars()
    );
    // Ten minutes at 1 Hz, at most one bar a bucket of the chart's width.
    assert.ok(bars.count >= 100 && bars.count <= 601, JSON.stringify(bars));
    assert.is(bars.high, 66, "the highest sample is a bar's high");

    // An incident of OLD, 50 to 52 minutes in (over an hour ago), as the stage publishes it:
    // clicking it in the incidents panel opens OLD over its span, the incident drawn as a band and
    // named in the card's legend, from the history answer too (on the code before, the chart
    // opened 5 minutes each side of its start, with no incident on it, nor in the answer).
    const first = t0 + 3000 * 1_000_000, last = t0 + 3120 * 1_000_000;
    const id = `anomaly-${first}-OLD`;
    pub.publish(incidentSubject("anomaly"), oldIncident(id, first, last));
    await pub.flush();
    const incidentRow = page.locator(`#incidents li[data-id="${id}"]`);
    await incidentRow.waitFor({ timeout: 20_000 });
    await incidentRow.click();
    const entry = `.card[data-channel="OLD"] .incident-legend .incident-entry[data-id="${id}"]`;
    await page.waitForSelector(`${entry}[data-history="1"]`, { timeout: 20_000 });
    const opened = await page.evaluate(() => {
      const c = (globalThis as unknown as PageTroupe).troupe.grid.chart("OLD")!;
      return { source: c.source, x: c.xRange(), bands: c.incidentBands() };
    });
    assert.is(opened.source, "history");
    assert.ok(opened.x.min < first / 1e6 && last / 1e6 < opened.x.max, JSON.stringify(opened.x));
    // Firing, it is still going on: its band reaches the chart's newest sample (OLD's last), not
    // its last finding.
    const newest = (t0 + (SPAN_S - 1) * 1_000_000) / 1e6;
    assert.equal(opened.bands.map((b) => [b.id, b.t0, b.t1, b.severity]), [
      [id, first / 1e6, newest, 4],
    ]);
    assert.is(await page.getAttribute(entry, "class"), "incident-entry kind-anomaly focused");
    assert.is(await page.textContent(entry), `▮ anomaly sev 4 firing · ${id}`);
    await page.screenshot({ path: "tests/artifacts/dashboard_history_incident.png" });

    // 24 h: the two hours, M4 downsampled to the chart's width.
    await page.click("#range button[name=range-24h]");
    await page.waitForFunction(
      () => {
        const c = (globalThis as unknown as PageTroupe).troupe.grid.chart("OLD")!;
        return c.source === "history" && c.xRange().max - c.xRange().min > 80_000;
      },
      null,
      { timeout: 20_000 },
    );
    assert.is(
      await page.getAttribute('.card[data-channel="OLD"]', "data-history-samples"),
      String(SPAN_S),
    );
    const day = await page.evaluate(() =>
      (globalThis as unknown as PageTroupe).troupe.grid.chart("OLD")!.shownPoints()
    );
    assert.ok(day > 100 && day < SPAN_S, `${day} points drawn for ${SPAN_S} samples`);
    // The feed stream does not say from when it holds a channel: no in-memory horizon is shown.
    assert.ok(await page.isHidden('.card[data-channel="OLD"] .history-horizon'));
    await page.screenshot({ path: "tests/artifacts/dashboard_history_24h.png" });
    const counts = () =>
      page.evaluate(() => {
        const h = (globalThis as unknown as PageTroupe).troupe.history;
        return { bySocket: h.bySocket, byHttp: h.byHttp };
      });
    assert.is(httpHistory, 0, "no GET /history while the stream socket is open");
    assert.ok(socketHistory >= 3, `${socketHistory} history answers on the socket`);
    assert.equal(await counts(), { bySocket: 3, byHttp: 0 });
    // With the socket closed, history falls back to GET /history, with the page's token.
    await page.evaluate(() => (globalThis as unknown as PageTroupe).troupe.stream.close());
    await page.click("#range button[name=range-1h]");
    await page.waitForFunction(
      () => {
        const c = (globalThis as unknown as PageTroupe).troupe.grid.chart("OLD")!;
        return c.source === "history" && c.xRange().max - c.xRange().min < 4_000;
      },
      null,
      { timeout: 20_000 },
    );
    assert.equal(await counts(), { bySocket: 3, byHttp: 1 });
    assert.is(httpHistory, 1);
    const fields = () =>
      page.evaluate(() =>
        ["range-from", "range-to"].map((n) =>
          (document.querySelector(`#range input[name=${n}]`) as HTMLInputElement).value
        )
      );
    assert.ok(
      (await fields()).every((v) => /^\d{4}-\d\d-\d\d \d\d:\d\d$/.test(v)),
      "1h writes its range",
    );
    await page.click("#range button[name=range-live]");
    assert.is(
      await page.evaluate(() =>
        (globalThis as unknown as PageTroupe).troupe.grid.chart("OLD")!.source
      ),
      "live",
    );
    // Back to live, the fields no longer say the hour that was left.
    assert.equal(await fields(), ["", ""]);
    assert.equal(errors, []);
  } finally {
    await dash.close();
  }
});

if (run) test.run();
