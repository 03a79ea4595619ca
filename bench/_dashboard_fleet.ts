/**
 * The dashboard bench's fleet figures: a page over `channels` labelled channels (a node exporter's
 * shape: `instance` and `job` in the channel record, as a metrics receiver writes them) against the
 * same page over 16, each measured the same way on a nats-server (with JetStream, for the record)
 * and a collab server of its own, so that one run's record never shows in another's page.
 *
 * - first draw: every channel has sent `prefill` points before the page opens (the gateway holds
 *   them; a fresh page starts from that snapshot); from opening the URL to the page having scored
 *   every channel, given a slot to each of the first 64 of the fleet's order, and built every
 *   card in the window (past 16 slots, those far off screen stay placeholders), each holding
 *   points and painted.
 * - frame time: then `updates` rounds, `rate` a second, of one frame of `points` samples per
 *   channel; a frame's cost is what the page's main thread spent on it: the frame itself
 *   (FrameLoop's `frameTimes`: the redraws and the browser's rendering up to the next task) and
 *   the messages handled since the frame before (decoding, scoring, appending). Its p99 over the
 *   frames of the feed. With `out`, every `out`-th channel's samples leave its band in turns,
 *   so that the order moves as a fleet's does when some of it is out of the ordinary.
 */
import { launchCollab, mintToken } from "../collab/mod.ts";
import { outSubject } from "../protocol/mod.ts";
import { NatsBus } from "../actors/runtime/mod.ts";
import { openChannelLabels } from "../actors/ingest/mod.ts";
import type { launchBrowser } from "./_browser.ts";
import { startBenchNats } from "./_bench_nats.ts";
import { Series } from "./_dashboard_series.ts";
import { sleep } from "./_sleep.ts";
import { formatProfile, startProfile } from "./_cdp_profile.ts";
import { formatTrace, startTrace } from "./_cdp_trace.ts";
import { writeFileSync } from "node:fs";

/** Options of `fleetFigures`. */
export interface FleetOptions {
  browser: Awaited<ReturnType<typeof launchBrowser>>;
  channels: number;
  prefill: number;
  points: number;
  updates: number;
  rate: number;
  /** Every `out`-th channel (from the first) leaves its band in turns (`Series`); 0: none. */
  out: number;
  /** Where to write a summary of a CPU profile of the page (its first draw and feed), or "". */
  profile: string;
  /** Where to write a summary of a Chromium trace of the page's feed (after its first draw),
   *  or "". */
  trace: string;
}

/** What one page over a fleet measured. */
export interface FleetFigures {
  firstDrawMs: number;
  frameMsP99: number;
  frames: number;
  /** Frames whose work ran past a 60 Hz refresh (LONG_FRAME_MS): each one the reader sees. */
  framesLong: number;
  /** The grid's slots, and of them the cards built (near the window) at the end of the feed. */
  cards: number;
  built: number;
  /** The messages handled during the feed, and the mean time one took, ms. */
  messages: number;
  messageMsMean: number;
}

/** What the page exposes as `globalThis.troupe`, as far as this reads it. */
interface FleetPage {
  troupe: {
    index: { size: number };
    grid: {
      channels(): string[];
      built(): string[];
      chart(c: string): {
        points: number;
        livePaints(): { full: number; strip: number } | undefined;
      } | undefined;
    };
    loop: { frameTimes: number[]; frameCharges: number[]; frameStarts: number[] };
    messageTimes: number[];
    messageStarts: number[];
  };
}

/** A 60 Hz display's refresh interval, ms: a frame whose work runs past it misses one. */
const LONG_FRAME_MS = 1000 / 60;

/** Instances a fleet's channels are spread over (as many series each as `channels / 50`). */
const INSTANCES = 50;

/** Measures a page over `o.channels` labelled channels (see the module's note). */
export async function fleetFigures(dir: string, o: FleetOptions): Promise<FleetFigures> {
  const nats = await startBenchNats("dashboard", `${dir}/nats`);
  const collab = await launchCollab({ dataDir: `${dir}/collab`, nats: nats.url, bridge: false });
  const bus = await NatsBus.connect(nats.url, { name: "bench-dashboard-fleet" });
  try {
    const series = await recordFleet(bus, o.channels, o.out);
    let sent = 0;
    for (const x of series) {
      bus.publish(outSubject("anomaly", x.channel), x.frame(o.prefill));
      sent++;
    }
    await bus.flush();
    for (let i = 0; i < 500 && collab.stream!.stats().received < sent; i++) await sleep(20);
    const token = await mintToken(collab.keyring, {
      session: "bench-fleet",
      role: "viewer",
      ttlS: 3600,
      nowMs: Date.now(),
    });
    const page = await o.browser.newPage();
    const stopProfile = o.profile ? await startProfile(page) : undefined;
    try {
      const t0 = performance.now();
      await page.goto(`http://127.0.0.1:${collab.server.port}/?session=bench-fleet&token=${token}`);
      await page.waitForFunction(drawn, o.channels, { timeout: 60_000, polling: "raf" });
      const firstDrawMs = performance.now() - t0;
      const stopTrace = o.trace ? await startTrace(page) : undefined;
      // Collected each round: the page keeps its last few thousand message times only.
      const costs: number[] = [];
      let from = await page.evaluate(() => performance.now());
      let messages = 0, messageMs = 0;
      const collect = async () => {
        const got = await page.evaluate(frameCosts, from);
        costs.push(...got.costs);
        messages += got.messages;
        messageMs += got.messageMs;
        from = got.to;
      };
      const gapMs = 1000 / o.rate, start = performance.now();
      for (let u = 0; u < o.updates; u++) {
        for (const x of series) bus.publish(outSubject("anomaly", x.channel), x.frame(o.points));
        await collect();
        const wait = start + (u + 1) * gapMs - performance.now();
        if (wait > 0) await sleep(wait);
      }
      await sleep(1000);
      await collect();
      if (stopTrace) writeFileSync(o.trace, formatTrace(await stopTrace({ top: 40 })) + "\n");
      if (stopProfile) writeFileSync(o.profile, formatProfile(await stopProfile(40)) + "\n");
      const { cards, built } = await page.evaluate(() => {
        const grid = (globalThis as unknown as FleetPage).troupe.grid;
        return { cards: grid.channels().length, built: grid.built().length };
      });
      const sorted = [...costs].sort((a, b) => a - b);
      const p99 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0;
      return {
        firstDrawMs,
        frameMsP99: p99,
        frames: costs.length,
        framesLong: costs.filter((c) => c > LONG_FRAME_MS).length,
        cards,
        built,
        messages,
        messageMsMean: messages > 0 ? messageMs / messages : 0,
      };
    } finally {
      await page.close();
    }
  } finally {
    await bus.close();
    await collab.close();
    await nats.stop();
  }
}

/**
 * Writes `n` channels' labels to the channel record, as a receiver admits them; their feeds,
 * every `out`-th leaving its band in turns (0: none).
 */
async function recordFleet(bus: NatsBus, n: number, out: number): Promise<Series[]> {
  const book = await openChannelLabels(bus, { read: false });
  const series: Series[] = [];
  const now = Date.now() * 1000;
  try {
    const puts: Promise<void>[] = [];
    for (let k = 0; k < n; k++) {
      const host = `host${k % INSTANCES}`, metric = `node_metric${Math.floor(k / INSTANCES)}_bytes`;
      const channel = `${host}_9100-node-${metric}`;
      series.push(new Series(channel, now - 3600e6, k, out > 0 && k % out === 0));
      puts.push(book.put(channel, [
        { name: "__name__", value: metric },
        { name: "instance", value: `${host}:9100` },
        { name: "job", value: "node" },
      ]));
      if (puts.length >= 256) await Promise.all(puts.splice(0));
    }
    await Promise.all(puts);
  } finally {
    await book.close();
  }
  return series;
}

/**
 * Runs in the page: whether every channel is scored, the grid holds its slots, no slot in the
 * window is still a placeholder, and every card built holds points and painted.
 */
function drawn(channels: number): boolean {
  const t = (globalThis as unknown as FleetPage).troupe;
  if (!t?.index || t.index.size < channels) return false;
  if (t.grid.channels().length < Math.min(channels, 64)) return false;
  for (const slot of document.querySelectorAll<HTMLElement>("#charts .card-slot")) {
    const r = slot.getBoundingClientRect();
    if (!slot.hidden && r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth) {
      return false;
    }
  }
  const cards = t.grid.built();
  return cards.length > 0 && cards.every((c) => {
    const chart = t.grid.chart(c), paints = chart?.livePaints();
    return (chart?.points ?? 0) > 0 && (paints?.full ?? 0) + (paints?.strip ?? 0) > 0;
  });
}

/**
 * Runs in the page: the cost of each frame that started after `from` (page time, ms), with the
 * messages handled between the frame before it and it; and the start of the last frame taken.
 */
function frameCosts(
  from: number,
): { costs: number[]; to: number; messages: number; messageMs: number } {
  const t = (globalThis as unknown as FleetPage).troupe;
  const starts = t.loop.frameStarts, ms = t.messageStarts;
  const costs: number[] = [];
  let count = 0, total = 0;
  let before = from, m = ms.findIndex((x) => x > from);
  if (m < 0) m = ms.length;
  for (let i = 0; i < starts.length; i++) {
    const at = starts[i]!;
    if (at <= from) continue;
    let messages = 0;
    while (m < ms.length && ms[m]! <= at) {
      if (ms[m]! > before) {
        messages += t.messageTimes[m]!;
        total += t.messageTimes[m]!;
        count++;
      }
      m++;
    }
    // The loop's frame time holds the messages it was charged: those are counted here instead.
    costs.push(t.loop.frameTimes[i]! - t.loop.frameCharges[i]! + messages);
    before = at;
  }
  return { costs, to: before, messages: count, messageMs: total };
}
