/**
 * The dashboard bench's `first_draw_ms`: from opening the dashboard's URL to every card drawn. A
 * collab server of its own (on the bench's nats-server) buffers what a live feed of `charts`
 * channels sent before the page opens (`prefill` points each, in frames of `points`); a fresh
 * page (as it ships: it starts from the snapshot of the gateway's buffer) is opened and timed
 * until each of those channels' cards holds its points and its live view has painted them.
 */
import { launchCollab, mintToken } from "../collab/mod.ts";
import { outSubject } from "../protocol/mod.ts";
import type { NatsBus } from "../actors/runtime/mod.ts";
import type { launchBrowser } from "./_browser.ts";
import { sleep } from "./_sleep.ts";

/** What the page exposes as `globalThis.troupe`, as far as this reads it. */
interface PageGrid {
  troupe: {
    grid: {
      channels(): string[];
      chart(c: string): {
        points: number;
        livePaints(): { full: number; strip: number } | undefined;
      } | undefined;
    };
  };
}

/** Options of `firstDrawMs`. */
export interface FirstDrawOptions {
  nats: string;
  bus: NatsBus;
  browser: Awaited<ReturnType<typeof launchBrowser>>;
  charts: number;
  prefill: number;
  points: number;
  /** Unique per measurement: names its channels. */
  round: number;
  /** One channel's frame of `n` samples. */
  frame(channel: string, n: number): Uint8Array;
}

/** Milliseconds from `page.goto` to every card drawn. */
export async function firstDrawMs(dataDir: string, o: FirstDrawOptions): Promise<number> {
  const collab = await launchCollab({ dataDir, nats: o.nats, bridge: false });
  try {
    const channels = Array.from(
      { length: o.charts },
      (_, i) => `fd${o.round}c${String(i).padStart(2, "0")}`,
    );
    await collab.bus!.flush();
    let sent = 0;
    for (let done = 0; done < o.prefill; done += o.points) {
      const n = Math.min(o.points, o.prefill - done);
      for (const c of channels) {
        o.bus.publish(outSubject("anomaly", c), o.frame(c, n));
        sent++;
      }
    }
    await o.bus.flush();
    for (let i = 0; i < 500 && collab.stream!.stats().received < sent; i++) await sleep(20);
    const token = await mintToken(collab.keyring, {
      session: "bench-first-draw",
      role: "viewer",
      ttlS: 3600,
      nowMs: Date.now(),
    });
    const page = await o.browser.newPage();
    try {
      const url = `http://127.0.0.1:${collab.server.port}/?session=bench-first-draw&token=${token}`;
      const t0 = performance.now();
      await page.goto(url);
      await page.waitForFunction(
        ([chs, want]) => {
          const g = (globalThis as unknown as PageGrid).troupe?.grid;
          return g !== undefined && chs.every((c) => {
            const chart = g.channels().includes(c) ? g.chart(c) : undefined;
            const paints = chart?.livePaints();
            return (chart?.points ?? 0) >= want && (paints?.full ?? 0) + (paints?.strip ?? 0) > 0;
          });
        },
        [channels, o.prefill] as const,
        { timeout: 60_000, polling: "raf" },
      );
      return performance.now() - t0;
    } finally {
      await page.close();
    }
  } finally {
    await collab.close();
  }
}
