/**
 * `troupe bench history`: how fast `GET /history` answers a day of a channel. A JetStream
 * nats-server is given 24 h of `--channels` channels (default 16) at one sample a second, in
 * frames of `--frame` samples (default 60: a minute a frame), in its feed stream; a collab server
 * on it answers "the whole day at 1,000 points". Rows: `history_ms_cold_16ch`, the first answer
 * of every channel at once by a server that has answered none (its history cache empty: each
 * channel's frames are read from the stream once, as a user's first look at them is; one
 * measurement, against the plain loop's first), then `history_ms_p99_1ch` (one request of one
 * channel) and `history_ms_p99_16ch` (every channel asked at once, until the last answer is in)
 * over the rounds after it, the cache filled (only frames stored since are read from the stream).
 * The baseline, in the same run and alternated with troupe round by round, fetches the same
 * frames from the stream and decodes them in a plain loop (an ordered consumer per channel), no
 * downsampling, no HTTP: what any reader of the feed stream pays before drawing a point.
 */
import { join } from "node:path";
import { DeliverPolicy, jetstream } from "@nats-io/jetstream";
import { ensureFeedStream, NatsBus, NatsServer } from "../actors/runtime/mod.ts";
import { launchCollab, mintToken } from "../collab/mod.ts";
import {
  decodeFrame,
  decodeHistoryResponse,
  encodeFrame,
  feedChannelPattern,
  feedSubject,
  historyQuery,
} from "../protocol/mod.ts";
import {
  type BenchContext,
  type Benchmark,
  type BenchRow,
  nowMs,
  percentile,
  row,
} from "./_bench.ts";
import { type OptionTable, readOptions } from "./_option_table.ts";
import { tempDir } from "./_temp_dir.ts";
import { requireNatsServer } from "./_bench_nats.ts";

const NAME = "history";
const DAY_S = 86_400;
const POINTS = 1000;
const WARM = "W000";

const OPTIONS = {
  channels: {
    help: "channels of 24 h each",
    default: 16,
    number: { min: 1, max: 64, integer: true },
  },
  frame: {
    help: "samples per published frame",
    default: 60,
    number: { min: 1, max: 3600, integer: true },
  },
  rounds: {
    help: "timed rounds of each figure",
    default: 30,
    number: { min: 3, max: 1000, integer: true },
  },
} satisfies OptionTable;

export const benchmark: Benchmark = {
  name: NAME,
  summary:
    "GET /history p99 of 24 h at 1 Hz answered at 1,000 points, 1 and 16 channels, against " +
    "fetching and decoding the same frames in a plain loop",
  options: OPTIONS,
  async run(args: string[], ctx: BenchContext): Promise<BenchRow[]> {
    const { channels, frame, rounds } = readOptions(args, OPTIONS);
    requireNatsServer(NAME);
    const dir = tempDir("troupe-bench-history-");
    const nats = await NatsServer.start({ storeDir: join(dir.path, "js") });
    const pub = await NatsBus.connect(nats.url, { name: "bench-history-feed" });
    try {
      await ensureFeedStream(pub.nc, { maxAgeMs: 2 * DAY_S * 1000 });
      const names = Array.from({ length: channels }, (_, i) => `H${String(i).padStart(3, "0")}`);
      const t0_us = (Math.floor(Date.now() / 1000) - DAY_S) * 1_000_000;
      const startMs = nowMs();
      // One more channel, asked before the timed figures so that neither path's first answer pays
      // for compiling its code.
      for (const name of [...names, WARM]) await publishDay(pub, name, t0_us, frame);
      ctx.log(
        `${NAME}: ${channels} channels x ${DAY_S} samples in frames of ${frame} stored in ${
          ((nowMs() - startMs) / 1000).toFixed(1)
        } s`,
      );
      const collab = await launchCollab({ dataDir: join(dir.path, "collab"), nats: nats.url });
      try {
        const token = await mintToken(collab.keyring, {
          session: "bench",
          role: "viewer",
          ttlS: 3600,
          nowMs: Date.now(),
        });
        const base = `http://127.0.0.1:${collab.server.port}/history?token=${token}&`;
        const ask = (channel: string) => askDay(base, channel, t0_us);
        const plain = (channel: string) => plainRead(pub, channel);
        await ask(WARM);
        await plain(WARM);
        const cold = await timeCold({ names, rounds, ask, plain }, ctx);
        return [cold, ...await timeFigures({ names, rounds, ask, plain }, ctx)];
      } finally {
        await collab.close();
      }
    } finally {
      await pub.close();
      await nats.stop();
      dir.remove();
    }
  },
};

/** What `timeFigures` times: the channels, the rounds and the two paths. */
interface Figures {
  names: string[];
  rounds: number;
  ask: (channel: string) => Promise<number>;
  plain: (channel: string) => Promise<number>;
}

/** The first answer of every channel at once (the server's cache empty), then the plain loop's. */
async function timeCold(f: Figures, ctx: BenchContext): Promise<BenchRow> {
  let points = 0;
  const troupe = await timed(async () => (points = (await Promise.all(f.names.map(f.ask)))[0]!));
  const baseline = await timed(() => Promise.all(f.names.map(f.plain)));
  ctx.log(`${NAME}: a day of ${f.names[0]} answered at ${points} points`);
  return row({
    bench: NAME,
    metric: `history_ms_cold_${f.names.length}ch`,
    unit: "ms",
    troupe,
    baseline,
    better: "lower",
  });
}

/** The two rows, one channel and every channel, each path timed in alternation round by round. */
async function timeFigures(f: Figures, ctx: BenchContext): Promise<BenchRow[]> {
  const { names, rounds, ask, plain } = f;
  const rows: BenchRow[] = [];
  for (
    const [metric, group] of [["history_ms_p99_1ch", [names[0]!]], [
      `history_ms_p99_${names.length}ch`,
      names,
    ]] as const
  ) {
    const troupe: number[] = [], baseline: number[] = [];
    for (let r = 0; r < rounds; r++) {
      troupe.push(await timed(() => Promise.all(group.map(ask))));
      baseline.push(await timed(() => Promise.all(group.map(plain))));
    }
    const p99 = (xs: number[]) => percentile(xs.sort((a, b) => a - b), 99);
    ctx.log(
      `${NAME}: ${metric}: /history p50 ${pct(troupe, 50)} ms, plain loop p50 ${
        pct(baseline, 50)
      } ms`,
    );
    rows.push(
      row({
        bench: NAME,
        metric,
        unit: "ms",
        troupe: p99(troupe),
        baseline: p99(baseline),
        better: "lower",
      }),
    );
  }
  return rows;
}

/** One `GET /history` of a day of `channel` at `base` at 1,000 points: its point count. */
async function askDay(base: string, channel: string, t0_us: number): Promise<number> {
  const q = historyQuery({ channel, t0_us, t1_us: t0_us + DAY_S * 1e6, points_max: POINTS });
  const res = await fetch(base + q);
  if (res.status !== 200) {
    throw new Error(`GET /history ${res.status}: ${await res.text()}`);
  }
  const h = decodeHistoryResponse(new Uint8Array(await res.arrayBuffer()));
  if (h.samples !== DAY_S) {
    throw new Error(`${channel}: ${h.samples} samples, not ${DAY_S}`);
  }
  return h.t.length;
}

function pct(xs: number[], p: number): string {
  return percentile([...xs].sort((a, b) => a - b), p).toFixed(1);
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = nowMs();
  await fn();
  return nowMs() - t;
}

/** Publishes a day of `channel` at 1 Hz from `t0_us` (a random walk), `frame` samples a frame. */
async function publishDay(pub: NatsBus, channel: string, t0_us: number, frame: number) {
  const js = jetstream(pub.nc);
  let x = 100;
  let pending: Promise<unknown>[] = [];
  for (let at = 0, f = 0; at < DAY_S; at += frame, f++) {
    const n = Math.min(frame, DAY_S - at);
    const t = new Float64Array(n), v = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      t[i] = t0_us + (at + i) * 1_000_000;
      x += Math.sin((at + i) * 12.9898) * 0.5;
      v[i] = x;
    }
    const bytes = encodeFrame({ channel, seq0: at, t, v }, {
      id: `b:${channel}:${f}`,
      src: "bench",
    });
    pending.push(js.publish(feedSubject("bench", channel), bytes));
    if (pending.length >= 256) {
      await Promise.all(pending);
      pending = [];
    }
  }
  await Promise.all(pending);
}

/** The baseline: every frame of `channel` from the feed stream, decoded, in a plain loop. */
async function plainRead(pub: NatsBus, channel: string): Promise<number> {
  const consumer = await jetstream(pub.nc).consumers.get("TROUPE_FEED", {
    filter_subjects: feedChannelPattern(channel),
    deliver_policy: DeliverPolicy.All,
  });
  const messages = await consumer.consume({ max_messages: 2048 });
  let samples = 0;
  for await (const m of messages) {
    samples += decodeFrame(m.data).frame.t.length;
    if (m.info.pending === 0) break;
  }
  await messages.close();
  if (samples !== DAY_S) throw new Error(`plain read of ${channel}: ${samples} samples`);
  return samples;
}
