/**
 * `troupe bench dashboard`: how long the dashboard takes to apply one update to 16 live charts of
 * 2,000 points, in headless Chromium, with the updates coming through the stream gateway from NATS.
 *
 * A nats-server and a collab server with its gateway run here; the page is the real dashboard
 * (`/?session=...&token=...&backfill=0`). The bench publishes the anomaly actor's columns frames
 * (value, expected, band, score) for 16 channels: first 2,000 points each, then `--updates` rounds
 * of one `--points`-sample frame per channel, `--rate` rounds a second.
 *
 * Every page is timed the same way, per animation frame, as the user pays for it (FrameLoop's
 * `frameTimes`): its redraws and the browser's rendering of it up to the next task (where Chromium
 * rasterizes what was drawn into each canvas and commits it), plus the handling of each message.
 * A round's time is the sum, over the round (from its first message's arrival to the next
 * round's), of the message handling and of the frames that started in it, however the round's
 * messages fell into frames: on the main thread and, where the charts draw in the live-plot
 * worker, in the worker (its frames: taking the samples in, drawing, and the commit of its
 * OffscreenCanvases). Both parts are logged; the figure is their sum, though they run in parallel.
 *
 * - troupe (the page as it ships): messages are decoded into each chart's ring and the charts
 *   redraw once per frame (FrameLoop) on the page.
 * - worker (`&render=worker`, the same page with the live views drawn in the live-plot worker):
 *   the samples are also sent to the worker, which redraws the live views once per frame on
 *   OffscreenCanvases. Logged, not in the table.
 * - floor (the baseline of `frame_ms_p50`/`frame_ms_p99`, the bar's ratio <= 1.3): troupe's
 *   page, filled the same way, whose live-view canvases are then driven by the least a scrolling
 *   chart can do per update (see `_dashboard_floor.ts`): the browser's own cost of showing 16
 *   changed canvases.
 * - naive (`&mode=naive`, the same page, the baseline of `frame_ms_p99_vs_naive`): each message
 *   rebuilds that chart's data arrays from its window and redraws it at once, the way a dashboard
 *   without batching does it; the frame after it is timed the same way.
 *
 * `first_draw_ms` (the bar: <= 1500 ms, no baseline): from opening the URL of a fresh page, whose
 * gateway buffers what `charts` channels sent before (`prefill` points each, in frames of
 * `points`), to every one of those cards drawn (see `_dashboard_first_draw.ts`), once per round.
 *
 * The window is 1600x1200, which shows about 10 of the 16 cards (a card off screen paints nothing);
 * `--all-visible` makes each page's window as tall as the page, checks that every live view is on
 * screen, and names the frame rows `..._all_visible`. Each run's log says how many were on screen.
 *
 * `--bars` feeds the bars actor's closed bars with the samples (`_dashboard_series.ts`), to every
 * page alike, so that each card also keeps a candle strip on its line's range (`troupe up`'s market
 * cards do); the floor's page holds the same strips and, as with everything else, drives only its
 * live views. The frame rows are then named `..._bars`.
 *
 * `fleet_first_draw_ms` and `fleet_frame_ms_p99` (the bars: first draw <= 2 s, frame p99 within
 * 1.3x of the 16-channel figure): a page over `--fleet` labelled channels (2,000) against the
 * same page over 16, each round, each on a nats-server and collab server of its own
 * (`_dashboard_fleet.ts`); the baseline is the 16-channel page's figure of the same run. Every
 * channel of that feed stays in its band (a healthy fleet: the order holds still); with
 * `--fleet-out N` every N-th leaves it in turns, so the order moves, and the rows are named
 * `..._out`. Each round's log says too how many of its frames ran past a 60 Hz refresh.
 *
 * Both run in the same Chromium, alternated `--rounds` times (troupe, baseline, troupe, ...); each
 * figure is the median over rounds of that round's percentile, and the ranges are logged.
 */
import { launchCollab, mintToken } from "../collab/mod.ts";
import { outSubject } from "../protocol/mod.ts";
import { NatsBus } from "../actors/runtime/mod.ts";
import { type Benchmark, type BenchRow, row } from "./_bench.ts";
import { browserMissing, launchBrowser } from "./_browser.ts";
import { formatProfile, startProfile } from "./_cdp_profile.ts";
import { formatTrace, startTrace } from "./_cdp_trace.ts";
import { floorFrames } from "./_dashboard_floor.ts";
import { cardsShown } from "./_dashboard_on_screen.ts";
import { Figures, type RoundTimes } from "./_dashboard_figures.ts";
import { firstDrawMs } from "./_dashboard_first_draw.ts";
import { type FleetFigures, fleetFigures } from "./_dashboard_fleet.ts";
import { type Published, Series } from "./_dashboard_series.ts";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import type { Page } from "playwright-core";
import {
  DASHBOARD_OPTIONS,
  dashboardSettings,
  type Mode,
  type Settings,
} from "./_dashboard_options.ts";
import { startBenchNats } from "./_bench_nats.ts";
import { tempDir } from "./_temp_dir.ts";
import { median } from "./_median.ts";
import { sleep } from "./_sleep.ts";

const NAME = "dashboard";
const SESSION = "bench";
interface Frames {
  frameTimes: number[];
  frameScripts: number[];
  frameStarts: number[];
}

/** What the page exposes as `globalThis.troupe` (read inside `page.evaluate`). */
interface PageTroupe {
  troupe: {
    grid: {
      channels(): string[];
      candles(c: string): { bars: number } | undefined;
      chart(c: string): {
        points: number;
        livePaints(): { none: number; strip: number; full: number } | undefined;
      } | undefined;
    };
    loop: Frames & { frameCharges: number[] };
    liveWorker: (Frames & { postTimes: number[]; postStarts: number[] }) | undefined;
    messageTimes: number[];
    messageStarts: number[];
  };
}

async function runMode(
  mode: Mode,
  s: Settings,
  ctx: Env & { round: number },
): Promise<RoundTimes> {
  const page = await ctx.browser.newPage();
  try {
    const q = new URLSearchParams({
      session: SESSION,
      token: ctx.token,
      name: `bench-${mode}`,
      backfill: "0",
      ...(mode === "naive" ? { mode: "naive" } : {}),
      ...(mode === "worker" ? { render: "worker" } : {}),
    });
    await page.goto(`http://127.0.0.1:${ctx.port}/?${q}`);
    await page.waitForSelector("#stream-status.up", { timeout: 20_000 });
    // Subscribed, not only connected: with backfill=0, what is published before is never shown.
    await page.waitForSelector("body[data-stream-subscribed]", { timeout: 20_000 });
    const series = await fillPage(page, s, ctx.bus, `r${ctx.round}${mode}`);
    const onScreen = await cardsShown(page, mode, s.allVisible);
    const marks = await page.evaluate(() => {
      const t = (globalThis as unknown as PageTroupe).troupe;
      return {
        frames: t.loop.frameTimes.length,
        workerFrames: t.liveWorker?.frameTimes.length ?? 0,
        posts: t.liveWorker?.postTimes.length ?? 0,
        messages: t.messageTimes.length,
      };
    });
    const captured = await startCapture(page, s, ctx.round === 0 ? mode : undefined);
    if (mode === "floor") {
      const f = await floorFrames(page, { ...s, span: s.prefill });
      await captured();
      return { ...floorRound(f), onScreen };
    }
    const paints0 = await livePaints(page);
    const gapMs = 1000 / s.rate;
    const t0 = performance.now();
    // Messages per round: a frame per chart, and with --bars, the bars the round closes.
    const sizes: number[] = [];
    for (let u = 0; u < s.updates; u++) {
      let size = 0;
      for (const x of series) {
        const sent = feed(x, s.points, s.bars);
        publishAll(ctx.bus, sent);
        size += sent.length;
      }
      sizes.push(size);
      const wait = t0 + (u + 1) * gapMs - performance.now();
      if (wait > 0) await sleep(wait);
    }
    await sleep(1000);
    await captured();
    if (s.screenshot && ctx.round === 0) {
      const file = mode === "troupe"
        ? s.screenshot
        : s.screenshot.replace(/(\.png)?$/, `.${mode}.png`);
      // The worker's canvases come out empty in a full-page capture (which lays the page out
      // again; the worker draws no new frame for it), so that page is captured as shown.
      await page.screenshot({ path: file, fullPage: mode !== "worker" });
    }
    const times = await page.evaluate(roundTimes, [sizes, marks] as const);
    const paints = await livePaints(page);
    return {
      ...times,
      paints: { strip: paints.strip - paints0.strip, full: paints.full - paints0.full },
      onScreen,
    };
  } finally {
    await page.close();
  }
}

/**
 * Starts the CPU profile and the Chromium trace that `--profile` and `--trace` ask for, of the
 * first round's page of `mode` (none for undefined), the floor's included, so its frames can be
 * set beside troupe's; the returned function stops them and writes each to its file, F for troupe
 * and F.<mode> for the others.
 */
async function startCapture(
  page: Page,
  s: Settings,
  mode: Mode | undefined,
): Promise<() => Promise<void>> {
  const stopProfile = s.profile && mode ? await startProfile(page) : undefined;
  const stopTrace = s.trace && mode ? await startTrace(page) : undefined;
  const file = (f: string) => (mode === "troupe" ? f : `${f}.${mode}`);
  return async () => {
    if (stopProfile) writeFileSync(file(s.profile), formatProfile(await stopProfile(40)) + "\n");
    // 40 lines a thread: with --bars, the strips' events pushed the canvases' commit out of 25.
    const traced = stopTrace ? await stopTrace({ top: 40 }) : undefined;
    if (traced) writeFileSync(file(s.trace), formatTrace(traced) + "\n");
  };
}

/** Publishes `prefill` points to each of the page's `charts` channels (unique to this run:
 *  the gateway's buffer is not replayed, backfill=0) and waits until the page holds them. */
async function fillPage(page: Page, s: Settings, bus: NatsBus, prefix: string): Promise<Series[]> {
  const series = Array.from(
    { length: s.charts },
    (_, i) => new Series(`${prefix}c${String(i).padStart(2, "0")}`, Date.now() * 1000, i),
  );
  // Every series starts at one time, so each closes as many bars (none without --bars).
  let bars = 0;
  for (const x of series) {
    const sent = feed(x, s.prefill, s.bars);
    publishAll(bus, sent);
    bars = sent.length - 1;
  }
  await page.waitForFunction(
    ([n, want, bars]) => {
      const g = (globalThis as unknown as PageTroupe).troupe.grid;
      const chs = g.channels();
      // (candles() makes a card's strip: asked only when bars were sent.)
      return chs.length >= n &&
        chs.every((c) =>
          (g.chart(c)?.points ?? 0) >= want && (bars === 0 || (g.candles(c)?.bars ?? 0) >= bars)
        );
    },
    [s.charts, s.prefill, bars] as const,
    { timeout: 60_000 },
  );
  return series;
}

/** The next `n` samples of `x` as messages: its columns frame and, with `bars`, the bars it
 *  closes. */
function feed(x: Series, n: number, bars: boolean): Published[] {
  return bars
    ? x.frameAndBars(n)
    : [{ subject: outSubject("anomaly", x.channel), bytes: x.frame(n) }];
}

function publishAll(bus: NatsBus, messages: Published[]): void {
  for (const m of messages) bus.publish(m.subject, m.bytes);
}

/** The floor's frames as a round's figures: one frame per update, all on the main thread. */
function floorRound(f: Awaited<ReturnType<typeof floorFrames>>): Omit<RoundTimes, "onScreen"> {
  return {
    times: f.times,
    messages: f.times.map(() => 0),
    main: f.times,
    worker: f.times.map(() => 0),
    scripts: f.scripts,
    frames: f.times.map(() => 1),
    workerFrames: f.times.map(() => 0),
    paints: { strip: f.times.length * f.canvases, full: 0 },
  };
}

/** The page's live views' paints so far, summed over its charts (none in the baseline). */
async function livePaints(page: Page): Promise<{ strip: number; full: number }> {
  return await page.evaluate(() => {
    const g = (globalThis as unknown as PageTroupe).troupe.grid;
    const sum = { strip: 0, full: 0 };
    for (const c of g.channels()) {
      const p = g.chart(c)?.livePaints();
      sum.strip += p?.strip ?? 0;
      sum.full += p?.full ?? 0;
    }
    return sum;
  });
}

/**
 * Runs in the page: each round's time from the page's own lists, from `marks` on. Round k runs
 * from its first message's arrival to the next round's; every message of the round arrives in it
 * (the bench publishes a round at once, rounds 1/rate apart). The main thread's part is its
 * message handling in the round, its posts of samples to the worker, and its frames in the round
 * less what they charged of the messages (counted already); the worker's part is its frames in
 * the round. `sizes` says how many messages each round published.
 */
function roundTimes(
  [sizes, marks]: readonly [
    number[],
    { frames: number; workerFrames: number; posts: number; messages: number },
  ],
): Omit<RoundTimes, "paints" | "onScreen"> {
  const t = (globalThis as unknown as PageTroupe).troupe;
  const times = t.messageTimes.slice(marks.messages);
  const starts = t.messageStarts.slice(marks.messages);
  const out: Omit<RoundTimes, "paints" | "onScreen"> = {
    times: [],
    messages: [],
    main: [],
    worker: [],
    scripts: [],
    frames: [],
    workerFrames: [],
  };
  const inRound = (f: Frames, first: number, from: number, to: number) => {
    const r = { ms: 0, script: 0, count: 0, charged: 0 };
    for (let i = first; i < f.frameTimes.length; i++) {
      if (f.frameStarts[i]! < from || f.frameStarts[i]! >= to) continue;
      r.ms += f.frameTimes[i]!;
      r.script += f.frameScripts[i]!;
      r.charged += (f as Partial<PageTroupe["troupe"]["loop"]>).frameCharges?.[i] ?? 0;
      r.count++;
    }
    return r;
  };
  for (let r = 0, i = 0; r < sizes.length && i + sizes[r]! <= times.length; i += sizes[r++]!) {
    const n = sizes[r]!;
    const from = starts[i]!, to = starts[i + n] ?? Infinity;
    let messages = 0;
    for (let k = i; k < i + n; k++) messages += times[k]!;
    // The page's posts of the samples to the worker run in tasks of their own.
    const lw = t.liveWorker;
    for (let k = marks.posts; lw && k < lw.postTimes.length; k++) {
      if (lw.postStarts[k]! >= from && lw.postStarts[k]! < to) messages += lw.postTimes[k]!;
    }
    const main = inRound(t.loop, marks.frames, from, to);
    const worker = t.liveWorker
      ? inRound(t.liveWorker, marks.workerFrames, from, to)
      : { ms: 0, script: 0, count: 0, charged: 0 };
    const mainMs = messages + main.ms - main.charged;
    out.messages.push(messages);
    out.main.push(mainMs);
    out.worker.push(worker.ms);
    out.times.push(mainMs + worker.ms);
    out.scripts.push(messages + main.script - main.charged + worker.script);
    out.frames.push(main.count);
    out.workerFrames.push(worker.count);
  }
  return out;
}

/** What a run's rounds run against: the servers, the viewer's token, the bus and Chromium. */
interface Env {
  nats: string;
  dir: string;
  port: number;
  token: string;
  bus: NatsBus;
  browser: Awaited<ReturnType<typeof launchBrowser>>;
}

/**
 * The run's rounds: in each, a fresh page's first draw, then each page in turn (troupe, its
 * baselines), logged as they go; their logs' summaries at the end.
 */
async function measureRounds(
  s: Settings,
  env: Env,
  log: (line: string) => void,
): Promise<{ results: Map<Mode, Figures>; firstDraws: number[]; fleets: Fleets }> {
  const results = new Map<Mode, Figures>(s.modes.map((m) => [m, new Figures()]));
  const firstDraws: number[] = [];
  const fleets: Fleets = { few: [], many: [] };
  const feeds = new Map<string, Series>();
  const frame = (channel: string, n: number) => {
    let x = feeds.get(channel);
    if (!x) feeds.set(channel, x = new Series(channel, Date.now() * 1000 - 3600e6, feeds.size));
    return x.frame(n);
  };
  for (let round = 0; round < s.rounds; round++) {
    const first = await firstDrawMs(join(env.dir, `first-draw-${round}`), {
      ...s,
      nats: env.nats,
      bus: env.bus,
      browser: env.browser,
      round,
      frame,
    });
    firstDraws.push(first);
    log(`round ${round + 1} first draw of ${s.charts} cards: ${first.toFixed(0)} ms`);
    for (const mode of s.modes) {
      const r = await runMode(mode, s, { ...env, round });
      log(`round ${round + 1} ${mode}: ${results.get(mode)!.add(r, s.charts)}`);
    }
    if (s.fleet > 0) await measureFleets(s, { ...env, round }, fleets, log);
  }
  for (const [mode, f] of results) log(`${mode}: ${f.summary(s.rounds)}`);
  log(`first draw: ${firstDraws.map((x) => x.toFixed(0)).join(", ")} ms`);
  return { results, firstDraws, fleets };
}

/** The fleet pages' figures of each round: over FLEET_FEW channels, and over `--fleet`. */
interface Fleets {
  few: FleetFigures[];
  many: FleetFigures[];
}

/** The channels of the fleet figures' baseline page: today's 16 cards. */
const FLEET_FEW = 16;

/** One round's fleet pages, few then many, logged. */
async function measureFleets(
  s: Settings,
  env: Env & { round: number },
  fleets: Fleets,
  log: (line: string) => void,
): Promise<void> {
  for (const [n, list] of [[FLEET_FEW, fleets.few], [s.fleet, fleets.many]] as const) {
    const f = await fleetFigures(join(env.dir, `fleet-${env.round}-${n}`), {
      browser: env.browser,
      channels: n,
      prefill: s.fleetPrefill,
      points: s.points,
      updates: s.fleetUpdates,
      rate: s.fleetRate,
      out: s.fleetOut,
      profile: s.profile && env.round === 0 ? `${s.profile}.fleet-${n}` : "",
      trace: s.trace && env.round === 0 ? `${s.trace}.fleet-${n}` : "",
    });
    list.push(f);
    log(
      `round ${env.round + 1} fleet of ${n}: first draw ${f.firstDrawMs.toFixed(0)} ms, ` +
        `frame p99 ${f.frameMsP99.toFixed(2)} ms over ${f.frames} frames ` +
        `(${f.framesLong} over a 60 Hz refresh), ${f.cards} slots ` +
        `(${f.built} cards built); ` +
        `${f.messages} messages, ${f.messageMsMean.toFixed(3)} ms each`,
    );
  }
}

/**
 * The fleet rows: `--fleet` channels' figures over FLEET_FEW's (none when not run), named
 * `..._out` with `--fleet-out`.
 */
function fleetRows(fleets: Fleets, out: number): BenchRow[] {
  if (fleets.many.length === 0) return [];
  const figure = (list: FleetFigures[], of: (f: FleetFigures) => number) => median(list.map(of));
  return ([
    ["fleet_first_draw_ms", (f: FleetFigures) => f.firstDrawMs],
    ["fleet_frame_ms_p99", (f: FleetFigures) => f.frameMsP99],
  ] as const).map(([metric, of]) =>
    row({
      bench: NAME,
      metric: `${metric}${out > 0 ? "_out" : ""}`,
      unit: "ms",
      troupe: figure(fleets.many, of),
      baseline: figure(fleets.few, of),
      better: "lower",
    })
  );
}

/** The table's rows: the frame rows (the bar's over the floor, and over naive) and first draw. */
function dashboardRows(
  s: Settings,
  results: Map<Mode, Figures>,
  firstDraws: number[],
): BenchRow[] {
  const troupe = results.get("troupe")!, floor = results.get("floor");
  const naive = results.get("naive");
  const rows: Array<[string, (f: Figures) => number[], Figures | undefined]> = [
    // The bar: troupe's page over the floor (the same canvases driven by nothing but a copy).
    ["frame_ms_p50", (f) => f.p50, floor],
    ["frame_ms_p99", (f) => f.p99, floor],
    // What batching saves over a page that redraws a chart per message.
    ["frame_ms_p99_vs_naive", (f) => f.p99, naive],
  ];
  const diagnostic = s.chromiumFlags.length > 0;
  const frameRows = rows.map(([metric, of, base]) =>
    row({
      bench: NAME,
      metric: `${diagnostic ? "diag_" : ""}${metric}${s.allVisible ? "_all_visible" : ""}${
        s.bars ? "_bars" : ""
      }`,
      unit: "ms",
      troupe: median(of(troupe)),
      baseline: base ? median(of(base)) : null,
      better: "lower",
    })
  );
  return [
    ...frameRows,
    row({
      bench: NAME,
      metric: diagnostic ? "diag_first_draw_ms" : "first_draw_ms",
      unit: "ms",
      troupe: median(firstDraws),
      baseline: null,
      better: "lower",
    }),
  ];
}

export const benchmark: Benchmark = {
  name: NAME,
  summary: "Dashboard in headless Chromium: time to apply one update to 16 live charts of 2,000 " +
    "points through the gateway, against redrawing each chart per message",
  options: DASHBOARD_OPTIONS,
  async run(args, context): Promise<BenchRow[]> {
    const s = dashboardSettings(args);
    const missing = browserMissing();
    if (missing) throw new Error(`Cannot run benchmark "${NAME}": ${missing}`);
    const nats = await startBenchNats(NAME);
    const dir = tempDir("troupe-bench-dashboard-");
    const collab = await launchCollab({ dataDir: dir.path, nats: nats.url, bridge: false });
    const bus = await NatsBus.connect(nats.url, { name: "bench-dashboard" });
    const browser = await launchBrowser({ width: 1600, height: 1200, extraArgs: s.chromiumFlags });
    if (s.chromiumFlags.length > 0) {
      context.log(`diagnostic run: Chromium with ${s.chromiumFlags.join(" ")} added`);
    }
    try {
      const token = await mintToken(collab.keyring, {
        session: SESSION,
        role: "viewer",
        ttlS: 3600,
        nowMs: Date.now(),
      });
      const env = { nats: nats.url, dir: dir.path, port: collab.server.port, token, bus, browser };
      const { results, firstDraws, fleets } = await measureRounds(s, env, context.log);
      return [...dashboardRows(s, results, firstDraws), ...fleetRows(fleets, s.fleetOut)];
    } finally {
      await browser.cleanup();
      await bus.close();
      await collab.close();
      await nats.stop();
      dir.remove();
    }
  },
};
