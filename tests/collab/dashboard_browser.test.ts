/**
 * The dashboard in a real browser: headless Chromium (playwright-core) on pages served by a real
 * collab server, beside a real host on a real nats-server with a live synthetic market feed. Three
 * users share one session: ana (owner), bo (editor) and vic (viewer).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { fileURLToPath } from "node:url";
import { ACTOR_KINDS } from "../../actors/mod.ts";
import {
  defaultHostConfig,
  FileJournal,
  type LaunchedHost,
  launchHost,
  NatsBus,
} from "../../actors/runtime/mod.ts";
import { launchCollab, type LaunchedCollab, type SessionDoc } from "../../collab/mod.ts";
import { type BusMessage, decodeColumns } from "../../protocol/mod.ts";
import { createMarketFeed, DEMO_CRASH_RATE, demoActorConfigs, inject } from "../../sim/mod.ts";
import { floorFrames } from "../../bench/_dashboard_floor.ts";
import { haveBrowser, launchBrowser } from "../_support/browser.ts";
import { haveNatsServer, startTestNats, tempDir } from "../_support/nats.ts";
import { tokenFor, waitFor } from "./_support.ts";

const NAME = "dashboard in the browser";
const run = haveNatsServer(NAME) && haveBrowser(NAME);
const test = suite(NAME);
const SESSION = "ops";
const CHANNELS = 4;
const RATE = 300;
const ARTIFACTS = new URL("../artifacts/", import.meta.url);

interface World {
  nats: Awaited<ReturnType<typeof startTestNats>>;
  dir: ReturnType<typeof tempDir>;
  host: LaunchedHost;
  hostDir: string;
  collab: LaunchedCollab;
  feedBus: NatsBus;
  abort: AbortController;
  injecting: Promise<unknown>;
  browser: Awaited<ReturnType<typeof launchBrowser>>;
  pages: Record<"ana" | "bo" | "vic", Page>;
  /** Half-widths of the band of anomaly/SYM001, per columns frame, with the time received. */
  band: Array<{ atMs: number; half: number }>;
  errors: string[];
}
let w: World;

/** What the page exposes as `globalThis.troupe` (read inside `page.evaluate`). */
interface PageTroupe {
  troupe: {
    link: { sdoc: SessionDoc };
    grid: {
      channels(): string[];
      chart(c: string): { points: number; xRange(): { min: number; max: number } } | undefined;
    };
    stream: { lastSeq: number | undefined };
  };
}

async function openPage(user: "ana" | "bo" | "vic"): Promise<Page> {
  const role = user === "ana" ? "owner" : user === "bo" ? "editor" : "viewer";
  const token = await tokenFor(join(w.dir.path, "collab"), SESSION, role);
  const page = await w.browser.newPage();
  page.on("pageerror", (e) => w.errors.push(`${user}: ${e.message}`));
  await page.goto(
    `http://127.0.0.1:${w.collab.server.port}/?session=${SESSION}&token=${token}&name=${user}`,
  );
  await page.waitForSelector("#collab-status.up", { timeout: 15_000 });
  return page;
}

test.before(async () => {
  const nats = await startTestNats();
  const dir = tempDir("troupe-dashboard-");
  const config = defaultHostConfig();
  config.host_id = "dash";
  config.nats = nats.url;
  config.data_dir = join(dir.path, "host");
  config.input = "core";
  const intervalUs = Math.round((CHANNELS * 1e6) / RATE);
  const demo = demoActorConfigs(intervalUs);
  config.actors = Object.fromEntries(Object.keys(ACTOR_KINDS).map((k) => [k, demo[k] ?? {}]));
  const host = await launchHost(config, ACTOR_KINDS, { log: () => {} });
  const collab = await launchCollab({
    dataDir: join(dir.path, "collab"),
    nats: nats.url,
    bridgeOptions: { timeoutMs: 8000 },
  });
  const feedBus = await NatsBus.connect(nats.url);
  const band: World["band"] = [];
  const halfWidths = (into: World["band"]) => (m: BusMessage) => {
    let frame;
    try {
      frame = decodeColumns(m.data).frame;
    } catch {
      return; // an anomaly event on the same subject, not the per-sample columns
    }
    const { spread } = frame.columns; // the band's half-width (issue 33)
    const i = frame.t.length - 1;
    if (spread && i >= 0) into.push({ atMs: Date.now(), half: spread[i]! });
  };
  feedBus.subscribe("troupe.out.anomaly.SYM001", halfWidths(band));
  const abort = new AbortController();
  const feed = createMarketFeed({
    symbols: CHANNELS,
    seed: 7,
    batch: 10,
    volume: false,
    startUs: Date.now() * 1000,
    intervalUs,
    crashRate: DEMO_CRASH_RATE,
  });
  const injecting = inject(feedBus, feed, {
    rate: RATE,
    durationS: Infinity,
    feedName: "market",
    src: "dash-test",
    signal: abort.signal,
  }).catch(() => undefined);
  const browser = await launchBrowser();
  w = {
    nats,
    dir,
    host,
    hostDir: config.data_dir,
    collab,
    feedBus,
    abort,
    injecting,
    browser,
    pages: {} as World["pages"],
    band,
    errors: [],
  };
  w.pages.ana = await openPage("ana");
  w.pages.bo = await openPage("bo");
  w.pages.vic = await openPage("vic");
});

test.after(async () => {
  w.abort.abort();
  await w.injecting;
  await w.browser.cleanup();
  await w.feedBus.close();
  await w.collab.close();
  await w.host.close().catch(() => {});
  await w.nats.cleanup();
  w.dir.remove();
});

test("the three users see each other, by name", async () => {
  for (const page of Object.values(w.pages)) {
    await page.waitForFunction(() => document.querySelectorAll("#presence li").length === 3, null, {
      timeout: 5000,
    });
    const names = await page.$$eval("#presence li", (lis) => lis.map((li) => li.dataset.name));
    assert.equal(names, ["ana", "bo", "vic"]);
  }
});

test("ana sets an anomaly threshold: bo sees it within a second, the actor answers ok, its configuration and its band change", async () => {
  const { ana, bo } = w.pages;
  await waitFor(() => w.band.length > 5, 20_000, "anomaly outputs of SYM001");
  const before = w.host.host.instance("anomaly", "SYM001")!.config as { band_sigmas: number };
  assert.is(before.band_sigmas, 3);
  await ana.fill("#thresholds input[name=channel]", "SYM001");
  await ana.fill("#thresholds input[name=field]", "band_sigmas");
  await ana.fill("#thresholds input[name=value]", "12");
  // Each page notes (wall clock, one machine) when the entry is in its document: ana when she
  // wrote it, bo when it arrived; the panel re-renders in the same transaction's observers.
  const note = (page: Page) =>
    page.evaluate(() => {
      const g = globalThis as unknown as PageTroupe & { seenAtMs?: number };
      g.troupe.link.sdoc.thresholds.observeDeep(() => {
        if (g.seenAtMs === undefined && g.troupe.link.sdoc.thresholds.has("anomaly/SYM001")) {
          g.seenAtMs = Date.now();
        }
      });
    });
  await note(ana);
  await note(bo);
  const sentAtMs = Date.now();
  await ana.click("#thresholds button[name=set]");
  await bo.waitForSelector('#thresholds tr[data-key="anomaly/SYM001"] td.settings', {
    timeout: 5000,
  });
  const at = (page: Page) =>
    page.evaluate(() => (globalThis as unknown as { seenAtMs: number }).seenAtMs);
  const seenMs = (await at(bo)) - (await at(ana));
  assert.ok(seenMs < 1000, `bo saw the change ${seenMs} ms after ana wrote it`);
  assert.match(
    await bo.textContent('#thresholds tr[data-key="anomaly/SYM001"] td.settings') ?? "",
    '"band_sigmas":12',
  );
  await bo.waitForSelector('#thresholds tr[data-key="anomaly/SYM001"][data-status="ok"]', {
    timeout: 10_000,
  });
  const after = w.host.host.instance("anomaly", "SYM001")!.config as { band_sigmas: number };
  assert.is(after.band_sigmas, 12);
  // The band of the outputs published after the change is about 12/3 times as wide. They are
  // read as they arrive here, which under load can lag the host by a second or more (seen on
  // Deno in CI: outputs received 300 ms after the answer were still the old width), so the
  // newest five are taken once outputs have kept coming for 2 s past the answer.
  const okAtMs = Date.now();
  await waitFor(
    () => w.band.filter((b) => b.atMs > okAtMs + 2000).length >= 5,
    15_000,
    "outputs after the change",
  );
  // The half-width is band_sigmas times the channel's current scale. The scale drifts with the
  // market's regimes (over seconds, before/after means gave ratios of 1.7 to 2.5 for the nominal
  // 4x in CI), but hardly moves over a frame or two; the change is a step of 12/3 (seen 2.7 to 4.8
  // between consecutive frames here). So the largest step over one or two frames since just
  // before the change is taken: about 4 with the change, about 1 without.
  const half = w.band.filter((b) => b.atMs >= sentAtMs - 2000).map((b) => b.half);
  let step = 0;
  for (let i = 1; i < half.length; i++) {
    step = Math.max(step, half[i]! / half[i - 1]!, half[i]! / half[Math.max(0, i - 2)]!);
  }
  assert.ok(step > 2, `largest band step over two frames ${step}, over ${half.length} frames`);
});

test("checklist and annotation edits appear on both pages", async () => {
  const { ana, bo } = w.pages;
  await ana.fill("#checklist input[name=step]", "check the feed");
  await ana.click("#checklist button[name=add-step]");
  await bo.waitForSelector('#checklist li.step:has-text("check the feed")', { timeout: 2000 });
  await bo.check('#checklist li.step:has-text("check the feed") input[type=checkbox]');
  await ana.waitForSelector('#checklist li.step[data-status="done"]:has-text("check the feed")', {
    timeout: 2000,
  });
  assert.match(await ana.textContent("#checklist li.step") ?? "", "(bo)");
  await bo.fill("#annotations input[name=channel]", "SYM002");
  await bo.fill("#annotations input[name=note]", "spike here");
  await bo.click("#annotations button[name=annotate]");
  await ana.waitForSelector(
    '#annotations li.annotation[data-channel="SYM002"]:has-text("spike here")',
    {
      timeout: 2000,
    },
  );
  assert.match(await ana.textContent("#annotations li.annotation") ?? "", "bo: spike here");
});

test("a viewer's writing controls are disabled (not the scan), and a write it forges is dropped by the server and counted", async () => {
  const { ana, vic } = w.pages;
  for (
    const sel of [
      "#thresholds button[name=set]",
      "#thresholds input[name=value]",
      "#checklist button[name=add-step]",
      "#annotations button[name=annotate]",
    ]
  ) {
    assert.ok(await vic.isDisabled(sel), `${sel} is disabled for a viewer`);
  }
  // A scan writes nothing shared: a viewer may run one.
  assert.ok(!(await vic.isDisabled("#scan button[name=start-scan]")));
  assert.ok(await vic.isDisabled("#checklist li.step input[type=checkbox]"));
  assert.match(await vic.textContent("#thresholds .readonly-note") ?? "", "viewer");
  const dropped = async () =>
    (await w.collab.server.metrics.viewerWritesDropped.get()).values.reduce(
      (a, v) => a + v.value,
      0,
    );
  const before = await dropped();
  await vic.evaluate(() => {
    (globalThis as unknown as PageTroupe).troupe.link.sdoc.setStep({
      id: "forged",
      title: "forged by a viewer",
      status: "done",
      assignee: "vic",
      due: 0,
    });
  });
  const end = Date.now() + 5000;
  while ((await dropped()) === before && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok((await dropped()) > before, "the server counted the viewer's write as dropped");
  await new Promise((r) => setTimeout(r, 300));
  assert.not.ok(w.collab.server.room(SESSION)!.sdoc.workflow.has("forged"));
  assert.not.ok(
    await ana.evaluate(() =>
      (globalThis as unknown as PageTroupe).troupe.link.sdoc.workflow.has("forged")
    ),
  );
});

test("a reload keeps everything: thresholds, checklist, annotations; the forged step is gone", async () => {
  const { bo, vic } = w.pages;
  await bo.reload();
  await bo.waitForSelector("#collab-status.up", { timeout: 15_000 });
  await bo.waitForSelector('#thresholds tr[data-key="anomaly/SYM001"][data-status="ok"]', {
    timeout: 5000,
  });
  await bo.waitForSelector('#checklist li.step[data-status="done"]:has-text("check the feed")', {
    timeout: 5000,
  });
  await bo.waitForSelector('#annotations li.annotation:has-text("spike here")', { timeout: 5000 });
  await vic.reload();
  await vic.waitForSelector('#checklist li.step:has-text("check the feed")', { timeout: 15_000 });
  assert.is(await vic.$('#checklist li.step[data-id="forged"]'), null);
});

test("under the live feed: a chart per channel fills through the gateway, events and gauges show, clicking an event focuses its chart; the screenshot is written", async () => {
  const { ana } = w.pages;
  await ana.waitForFunction(
    (n) => {
      const grid = (globalThis as unknown as PageTroupe).troupe.grid;
      const chs = grid.channels();
      return chs.length >= n && chs.every((c) => (grid.chart(c)?.points ?? 0) > 400);
    },
    CHANNELS,
    { timeout: 30_000 },
  );
  assert.equal(
    (await ana.$$eval(".card[data-channel]", (cs) => cs.map((c) => c.getAttribute("data-channel"))))
      .sort(),
    Array.from({ length: CHANNELS }, (_, i) => `SYM${String(i + 1).padStart(3, "0")}`),
  );
  await ana.waitForSelector("#gauges .gauge", { timeout: 20_000 });
  const ev = await ana.waitForSelector(
    '#events li.event[data-kind="anomaly"], #events li.event[data-kind="collapse"]',
    { timeout: 30_000 },
  );
  const channel = await ev.getAttribute("data-channel");
  const tMs = Number(await ev.getAttribute("data-t"));
  await ev.click();
  await ana.waitForSelector(`.card.focused[data-channel="${channel}"]`, { timeout: 2000 });
  const range = await ana.evaluate(
    (c) => (globalThis as unknown as PageTroupe).troupe.grid.chart(c)!.xRange(),
    channel!,
  );
  assert.ok(
    range.min <= tMs / 1000 && tMs / 1000 <= range.max,
    `${tMs} in ${JSON.stringify(range)}`,
  );
  await ana.click(`.card[data-channel="${channel}"] button.live`);
  // Let a few more frames in, then keep the picture.
  await new Promise((r) => setTimeout(r, 1500));
  const dir = fileURLToPath(ARTIFACTS);
  mkdirSync(dir, { recursive: true });
  await ana.screenshot({ path: join(dir, "dashboard.png"), fullPage: true });
  assert.ok(
    statSync(join(dir, "dashboard.png")).size > 20_000,
    "a screenshot with something in it",
  );
});

test("bench dashboard's floor drives every live view of the page: one frame per update, each timed", async () => {
  const { vic } = w.pages;
  const live = await vic.$$eval("canvas.live-plot", (cs) => cs.length);
  assert.is(live, CHANNELS, "a live-view canvas per chart");
  const f = await floorFrames(vic, { updates: 6, rate: 20, points: 10, span: 2000 });
  assert.is(f.canvases, CHANNELS);
  assert.is(f.times.length, 6);
  assert.ok(f.times.every((ms, i) => ms > 0 && ms >= f.scripts[i]!), JSON.stringify(f));
});

test("the actor journaled the control message", async () => {
  await w.host.close();
  const journal = await FileJournal.open(join(w.hostDir, "journal"), { fsync: "never" });
  let ctl = 0;
  try {
    for await (const rec of journal.read("anomaly/SYM001", 0)) {
      if (new TextDecoder().decode(rec.data).includes("troupe.ctl.anomaly.SYM001")) ctl++;
    }
  } finally {
    await journal.close();
  }
  assert.is(ctl, 1, "one threshold change, one journaled control message");
  assert.equal(w.errors, [], "no uncaught errors on the pages");
});

if (run) test.run();
