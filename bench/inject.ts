/**
 * `troupe bench inject`: how closely the injector (`troupe inject`, sim/feeds inject()) holds the
 * rate it is asked for, publishing the synthetic market feed into a nats-server this benchmark
 * starts. For each asked rate (default 10k, 100k and 1M samples/s) it injects for `--seconds`
 * and reports achieved/asked: the figure is the rate achieved, the baseline the rate asked. The
 * server's own count of messages received (its /varz monitoring endpoint) is checked against the
 * frames published, so a rate "achieved" by frames that never reached the server would show; it
 * is read from the server rather than by a subscriber in this process, which would take CPU from
 * the injector it measures. With `--acks`, the feed goes into a JetStream stream and every frame is
 * published with acknowledgement, as `troupe inject` does when a stream keeps its subjects (the
 * metrics then end in `_acked`).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ensureFeedStream,
  freePort,
  JetStreamPublisher,
  NatsBus,
  NatsServer,
} from "../actors/runtime/mod.ts";
import { createFeed, inject } from "../sim/feeds/mod.ts";
import { type BenchContext, type Benchmark, type BenchRow, row } from "./_bench.ts";
import { BenchOptionError } from "./_bench_option_error.ts";
import { type OptionTable, readOptions } from "./_option_table.ts";
import { sleep } from "./_sleep.ts";
import { requireNatsServer } from "./_bench_nats.ts";

const NAME = "inject";

const OPTIONS = {
  rates: {
    help: "asked rates in samples/s, comma-separated",
    arg: "LIST",
    default: "10000,100000,1000000",
  },
  seconds: { help: "seconds per rate", arg: "S", default: 5, number: { min: 0.1 } },
  channels: {
    help: "symbols of the market feed (two channels each: price and volume)",
    default: 50,
    number: { min: 1, max: 10_000, integer: true },
  },
  batch: {
    help: "samples per frame (the feed's own is 100)",
    default: 100,
    number: { min: 1, max: 65_536, integer: true },
  },
  acks: {
    help: "on: into a JetStream stream, each frame acknowledged (metrics end in _acked)",
    arg: "on|off",
    default: "off",
    oneOf: ["on", "off"],
  },
} satisfies OptionTable;

export const benchmark: Benchmark = {
  name: NAME,
  summary:
    "achieved/asked sample rate of troupe inject into nats-server, at 10k, 100k and 1M samples/s",
  options: OPTIONS,
  async run(args: string[], ctx: BenchContext): Promise<BenchRow[]> {
    const o = readOptions(args, OPTIONS);
    const acks = o.acks === "on";
    const suffix = acks ? "_acked" : "";
    const rates = parseRates(o.rates);
    const { seconds, channels, batch } = o;

    requireNatsServer(NAME);
    const monitor = await freePort();
    // With acknowledgements, JetStream keeps the feed in a store of its own, removed at the end.
    const storeDir = acks ? mkdtempSync(join(tmpdir(), "troupe-bench-inject-")) : undefined;
    const server = await NatsServer.start({
      args: ["-m", String(monitor)],
      ...(storeDir === undefined ? {} : { storeDir }),
    });
    const inMsgs = async () => {
      const res = await fetch(`http://127.0.0.1:${monitor}/varz`);
      return ((await res.json()) as { in_msgs: number }).in_msgs;
    };
    const bus = await NatsBus.connect(server.url, { name: "bench-inject" });
    if (acks) await ensureFeedStream(bus.nc);
    try {
      const rows: BenchRow[] = [];
      let worst: { achieved: number; asked: number } | undefined;
      for (const rate of rates) {
        const achieved = await injectAt(rate, { bus, inMsgs, seconds, channels, batch, acks }, ctx);
        const ratio = achieved / rate;
        rows.push(
          row({
            bench: NAME,
            metric: `achieved_over_asked${suffix}_${label(rate)}`,
            unit: "samples/s",
            troupe: achieved,
            baseline: rate,
            better: "higher",
          }),
        );
        if (!worst || ratio < worst.achieved / worst.asked) {
          worst = { achieved, asked: rate };
        }
      }
      rows.unshift(
        row({
          bench: NAME,
          metric: `achieved_over_asked${suffix}`,
          unit: "samples/s",
          troupe: worst!.achieved,
          baseline: worst!.asked,
          better: "higher",
        }),
      );
      return rows;
    } finally {
      await bus.close().catch(() => {});
      await server.stop();
      if (storeDir !== undefined) rmSync(storeDir, { recursive: true, force: true });
    }
  },
};

/** The list of `--rates`, each a number > 0. */
function parseRates(list: string): number[] {
  return list.split(",").map((r) => {
    const x = Number(r);
    if (!Number.isFinite(x) || x <= 0) {
      throw new BenchOptionError(`Option --rates must list numbers > 0, got "${r}"`);
    }
    return x;
  });
}

/** What one rate's run needs: the bus, the server's message count, the feed's shape, acks. */
interface RateRun {
  bus: NatsBus;
  inMsgs: () => Promise<number>;
  seconds: number;
  channels: number;
  batch: number;
  acks: boolean;
}

/**
 * Injects the market feed at `rate` for the run's seconds, waits (up to 2 s) for the server to
 * count every frame, logs what was asked, achieved and received, and returns the achieved rate.
 */
async function injectAt(rate: number, run: RateRun, ctx: BenchContext): Promise<number> {
  const { bus, inMsgs } = run;
  const feed = createFeed("market", { channels: run.channels, seed: 1, batch: run.batch });
  const before = await inMsgs();
  const publisher = run.acks ? new JetStreamPublisher(bus.nc) : undefined;
  const r = await inject(bus, feed, {
    rate,
    durationS: run.seconds,
    ...(publisher === undefined ? {} : { publisher }),
  }).finally(() => publisher?.close());
  await bus.flush();
  let received = await inMsgs() - before;
  for (let waited = 0; received < r.frames && waited < 2000; waited += 50) {
    await sleep(50);
    received = await inMsgs() - before;
  }
  ctx.log(
    `inject: asked ${fmt(rate)}/s, achieved ${fmt(r.achievedRate)}/s (${
      (r.achievedRate / rate * 100).toFixed(2)
    }%), ${r.frames} frames${
      publisher ? ` (${publisher.counts.acked} acknowledged)` : ""
    }, ${received} received by the server, fell behind ${r.forgivenS.toFixed(2)} s`,
  );
  if (received < r.frames) {
    ctx.log(`inject: ${r.frames - received} frames published but not received by the server`);
  }
  return r.achievedRate;
}

/** `10k`, `1M`, `250k`, `1500`. */
function label(rate: number): string {
  if (rate >= 1e6 && rate % 1e6 === 0) return `${rate / 1e6}M`;
  if (rate >= 1e3 && rate % 1e3 === 0) return `${rate / 1e3}k`;
  return String(rate);
}

function fmt(x: number): string {
  return Math.round(x).toLocaleString("en-US");
}
