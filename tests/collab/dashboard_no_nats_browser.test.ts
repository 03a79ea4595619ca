/**
 * The dashboard without nats-server, in real Chromium: a collab server on the in-process bus (what
 * `troupe up` runs when nats-server is not installed), beside a real incident stage on the same
 * bus. A fresh page lists the incident the stage opened before the server started (from
 * `GET /incidents`: the server answered 404 without NATS, and the stream's buffer holds none of
 * its updates), and clicking an event 90 minutes old opens its channel at that time, drawn from
 * history the server kept from the bus (it had none without NATS: the card stayed empty). The
 * card says from when the server holds the channel whole (`samples_since_us`, the server's start
 * here), in memory: a user who picked 24 h saw a sliver and nothing saying why.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { defaultIncidentConfig, runIncidentStage } from "../../actors/incidents/mod.ts";
import { InProcessBus } from "../../actors/runtime/mod.ts";
import { launchCollab } from "../../collab/mod.ts";
import {
  decodeHistoryResponse,
  encodeFrame,
  feedSubject,
  findingSubject,
  historyQuery,
} from "../../protocol/mod.ts";
import { formatUtcInput } from "../../collab/web/browser/utc_input.ts";
import { anomalyFinding } from "../_support/findings.ts";
import { haveBrowser, launchBrowser } from "../_support/browser.ts";
import { tempDir } from "../_support/nats.ts";
import { tokenFor, waitFor } from "./_support.ts";

const NAME = "dashboard without nats-server";
const run = haveBrowser(NAME);
const test = suite(NAME);
const S = 1_000_000;
const SPAN_S = 7200;

interface PageTroupe {
  troupe: { grid: { chart(c: string): { source: string; shownPoints(): number } | undefined } };
}

test("on the in-process bus a fresh page lists the stage's incident, and an old event opens from history, which says since when it is held in memory", async () => {
  const dir = tempDir("troupe-dash-no-nats-");
  const bus = new InProcessBus();
  const stage = runIncidentStage(bus, { config: defaultIncidentConfig });
  let collab: Awaited<ReturnType<typeof launchCollab>> | undefined;
  const browser = await launchBrowser({ width: 1400, height: 900 });
  try {
    const finding = (channel: string, ts: number) =>
      bus.publish(findingSubject("anomaly", channel), anomalyFinding(channel, ts));
    const c0 = Date.now() * 1000 - 100 * S;
    finding("SYM1", c0);
    finding("SYM2", c0 + S);
    finding("SYM1", c0 + 4 * S);
    await bus.flush();
    await waitFor(() => stage.stage.list().length === 1, 5_000, "the stage's incident");
    const incident = stage.stage.list()[0]!;

    collab = await launchCollab({ dataDir: dir.path, bus, bridge: false });
    // Two hours of OLD at 1 Hz, stamped in the past, seen by the server on the bus.
    const t0 = (Math.floor(Date.now() / 1000) - SPAN_S - 5) * S;
    for (let f = 0; f < SPAN_S / 60; f++) {
      const t = new Float64Array(60).map((_, i) => t0 + (f * 60 + i) * S);
      const v = new Float64Array(60).map((_, i) => 50 + ((f * 60 + i) % 17));
      bus.publish(
        feedSubject("m", "OLD"),
        encodeFrame({ channel: "OLD", seq0: f * 60, t, v }, { id: `old-${f}`, src: "test" }),
      );
    }
    await bus.flush();
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    const token = await tokenFor(dir.path, "main", "viewer");
    await page.goto(`http://127.0.0.1:${collab.server.port}/?session=main&token=${token}`);
    await page.waitForSelector("body[data-stream-subscribed]", { timeout: 15_000 });
    const row = `#incidents li.incident[data-id="${incident.id}"]`;
    await page.waitForSelector(row, { timeout: 10_000 });
    assert.match((await page.textContent(row)) ?? "", "2 channels: SYM1, SYM2");

    const at = t0 + 1800 * S; // 30 minutes in: an hour and a half ago
    bus.publish(findingSubject("anomaly", "OLD"), anomalyFinding("OLD", at));
    await bus.flush();
    const event = page.locator('#events li[data-channel="OLD"]').first();
    await event.waitFor({ timeout: 10_000 });
    await event.click();
    const card = '.card[data-channel="OLD"][data-history-samples]';
    await page.waitForSelector(card, { timeout: 10_000 });
    // Ten minutes around it at 1 Hz: 600 samples, each drawn, from history.
    assert.is(await page.getAttribute(card, "data-history-samples"), "600");
    const shown = await page.evaluate(() => {
      const c = (globalThis as unknown as PageTroupe).troupe.grid.chart("OLD")!;
      return { source: c.source, points: c.shownPoints() };
    });
    assert.equal(shown, { source: "history", points: 600 });

    // The range starts before the server's start: the card says since when it holds OLD, as the
    // server's answer does (the same over 24 h: nothing was dropped since).
    const query = historyQuery({ channel: "OLD", t0_us: t0, t1_us: t0 + S, points_max: 4 });
    const url = `http://127.0.0.1:${collab.server.port}/history?token=${token}&${query}`;
    const since = decodeHistoryResponse(new Uint8Array(await (await fetch(url)).arrayBuffer()))
      .samples_since_us!;
    assert.ok(since > at, `held whole since ${since}, after the event at ${at}`);
    const note = '.card[data-channel="OLD"] .history-horizon';
    const said = `history since ${formatUtcInput(Math.floor(since / S), true)} UTC (in memory)`;
    assert.equal(await page.locator(note).allTextContents(), [said]);
    assert.is(await page.getAttribute(note, "data-since-us"), String(since));
    await page.click("#range button[name=range-24h]");
    await page.waitForSelector(`.card[data-channel="OLD"][data-history-samples="${SPAN_S}"]`);
    assert.ok(await page.isVisible(note));
    assert.equal(await page.locator(note).allTextContents(), [said]);
    // Live again: no range, no note.
    await page.click("#range button[name=range-live]");
    await page.waitForSelector(note, { state: "hidden" });
    assert.equal(errors, []);
  } finally {
    await browser.cleanup();
    await collab?.close();
    stage.stop();
    await bus.close();
    dir.remove();
  }
});

if (run) test.run();
