/**
 * `troupe bench inject`: how closely the injector (`troupe inject`, sim/feeds inject()) holds the
 * rate it is asked for, publishing the synthetic market feed into a nats-server this benchmark
 * starts. For each asked rate (default 10k, 100k and 1M samples/s) it injects for `--seconds`
 * and reports achieved/asked: the figure is the rate achieved, the baseline the rate asked. A
 * subscriber on its own connection counts the frames that reach the server and come back, so a
 * rate "achieved" by frames that never left the process would show.
 */
import { NatsBus } from "../actors/runtime/nats_bus.ts";
import { createFeed, inject } from "../sim/feeds/mod.ts";
import { type BenchContext, type Benchmark, type BenchRow, row } from "./_bench.ts";
import { numberOption, parseOptions, sleep, startBenchNats } from "./_cluster.ts";
import { UsageError } from "../cli/args.ts";

const NAME = "inject";

export const benchmark: Benchmark = {
  name: NAME,
  summary:
    "achieved/asked sample rate of troupe inject into nats-server, at 10k, 100k and 1M samples/s",
  usage: [
    "  --rates LIST    asked rates in samples/s, comma-separated (default 10000,100000,1000000)",
    "  --seconds S     seconds per rate (default 5)",
    "  --channels N    symbols of the market feed (default 50: 100 channels with volumes)",
    "  --batch N       samples per frame (default 100, the feed's)",
  ].join("\n"),
  async run(args: string[], ctx: BenchContext): Promise<BenchRow[]> {
    const o = parseOptions(args, {
      rates: { type: "string" },
      seconds: { type: "string" },
      channels: { type: "string" },
      batch: { type: "string" },
    });
    const rates = (o.rates ?? "10000,100000,1000000").split(",").map((r) => {
      const x = Number(r);
      if (!Number.isFinite(x) || x <= 0) {
        throw new UsageError(`Option --rates must list numbers > 0, got "${r}"`);
      }
      return x;
    });
    const seconds = numberOption(o, "seconds", 5, { min: 0.1 });
    const channels = numberOption(o, "channels", 50, { min: 1, max: 10_000, integer: true });
    const batch = numberOption(o, "batch", 100, { min: 1, max: 65_536, integer: true });

    const server = await startBenchNats(NAME);
    const bus = await NatsBus.connect(server.url, { name: "bench-inject" });
    const counter = await NatsBus.connect(server.url, { name: "bench-inject-counter" });
    let received = 0;
    counter.subscribe("troupe.feed.>", () => received++);
    await counter.flush();
    try {
      const rows: BenchRow[] = [];
      let worst: { achieved: number; asked: number } | undefined;
      for (const rate of rates) {
        const feed = createFeed("market", { channels, seed: 1, batch });
        received = 0;
        const r = await inject(bus, feed, { rate, durationS: seconds });
        await bus.flush();
        // Let the counter's last frames arrive.
        for (let waited = 0; received < r.frames && waited < 2000; waited += 20) await sleep(20);
        const ratio = r.achievedRate / rate;
        ctx.log(
          `inject: asked ${fmt(rate)}/s, achieved ${fmt(r.achievedRate)}/s (${
            (ratio * 100).toFixed(2)
          }%), ${r.frames} frames, ${received} delivered, fell behind ${r.forgivenS.toFixed(2)} s`,
        );
        if (received < r.frames) {
          ctx.log(`inject: ${r.frames - received} frames published but not delivered back`);
        }
        rows.push(
          row(
            NAME,
            `achieved_over_asked_${label(rate)}`,
            "samples/s",
            r.achievedRate,
            rate,
            "higher",
          ),
        );
        if (!worst || ratio < worst.achieved / worst.asked) {
          worst = { achieved: r.achievedRate, asked: rate };
        }
      }
      rows.unshift(
        row(NAME, "achieved_over_asked", "samples/s", worst!.achieved, worst!.asked, "higher"),
      );
      return rows;
    } finally {
      await bus.close().catch(() => {});
      await counter.close().catch(() => {});
      await server.stop();
    }
  },
};

/** `10k`, `1M`, `250k`, `1500`. */
function label(rate: number): string {
  if (rate >= 1e6 && rate % 1e6 === 0) return `${rate / 1e6}M`;
  if (rate >= 1e3 && rate % 1e3 === 0) return `${rate / 1e3}k`;
  return String(rate);
}

function fmt(x: number): string {
  return Math.round(x).toLocaleString("en-US");
}
