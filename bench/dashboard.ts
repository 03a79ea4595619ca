/**
 * `troupe bench dashboard`: how long the dashboard takes to apply one update to 16 live charts of
 * 2,000 points, in headless Chromium, with the updates coming through the stream gateway from NATS.
 *
 * A nats-server and a collab server with its gateway run here; the page is the real dashboard
 * (`/?session=...&token=...&backfill=0`). The bench publishes the anomaly actor's columns frames
 * (value, expected, band, score) for 16 channels: first 2,000 points each, then `--updates` rounds
 * of one `--points`-sample frame per channel, `--rate` rounds a second.
 *
 * Both pages are timed the same way, per animation frame, as the user pays for it (FrameLoop's
 * `frameTimes`): the message handling charged to the frame, its redraws, and the browser's
 * rendering of it on the main thread up to the next task (where Chromium rasterizes what was drawn
 * into each canvas). A round's time is the sum over the frames that started between its first
 * message and the next round's, however the round's messages fell into frames.
 *
 * - troupe (the page as it ships): messages are decoded into each chart's ring and the charts
 *   redraw once per frame (FrameLoop).
 * - baseline (`&mode=naive`, the same page): each message rebuilds that chart's data arrays from
 *   its window and redraws it at once, the way a dashboard without batching does it; the frame
 *   after it is timed the same way.
 *
 * Both run in the same Chromium, alternated `--rounds` times (troupe, baseline, troupe, ...); each
 * figure is the median over rounds of that round's percentile, and the ranges are logged.
 */
import { launchCollab, mintToken } from "../collab/mod.ts";
import { encodeColumns } from "../protocol/mod.ts";
import { NatsBus } from "../actors/runtime/mod.ts";
import { type Benchmark, BenchOptionError, type BenchRow, percentile, row } from "./_bench.ts";
import { browserMissing, launchBrowser } from "./_browser.ts";
import { formatProfile, startProfile } from "./_cdp_profile.ts";
import { formatTrace, startTrace } from "./_cdp_trace.ts";
import { writeFileSync } from "node:fs";
import { median, numberOption, parseOptions, sleep, startBenchNats, tempDir } from "./_cluster.ts";

const NAME = "dashboard";
const SESSION = "bench";
const MODES = ["troupe", "naive"] as const;
type Mode = typeof MODES[number];

interface Settings {
  charts: number;
  prefill: number;
  points: number;
  updates: number;
  rate: number;
  rounds: number;
  /** Where to write a summary of a CPU profile of troupe's page (the first round), or "". */
  profile: string;
  /** Where to write a screenshot of troupe's page after the first round, or "". */
  screenshot: string;
  /** Where to write a summary of a Chromium trace of the first round's pages, or "". */
  trace: string;
  /** The pages run: both, or troupe's alone (no baseline: for profiling and quick comparisons). */
  modes: readonly Mode[];
}

/** What the page exposes as `globalThis.troupe` (read inside `page.evaluate`). */
interface PageTroupe {
  troupe: {
    grid: { channels(): string[]; chart(c: string): { points: number } | undefined };
    loop: { frameTimes: number[]; frameScripts: number[]; frameStarts: number[] };
    messageTimes: number[];
    messageStarts: number[];
  };
}

function options(args: string[]): Settings {
  const v = parseOptions(args, {
    charts: { type: "string" },
    prefill: { type: "string" },
    points: { type: "string" },
    updates: { type: "string" },
    rate: { type: "string" },
    rounds: { type: "string" },
    profile: { type: "string" },
    screenshot: { type: "string" },
    trace: { type: "string" },
    modes: { type: "string" },
  });
  return {
    charts: numberOption(v, "charts", 16, { min: 1, max: 64, integer: true }),
    prefill: numberOption(v, "prefill", 2000, { min: 10, max: 2000, integer: true }),
    points: numberOption(v, "points", 10, { min: 1, max: 1000, integer: true }),
    updates: numberOption(v, "updates", 150, { min: 20, integer: true }),
    rate: numberOption(v, "rate", 5, { min: 0.5, max: 60 }),
    rounds: numberOption(v, "rounds", 3, { min: 1, max: 20, integer: true }),
    profile: v.profile ?? "",
    screenshot: v.screenshot ?? "",
    trace: v.trace ?? "",
    modes: modesOption(v.modes),
  };
}

function modesOption(value: string | undefined): readonly Mode[] {
  if (value === undefined || value === "troupe,naive") return MODES;
  if (value === "troupe") return ["troupe"];
  throw new BenchOptionError(
    `Option --modes must be "troupe,naive" or "troupe", got ${JSON.stringify(value)}`,
  );
}

/** One channel's frames: a wandering value with its expected value and band. */
class Series {
  #t: number;
  #v = 100;
  #seq = 0;
  constructor(readonly channel: string, startUs: number, readonly phase: number) {
    this.#t = startUs;
  }

  frame(n: number): Uint8Array {
    const t = new Float64Array(n), value = new Float64Array(n), expected = new Float64Array(n);
    const lower = new Float64Array(n), upper = new Float64Array(n), score = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      this.#t += 100_000;
      this.#v += Math.sin((this.#seq + i) / 37 + this.phase) * 0.8 + Math.cos((this.#seq + i) / 5);
      t[i] = this.#t;
      value[i] = this.#v;
      expected[i] = this.#v - Math.sin((this.#seq + i) / 11);
      lower[i] = expected[i]! - 3;
      upper[i] = expected[i]! + 3;
      score[i] = 0.1;
    }
    const seq0 = this.#seq;
    this.#seq += n;
    return encodeColumns(
      { channel: this.channel, seq0, t, columns: { score, expected, lower, upper, value } },
      { id: `bench:${this.channel}:${seq0}`, src: "bench-dashboard" },
    );
  }
}

async function runMode(
  mode: Mode,
  s: Settings,
  ctx: {
    port: number;
    token: string;
    bus: NatsBus;
    browser: Awaited<ReturnType<typeof launchBrowser>>;
    round: number;
  },
): Promise<{ times: number[]; scripts: number[]; frames: number[] }> {
  const page = await ctx.browser.newPage();
  try {
    const q = new URLSearchParams({
      session: SESSION,
      token: ctx.token,
      name: `bench-${mode}`,
      backfill: "0",
      ...(mode === "naive" ? { mode: "naive" } : {}),
    });
    await page.goto(`http://127.0.0.1:${ctx.port}/?${q}`);
    await page.waitForSelector("#stream-status.up", { timeout: 20_000 });
    // Subscribed, not only connected: with backfill=0, what is published before is never shown.
    await page.waitForSelector("body[data-stream-subscribed]", { timeout: 20_000 });
    // Channels unique to this run: the gateway's buffer is not replayed (backfill=0) anyway.
    const series = Array.from(
      { length: s.charts },
      (_, i) =>
        new Series(`r${ctx.round}${mode}c${String(i).padStart(2, "0")}`, Date.now() * 1000, i),
    );
    for (const x of series) ctx.bus.publish(`troupe.out.anomaly.${x.channel}`, x.frame(s.prefill));
    await page.waitForFunction(
      ([n, want]) => {
        const g = (globalThis as unknown as PageTroupe).troupe.grid;
        const chs = g.channels();
        return chs.length >= n && chs.every((c) => (g.chart(c)?.points ?? 0) >= want);
      },
      [s.charts, s.prefill] as const,
      { timeout: 60_000 },
    );
    await sleep(300);
    const marks = await page.evaluate(() => {
      const t = (globalThis as unknown as PageTroupe).troupe;
      return { frames: t.loop.frameTimes.length, messages: t.messageTimes.length };
    });
    const gapMs = 1000 / s.rate;
    const stopProfile = s.profile && ctx.round === 0 ? await startProfile(page) : undefined;
    const stopTrace = s.trace && ctx.round === 0 ? await startTrace(page) : undefined;
    const t0 = performance.now();
    for (let u = 0; u < s.updates; u++) {
      for (const x of series) ctx.bus.publish(`troupe.out.anomaly.${x.channel}`, x.frame(s.points));
      const wait = t0 + (u + 1) * gapMs - performance.now();
      if (wait > 0) await sleep(wait);
    }
    await sleep(1000);
    if (stopProfile) {
      const file = mode === "troupe" ? s.profile : `${s.profile}.${mode}`;
      writeFileSync(file, formatProfile(await stopProfile(40)) + "\n");
    }
    if (stopTrace) {
      const file = mode === "troupe" ? s.trace : `${s.trace}.${mode}`;
      writeFileSync(file, formatTrace(await stopTrace()) + "\n");
    }
    if (s.screenshot && ctx.round === 0) {
      const file = mode === "troupe"
        ? s.screenshot
        : s.screenshot.replace(/(\.png)?$/, ".naive.png");
      await page.screenshot({ path: file, fullPage: true });
    }
    return await page.evaluate(([n, firstFrame, firstMessage]) => {
      const t = (globalThis as unknown as PageTroupe).troupe;
      const times = t.messageTimes.slice(firstMessage);
      const starts = t.messageStarts.slice(firstMessage);
      const out: number[] = [], scripts: number[] = [], frames: number[] = [];
      // Round k runs from its first message's arrival to the next round's; every message of the
      // round arrives in it (the bench publishes a round at once, rounds 1/rate apart).
      for (let i = 0; i + n <= times.length; i += n) {
        let sum = 0, script = 0, count = 0;
        const from = starts[i]!, to = starts[i + n] ?? Infinity;
        const { frameTimes, frameScripts, frameStarts } = t.loop;
        for (let f = firstFrame; f < frameTimes.length; f++) {
          if (frameStarts[f]! < from || frameStarts[f]! >= to) continue;
          sum += frameTimes[f]!;
          script += frameScripts[f]!;
          count++;
        }
        out.push(sum);
        scripts.push(script);
        frames.push(count);
      }
      return { times: out, scripts, frames };
    }, [s.charts, marks.frames, marks.messages] as const);
  } finally {
    await page.close();
  }
}

export const benchmark: Benchmark = {
  name: NAME,
  summary: "Dashboard in headless Chromium: time to apply one update to 16 live charts of 2,000 " +
    "points through the gateway, against redrawing each chart per message",
  usage: [
    "--charts N    charts updated each round (default 16)",
    "--prefill N   points each chart holds before measuring (default 2000)",
    "--points N    samples per update frame (default 10)",
    "--updates N   rounds of updates measured per run (default 150)",
    "--rate R      rounds a second (default 5)",
    "--rounds N    alternations of troupe and the baseline (default 3)",
    "--profile F   write the functions with the most self time in the first round's pages to F " +
    "(troupe) and F.naive",
    "--screenshot F  write a screenshot of the first round's troupe page to F (and the baseline's)",
    "--trace F     write where the first round's pages spent their time, per thread, from a " +
    "Chromium trace, to F (troupe) and F.naive",
    "--modes M     troupe,naive (default) or troupe: troupe's page alone, no baseline figures",
  ].join("\n"),
  async run(args, context): Promise<BenchRow[]> {
    const s = options(args);
    const missing = browserMissing();
    if (missing) throw new Error(`Cannot run benchmark "${NAME}": ${missing}`);
    const nats = await startBenchNats(NAME);
    const dir = tempDir("troupe-bench-dashboard-");
    const collab = await launchCollab({ dataDir: dir.path, nats: nats.url, bridge: false });
    const bus = await NatsBus.connect(nats.url, { name: "bench-dashboard" });
    const browser = await launchBrowser({ width: 1600, height: 1200 });
    const results: Record<Mode, { p50: number[]; p99: number[]; n: number[] }> = {
      troupe: { p50: [], p99: [], n: [] },
      naive: { p50: [], p99: [], n: [] },
    };
    try {
      const token = await mintToken(collab.keyring, {
        session: SESSION,
        role: "viewer",
        ttlS: 3600,
        nowMs: Date.now(),
      });
      for (let round = 0; round < s.rounds; round++) {
        for (const mode of s.modes) {
          const { times, scripts, frames } = await runMode(mode, s, {
            port: collab.server.port,
            token,
            bus,
            browser,
            round,
          });
          const sorted = [...times].sort((a, b) => a - b);
          const script = [...scripts].sort((a, b) => a - b);
          const r = results[mode];
          r.p50.push(percentile(sorted, 50));
          r.p99.push(percentile(sorted, 99));
          r.n.push(sorted.length);
          context.log(
            `round ${round + 1} ${mode}: ${sorted.length} updates of ${s.charts} charts, ` +
              `p50 ${percentile(sorted, 50).toFixed(2)} ms, p99 ${
                percentile(sorted, 99).toFixed(2)
              } ms, worst ${
                sorted.slice(-3).map((x) => x.toFixed(1)).join(", ")
              } ms (script alone ` +
              `p50 ${percentile(script, 50).toFixed(2)}, p99 ${
                percentile(script, 99).toFixed(2)
              } ms; frames per update ${
                (frames.reduce((a, b) => a + b, 0) / frames.length).toFixed(2)
              })`,
          );
        }
      }
    } finally {
      await browser.cleanup();
      await bus.close();
      await collab.close();
      await nats.stop();
      dir.remove();
    }
    const range = (xs: number[]) => `${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)}`;
    for (const mode of s.modes) {
      context.log(
        `${mode}: p50 ${range(results[mode].p50)} ms, p99 ${range(results[mode].p99)} ms over ` +
          `${s.rounds} rounds (updates measured per round: ${results[mode].n.join(", ")})`,
      );
    }
    return [
      row({
        bench: NAME,
        metric: "frame_ms_p50",
        unit: "ms",
        troupe: median(results.troupe.p50),
        baseline: s.modes.length === 1 ? null : median(results.naive.p50),
        better: "lower",
      }),
      row({
        bench: NAME,
        metric: "frame_ms_p99",
        unit: "ms",
        troupe: median(results.troupe.p99),
        baseline: s.modes.length === 1 ? null : median(results.naive.p99),
        better: "lower",
      }),
    ];
  },
};
