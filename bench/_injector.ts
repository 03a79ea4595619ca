/**
 * The benchmarks' injector: a child process that publishes sample frames over NATS as fast as
 * its receiver keeps up. `bench/pipeline.ts` starts it once for troupe's host and once for the
 * raw nats.js subscriber, so both are fed by the same code at the same cost.
 *
 * Frames go round-robin over `--channels` channels on `troupe.feed.<feed>.<channel>`, `--batch`
 * samples each (a seeded random walk with spikes, times 1 ms apart). Flow control is by credit:
 * the receiver publishes on `--credit` how many frames it has consumed so far, and the injector
 * keeps at most `--window` frames in flight, so a slower receiver slows the injector instead of
 * piling frames up in nats-server until it cuts the receiver off as a slow consumer.
 *
 * It speaks JSON lines: `{"ready":true}` once connected, then on the stdin line `stop` it stops,
 * flushes and prints `{"published":<frames>,"samples":<samples>}` and exits.
 */
import { connect } from "@nats-io/transport-node";
import process from "node:process";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { encodeFrame, feedSubject, type SampleFrame } from "../protocol/mod.ts";
import { Prng } from "../sim/prng.ts";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    nats: { type: "string" },
    feed: { type: "string", default: "bench" },
    channels: { type: "string", default: "64" },
    batch: { type: "string", default: "500" },
    window: { type: "string", default: "512" },
    credit: { type: "string", default: "bench.credit" },
    seed: { type: "string", default: "1" },
  },
});
if (!values.nats) throw new Error("_injector.ts needs --nats <url>");
const channels = Number(values.channels);
const batch = Number(values.batch);
const window = Number(values.window);

// Values: one random walk with spikes, read by each channel from its own offset.
const prng = new Prng(Number(values.seed));
const poolLength = Math.max(1 << 17, batch * 4);
const pool = new Float64Array(poolLength);
for (let i = 0, x = 100; i < poolLength; i++) {
  x += prng.normal() * 0.1;
  pool[i] = prng.chance(0.001) ? x + prng.normal() * 5 : x;
}

interface Channel {
  name: string;
  subject: string;
  seq: number;
  offset: number;
  t: Float64Array;
}
const t0Us = Math.round(Date.now() * 1000);
const state: Channel[] = [];
for (let c = 0; c < channels; c++) {
  const name = `c${String(c).padStart(5, "0")}`;
  state.push({
    name,
    subject: feedSubject(values.feed!, name),
    seq: 0,
    offset: prng.int(poolLength - batch),
    t: new Float64Array(batch),
  });
}

/** The next frame of channel `ch`, encoded (a fresh buffer, safe to hand to publish). */
function nextFrame(ch: Channel): Uint8Array {
  const { t } = ch;
  const base = t0Us + ch.seq * 1000;
  for (let i = 0; i < batch; i++) t[i] = base + i * 1000;
  if (ch.offset + batch > poolLength) ch.offset = 0;
  const frame: SampleFrame = {
    channel: ch.name,
    seq0: ch.seq,
    t,
    v: pool.subarray(ch.offset, ch.offset + batch),
  };
  const bytes = encodeFrame(frame, { id: `inj:${ch.name}:${ch.seq}`, src: "injector" });
  ch.seq += batch;
  ch.offset += batch;
  return bytes;
}

const nc = await connect({ servers: values.nats, name: "troupe-bench-injector" });
const decoder = new TextDecoder();
let consumed = 0;
let wake: (() => void) | undefined;
nc.subscribe(values.credit!, {
  callback: (_err, msg) => {
    const n = Number(decoder.decode(msg.data));
    if (n > consumed) consumed = n;
    const w = wake;
    wake = undefined;
    w?.();
  },
});
let stopping = false;
createInterface({ input: process.stdin }).on("line", (line) => {
  if (line.trim() === "stop") {
    stopping = true;
    const w = wake;
    wake = undefined;
    w?.();
  }
});
process.stdin.on("end", () => {
  stopping = true;
  wake?.();
});
await nc.flush();
console.log(JSON.stringify({ ready: true }));

let published = 0;
let next = 0;
const yieldNow = () => new Promise<void>((resolve) => setImmediate(resolve));
while (!stopping) {
  // Publish up to the window, yielding now and then so credits and `stop` get through.
  let burst = 0;
  while (published - consumed < window && burst < 64) {
    const ch = state[next]!;
    next = next + 1 === channels ? 0 : next + 1;
    nc.publish(ch.subject, nextFrame(ch));
    published++;
    burst++;
  }
  if (published - consumed >= window) {
    await new Promise<void>((resolve) => {
      wake = resolve;
      // A lost credit must not hang the injector: look again after a while.
      setTimeout(resolve, 50);
    });
  } else await yieldNow();
}
await nc.flush();
console.log(JSON.stringify({ published, samples: published * batch }));
await nc.close();
process.exit(0);
