/**
 * A node exporter's channels on the dashboard in a real browser, fed through a real nats-server
 * and the stream gateway, their labels in the channel record (`troupe_channel_labels`) as a
 * receiver writes them: the cards are grouped by instance and job and ordered by what is wrong
 * now (the group and the series of an open incident first, then the scores); the filter box takes
 * label matchers and words and says what it cannot parse; units come from the metric names
 * (`_bytes` B, `_bytes_total` B/s, no `price` on a unitless metric with bars); the value axis of
 * a gigabyte series writes `1.4G`, inside its margin; the incident row names its series by their
 * labels. On the code before: cards by name, no groups, no filter, `/s` and `price`, and the
 * axis wrote every digit.
 */
import type { Page } from "playwright-core";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { openChannelLabels } from "../../actors/ingest/mod.ts";
import {
  encodeBar,
  encodeColumns,
  encodeIncident,
  type Incident,
  incidentSubject,
  outSubject,
} from "../../protocol/mod.ts";
import { haveBrowser } from "../_support/browser.ts";
import { type PageDrawnText, recordDrawnText } from "../_support/drawn_text.ts";
import { haveNatsServer } from "../_support/nats.ts";
import { type Dashboard, openDashboard } from "./_support.ts";

const NAME = "dashboard fleet in the browser";
const run = haveNatsServer(NAME) && haveBrowser(NAME);
const test = suite(NAME);

/** A series of `instance` (job node): its channel as the receiver names it, and its labels. */
function series(instance: string, metric: string) {
  const labels = [
    { name: "__name__", value: metric },
    { name: "instance", value: instance },
    { name: "job", value: "node" },
  ];
  return { channel: `${instance.replace(/\W/g, "_")}-node-${metric}`, labels };
}

const MEM = series("a:9100", "node_memory_MemAvailable_bytes");
const NET = series("a:9100", "node_network_receive_bytes_total");
const LOAD_A = series("a:9100", "node_load1");
const LOAD_B = series("b:9100", "node_load1");
const INFO_B = series("b:9100", "node_network_info");
const SERIES = [MEM, NET, LOAD_A, LOAD_B, INFO_B];

interface PageTroupe {
  troupe: {
    grid: {
      shown(): string[];
      channels(): string[];
      chart(c: string): { points: number } | undefined;
    };
  };
}

/** 20 s of `channel` at 10 samples a second around `base`, in a band of ±`band`, with `off`
 *  added to the newest sample (its score: off / band). */
function publishLine(dash: Dashboard, channel: string, base: number, band: number, off = 0): void {
  const t0 = (Math.floor(Date.now() / 1000) - 20) * 1_000_000;
  const t = new Float64Array(200).map((_, i) => t0 + i * 1e5);
  const e = new Float64Array(200).map((_, i) => base * (1 + 0.1 * Math.sin(i / 30)));
  const v = e.map((x, i) => (i === 199 ? x + off : x));
  dash.bus.publish(
    outSubject("anomaly", channel),
    encodeColumns({
      channel,
      seq0: 0,
      t,
      columns: {
        value: v,
        expected: e,
        lower: e.map((x) => x - band),
        upper: e.map((x) => x + band),
      },
    }, { id: `fleet-${channel}`, src: "test" }),
  );
}

function incidentOn(channel: string): Incident {
  const us = (Date.now() - 5_000) * 1000;
  return {
    id: `anomaly-${us}-${channel}`,
    kind: "anomaly",
    state: "firing",
    fired: true,
    silenced: false,
    members: [
      { channel, first_us: us, last_us: us, findings: 2, peak_severity: 4 },
      { channel: LOAD_B.channel, first_us: us, last_us: us, findings: 1, peak_severity: 3 },
      { channel: "SYM001", first_us: us, last_us: us, findings: 1, peak_severity: 3 },
    ],
    first_us: us,
    last_us: us,
    first_finding: "f1",
    last_finding: "f2",
    findings: 4,
    peak_severity: 4,
    links: [],
  };
}

/** The page's grid and index as the reorder test wraps them, and what it saw. */
interface Reorders {
  troupe: {
    grid: { channels(): string[]; reorder(): void };
    index: { order(...args: unknown[]): unknown };
  };
  reorders: Array<{ made: number; calls: number }>;
}

const shown = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as PageTroupe).troupe.grid.shown());

async function until(page: Page, what: string, want: string[]): Promise<void> {
  try {
    await page.waitForFunction(
      (w) => JSON.stringify((globalThis as unknown as PageTroupe).troupe.grid.shown()) === w,
      JSON.stringify(want),
      { timeout: 20_000 },
    );
  } catch {
    assert.equal(await shown(page), want, what);
  }
}

test("grouped by instance and job, worst first; the filter; units; axes; incident rows", async () => {
  const dash = await openDashboard({ name: "fleet" });
  const book = await openChannelLabels(dash.bus, { read: false });
  for (const s of SERIES) await book.put(s.channel, s.labels);
  const page = await dash.open({
    role: "editor",
    prepare: (p) => recordDrawnText(p, { match: /^-?[\d.]+[kMGT]?$/ }),
    // Subscribed as well as labelled: the page takes the stream live only (backfill=0), so a line
    // published before its subscription is in place never reaches it (the labels come over
    // HTTP, and may come first).
    waitFor: "body[data-stream-subscribed][data-channel-labels='5']",
  });
  try {
    // Scores: NET 0.5, LOAD_A 2, LOAD_B 0.2, MEM and INFO_B 0.
    publishLine(dash, MEM.channel, 1.4e9, 5e7);
    publishLine(dash, NET.channel, 3.5e8, 1e7, 5e6);
    publishLine(dash, LOAD_A.channel, 1, 0.5, 1);
    publishLine(dash, LOAD_B.channel, 1, 0.5, 0.1);
    publishLine(dash, INFO_B.channel, 1, 0.5);
    publishLine(dash, "SYM001", 100, 1);
    dash.bus.publish(
      outSubject("bars", INFO_B.channel),
      encodeBar({ id: "fleet-bar", src: "test", ts: Date.now() * 1000 }, {
        channel: INFO_B.channel,
        bar: "1s",
        t: (Math.floor(Date.now() / 1000) - 1) * 1e6,
        open: 1,
        high: 1,
        low: 1,
        close: 1,
        count: 1,
        sum: 1,
      }),
    );
    await dash.bus.flush();
    // In their bands the others rank alike: by name, the groups by their first channel's.
    await until(page, "a's group (its load off its band) first, then the others by name", [
      LOAD_A.channel,
      MEM.channel,
      NET.channel,
      "SYM001",
      LOAD_B.channel,
      INFO_B.channel,
    ]);
    const heads = await page.locator("#charts .group-head .name").allTextContents();
    assert.equal(heads.length, 3);
    assert.equal(heads.slice().sort(), [
      'instance="a:9100" job="node"',
      'instance="b:9100" job="node"',
      "no instance or job",
    ]);

    // An incident on b's network info, b's load and SYM001 puts b's group first, that series at
    // its top, and the unlabelled group (SYM001 in the incident) before a's.
    dash.bus.publish(
      incidentSubject("anomaly"),
      encodeIncident(
        { id: "fleet-inc", src: "test", ts: Date.now() * 1000 },
        incidentOn(INFO_B.channel),
      ),
    );
    await dash.bus.flush();
    await until(page, "the open incident's group and series first", [
      INFO_B.channel,
      LOAD_B.channel,
      "SYM001",
      LOAD_A.channel,
      MEM.channel,
      NET.channel,
    ]);
    const row = "#incidents li.incident .series";
    await page.waitForSelector(row, { timeout: 10_000 });
    assert.is(
      await page.textContent(row),
      'node_network_info{instance="b:9100", job="node"}, node_load1{instance="b:9100", ' +
        'job="node"} +1 more',
    );

    // The filter: matchers and a word; a bad one is said and changes nothing.
    await page.fill("#channel-filter", 'job="node" load1');
    await until(page, "node's load1 series", [LOAD_B.channel, LOAD_A.channel]);
    await page.fill("#channel-filter", 'instance=~"b:.*"');
    await until(page, "b's series", [INFO_B.channel, LOAD_B.channel]);
    await page.fill("#channel-filter", 'instance=~"("');
    await page.waitForSelector("#channel-filter[aria-invalid=true]");
    assert.match((await page.textContent(".filter-error")) ?? "", /"instance" does not compile/);
    assert.equal(await shown(page), [INFO_B.channel, LOAD_B.channel], "the last good filter");
    await page.fill("#channel-filter", "");
    await until(page, "all again", [
      INFO_B.channel,
      LOAD_B.channel,
      "SYM001",
      LOAD_A.channel,
      MEM.channel,
      NET.channel,
    ]);

    // Units by the metric names; no price on a metric with bars.
    const unit = (c: string, part: string) =>
      page.$eval(`.card[data-channel="${c}"] ${part}`, (e) => e.textContent);
    assert.is(await unit(MEM.channel, "h3 .unit"), "B");
    assert.is(await unit(NET.channel, "h3 .unit"), "B/s");
    assert.is(await unit(NET.channel, ".plot .y-unit"), "B/s");
    await page.waitForSelector(`.card[data-channel="${INFO_B.channel}"] .candles`);
    assert.is(await unit(INFO_B.channel, ".plot .y-unit"), "");
    assert.is(await unit(INFO_B.channel, ".candles .y-unit"), "");

    // The memory card's value axis: gigabytes with a prefix, every label inside the margin.
    await page.waitForFunction(
      (c) => (globalThis as unknown as PageDrawnText).drawn.some((d) => d.channel === c),
      MEM.channel,
      { timeout: 20_000 },
    );
    const labels = await page.evaluate(
      (c) => (globalThis as unknown as PageDrawnText).drawn.filter((d) => d.channel === c),
      MEM.channel,
    );
    assert.ok(labels.length >= 2, `value labels drawn: ${labels.length}`);
    for (const l of labels) {
      assert.match(l.text, /^1\.\d{1,2}G$/, `a gigabyte label: ${l.text}`);
      // Right-aligned 6 CSS px left of the plot (50 CSS px in): its left edge on the canvas.
      assert.ok(l.x - l.width >= 0, `${l.text} fits: ends at ${l.x}, ${l.width} wide`);
    }
  } finally {
    await book.close();
    await page.close();
    await dash.close();
  }
});

test("of more channels than cards, the worst have the cards; an incident brings one in", async () => {
  const dash = await openDashboard({ name: "fleet-cap" });
  const page = await dash.open();
  try {
    // 80 channels of one job, channel k's newest sample k/10 band widths off: the 64 cards are
    // those of channels 16 to 79, worst first.
    const name = (k: number) => `h${String(k).padStart(2, "0")}-node_load1`;
    for (let k = 0; k < 80; k++) publishLine(dash, name(k), 1, 1, k / 10);
    await dash.bus.flush();
    const top = Array.from({ length: 64 }, (_, i) => name(79 - i));
    await until(page, "the 64 worst channels, worst first", top);
    assert.equal(
      (await page.evaluate(() => (globalThis as unknown as PageTroupe).troupe.grid.channels()))
        .length,
      64,
    );
    assert.match(
      (await page.textContent(".filter-count")) ?? "",
      "80 channels, the first 64 drawn",
    );
    dash.bus.publish(
      incidentSubject("anomaly"),
      encodeIncident({ id: "cap-inc", src: "test", ts: Date.now() * 1000 }, {
        ...incidentOn(name(0)),
        members: [incidentOn(name(0)).members[0]!],
      }),
    );
    await dash.bus.flush();
    await until(page, "channel 0's open incident gives it a card, first; 16 loses its own", [
      name(0),
      ...top.slice(0, 63),
    ]);
    assert.ok(!(await page.$(`.card[data-channel="${name(16)}"]`)), "channel 16's card is gone");
    // The card made for channel 0 starts from the 200 samples the page kept of it (its chart is
    // made in the frame after the card is placed, so it is waited for).
    const points = (c: string) =>
      (globalThis as unknown as PageTroupe).troupe.grid.chart(c)?.points;
    await page.waitForFunction(
      (c) => (globalThis as unknown as PageTroupe).troupe.grid.chart(c) !== undefined,
      name(0),
      { timeout: 20_000 },
    ).catch(() => {});
    assert.is(await page.evaluate(points, name(0)), 200);
    // The filter chooses among all 80, not among the cards.
    await page.fill("#channel-filter", "h1");
    await until(page, "channels 10 to 19", Array.from({ length: 10 }, (_, i) => name(19 - i)));
    // A reorder that makes many cards (channels 1 to 9 have none) takes the order once for them
    // all: index.order() runs for the choice, the cards to spare and the cards' places, not
    // again for each card made.
    await page.evaluate("globalThis.__name ??= (f) => f");
    await page.evaluate(() => {
      const g = globalThis as unknown as Reorders;
      const { grid, index } = g.troupe;
      const order = index.order.bind(index), reorder = grid.reorder.bind(grid);
      g.reorders = [];
      let calls = 0;
      index.order = (...args) => (calls++, order(...args));
      grid.reorder = () => {
        const before = new Set(grid.channels());
        calls = 0;
        reorder();
        const made = grid.channels().filter((c) => !before.has(c)).length;
        g.reorders.push({ made, calls });
      };
    });
    await page.fill("#channel-filter", "h0");
    // Channels 1 to 9 are in their bands (scores 0.1 to 0.9): by name.
    await until(page, "channel 0 (its incident), then 1 to 9", [
      name(0),
      ...Array.from({ length: 9 }, (_, i) => name(i + 1)),
    ]);
    const reorders = await page.evaluate(() => (globalThis as unknown as Reorders).reorders);
    const making = reorders.find((r) => r.made > 0);
    assert.equal(making, { made: 9, calls: 3 }, JSON.stringify(reorders));
  } finally {
    await page.close();
    await dash.close();
  }
});

if (run) test.run();
