import { suite } from "uvu";
import * as assert from "uvu/assert";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InProcessBus } from "../../../actors/runtime/transport/in_process_bus.ts";
import { NatsBus } from "../../../actors/runtime/transport/nats_bus.ts";
import { haveNatsServer, startTestNats } from "../../_support/nats.ts";
import {
  type Bus,
  type BusMessage,
  type BusSubscription,
  ConfigError,
  decodeFrame,
} from "../../../protocol/mod.ts";
import { SystemClock, VirtualClock } from "../../../sim/clock.ts";
import {
  createCsvFeed,
  createMarketFeed,
  createMetricsFeed,
  inject,
  type InjectOptions,
  runId,
} from "../../../sim/feeds/mod.ts";

const test = suite("inject");
const dir = mkdtempSync(join(tmpdir(), "troupe-inject-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** Records what is published (a counting double: subscribe and request are not needed here). */
class RecordingBus implements Bus {
  readonly published: Array<{ subject: string; data: Uint8Array }> = [];
  flushes = 0;
  onFlush: (() => void) | undefined;
  publish(subject: string, data: Uint8Array): void {
    this.published.push({ subject, data });
  }
  subscribe(): BusSubscription {
    throw new Error("RecordingBus does not deliver");
  }
  request(): Promise<BusMessage> {
    return Promise.reject(new Error("RecordingBus does not deliver"));
  }
  flush(): Promise<void> {
    this.flushes++;
    this.onFlush?.();
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const virtual = () => new VirtualClock(1_700_000_000_000_000, { autoAdvance: true });

test("inject() on virtual time publishes exactly rate × duration samples in exactly the duration", async () => {
  const bus = new RecordingBus();
  const feed = createMarketFeed({ seed: 1, symbols: 5, batch: 100 });
  const r = await inject(bus, feed, { rate: 10_000, durationS: 2, clock: virtual() });
  assert.is(r.samples, 20_000);
  assert.is(r.frames, 200);
  assert.is(r.elapsedS, 2);
  assert.is(r.achievedRate, 10_000);
  assert.is(r.stopped, "duration");
  assert.is(r.bytes, bus.published.reduce((n, m) => n + m.data.byteLength, 0));
  assert.is(bus.published[0]!.subject, "troupe.feed.market.SYM001");
  assert.is(bus.published[1]!.subject, "troupe.feed.market.SYM001_vol");
});

test("inject() publishes the feed's frames unchanged, encoded, with ids, sources and sequence numbers", async () => {
  const bus = new RecordingBus();
  await inject(bus, createMetricsFeed({ seed: 4, series: 3, batch: 50 }), {
    rate: 1_000,
    durationS: 0.6,
    feedName: "ops",
    src: "injector-1",
    run: "demo-2",
    clock: virtual(),
  });
  const expected = createMetricsFeed({ seed: 4, series: 3, batch: 50 });
  const steps = [...expected.next(), ...expected.next(), ...expected.next(), ...expected.next()];
  assert.is(bus.published.length, 12);
  for (const [i, m] of bus.published.entries()) {
    const { envelope, frame } = decodeFrame(m.data);
    const want = steps[i]!;
    assert.is(m.subject, `troupe.feed.ops.${want.channel}`);
    assert.is(envelope.src, "injector-1");
    assert.is(envelope.id, `injector-1:demo-2:${want.channel}:${want.seq0}`);
    assert.is(envelope.seq, i + 1);
    assert.is(frame.seq0, want.seq0);
    assert.equal(Array.from(frame.t), Array.from(want.t));
    assert.equal(Array.from(frame.v), Array.from(want.v));
  }
});

test("inject() gives each run its own id, the clock's start time unless one is given, so a second run is not a retry of the first", async () => {
  const ids = async (clock: VirtualClock, run?: string) => {
    const bus = new RecordingBus();
    const r = await inject(bus, createMetricsFeed({ seed: 4, series: 1, batch: 50 }), {
      rate: 1_000,
      durationS: 0.1,
      clock,
      ...(run === undefined ? {} : { run }),
    });
    return { run: r.run, ids: bus.published.map((m) => decodeFrame(m.data).envelope.id) };
  };
  const clock = virtual();
  const start = clock.now();
  const first = await ids(clock);
  const second = await ids(clock);
  assert.is(first.run, runId(start));
  assert.is.not(first.run, second.run);
  assert.ok(first.ids.every((id) => !second.ids.includes(id)), `${first.ids} ${second.ids}`);
  const retry = await ids(clock, first.run);
  assert.equal(retry.ids, first.ids);
  const refused = await inject(new RecordingBus(), createMetricsFeed({}), {
    rate: 1,
    durationS: 1,
    run: "a.b",
  }).then(() => undefined, (err: Error) => err.message);
  assert.is(refused, 'Field "run" must be 1 to 64 of A-Z a-z 0-9 _ -, got "a.b"');
});

test("inject() splits frames to batch and cuts the last one to the sample budget", async () => {
  const bus = new RecordingBus();
  const r = await inject(bus, createMarketFeed({ symbols: 1, volume: false, batch: 100 }), {
    rate: 1_000,
    durationS: 0.23,
    batch: 40,
    clock: virtual(),
  });
  assert.is(r.samples, 230);
  const sizes = bus.published.map((m) => decodeFrame(m.data).frame);
  assert.equal(sizes.map((f) => [f.seq0, f.t.length]), [
    [0, 40],
    [40, 40],
    [80, 20],
    [100, 40],
    [
      140,
      40,
    ],
    [180, 20],
    [200, 30],
  ]);
  assert.is(r.elapsedS, 0.23);
});

test("inject() repays a short stall from the schedule, so the rate does not drift", async () => {
  const clock = virtual();
  const bus = new RecordingBus();
  // Every 100th flush (about every 0.4 s) stalls 100 ms: less than burstS, so the debt is repaid.
  bus.onFlush = () => bus.flushes % 100 === 0 && clock.advance(100_000);
  const r = await inject(bus, createMarketFeed({ symbols: 4, batch: 10 }), {
    rate: 20_000,
    durationS: 3,
    flushEveryFrames: 8,
    clock,
  });
  assert.ok(bus.flushes > 20, `${bus.flushes} flushes`);
  assert.is(r.samples, 60_000);
  assert.ok(Math.abs(r.achievedRate / 20_000 - 1) < 0.005, `achieved ${r.achievedRate}`);
});

test("inject() forgives debt beyond burstS instead of flooding after a long stall", async () => {
  const clock = virtual();
  const bus = new RecordingBus();
  let stalled = false;
  bus.onFlush = () => {
    if (!stalled && clock.now() - 1_700_000_000_000_000 >= 500_000) {
      stalled = true;
      clock.advance(2_000_000); // one 2 s stall, half a second in
    }
  };
  const sentAt: number[] = [];
  const publish = bus.publish.bind(bus);
  bus.publish = (subject, data) => {
    sentAt.push(clock.now());
    publish(subject, data);
  };
  const r = await inject(bus, createMarketFeed({ symbols: 1, volume: false, batch: 100 }), {
    rate: 10_000,
    durationS: 2,
    burstS: 0.25,
    clock,
  });
  assert.is(r.samples, 20_000);
  // The stall cost 2 s while the injector was one frame (10 ms) ahead: of the 1.99 s of debt,
  // 0.25 s was repaid, so the run took 2 + 1.74 s.
  assert.ok(Math.abs(r.elapsedS - 3.74) < 0.005, `elapsed ${r.elapsedS}`);
  // No more than burstS worth of frames went out at the instant the stall ended.
  const counts = new Map<number, number>();
  for (const t of sentAt) counts.set(t, (counts.get(t) ?? 0) + 1);
  const burst = Math.max(...counts.values());
  assert.ok(burst <= 26 && burst >= 20, `${burst} frames at one instant`);
});

// How close to the asked rate a loaded machine gets is a benchmark's question (troupe bench
// inject); here, only what holds however loaded the machine is: every sample goes out, and the
// pacing never runs ahead of the schedule.
test("inject() on the wall clock sends every sample and never runs ahead of the asked rate", async () => {
  const bus = new RecordingBus();
  const r = await inject(bus, createMarketFeed({ seed: 2, symbols: 10, batch: 100 }), {
    rate: 200_000,
    durationS: 1,
    clock: new SystemClock(),
  });
  assert.is(r.samples, 200_000);
  assert.ok(r.elapsedS >= 1, `elapsed ${r.elapsedS}`);
  assert.ok(r.achievedRate <= 200_000 * 1.001, `achieved ${r.achievedRate}`);
});

test("inject() through an InProcessBus delivers every sample in order per channel", async () => {
  const bus = new InProcessBus();
  const got = new Map<string, number>();
  let outOfOrder = 0;
  bus.subscribe("troupe.feed.metrics.>", (m) => {
    const { frame } = decodeFrame(m.data);
    if ((got.get(frame.channel) ?? 0) !== frame.seq0) outOfOrder++;
    got.set(frame.channel, frame.seq0 + frame.t.length);
  });
  const r = await inject(bus, createMetricsFeed({ seed: 6, series: 8, batch: 250 }), {
    rate: 100_000,
    durationS: 0.4,
    clock: new SystemClock(),
  });
  await bus.close();
  assert.is(r.samples, 40_000);
  assert.is(outOfOrder, 0);
  assert.is([...got.values()].reduce((s, n) => s + n, 0), 40_000);
  assert.is(got.size, 8);
  // Pacing is checked exactly on virtual time; here only delivery is the point, and that the
  // wall clock never lets the injector run ahead of its rate.
  assert.ok(r.achievedRate <= 100_000 * 1.001, `${r.achievedRate}`);
});

test("inject() into a real nats-server delivers every frame to a subscriber, in order", async () => {
  if (!haveNatsServer("inject() into nats-server")) return;
  const server = await startTestNats();
  const publisher = await NatsBus.connect(server.url);
  const subscriber = await NatsBus.connect(server.url);
  try {
    const got = new Map<string, number>();
    let outOfOrder = 0;
    let samples = 0;
    subscriber.subscribe("troupe.feed.market.*", (m) => {
      const { frame } = decodeFrame(m.data);
      if ((got.get(frame.channel) ?? 0) !== frame.seq0) outOfOrder++;
      got.set(frame.channel, frame.seq0 + frame.t.length);
      samples += frame.t.length;
    });
    await subscriber.flush();
    const r = await inject(publisher, createMarketFeed({ seed: 3, symbols: 20, batch: 200 }), {
      rate: 200_000,
      durationS: 0.5,
    });
    await subscriber.flush();
    for (let i = 0; i < 50 && samples < r.samples; i++) {
      await new Promise((ok) => setTimeout(ok, 20));
    }
    assert.is(r.samples, 100_000);
    assert.is(samples, 100_000);
    assert.is(outOfOrder, 0);
    assert.is(got.size, 40);
    // Never faster than asked; how much slower depends on the server's share of a busy machine
    // (flush() holds the injector back), so the 2% bar is the benchmark's, not this test's.
    assert.ok(r.achievedRate > 0 && r.achievedRate <= 200_000, `${r.achievedRate}`);
  } finally {
    await publisher.close();
    await subscriber.close();
    await server.cleanup();
  }
});

test("inject() stops when a file feed ends, and when aborted", async () => {
  const path = join(dir, "cpu.csv");
  const rows = ["timestamp,value"];
  for (let i = 0; i < 123; i++) rows.push(`${1_700_000_000 + i},${i}`);
  writeFileSync(path, rows.join("\n"));
  const bus = new RecordingBus();
  const r = await inject(bus, createCsvFeed(path, { batch: 50 }), {
    rate: 1_000,
    durationS: Infinity,
    clock: virtual(),
  });
  assert.is(r.stopped, "exhausted");
  assert.is(r.samples, 123);
  assert.is(bus.published[0]!.subject, "troupe.feed.csv.cpu");
  assert.is(r.elapsedS, 0.123);

  const controller = new AbortController();
  const progress: number[] = [];
  const aborted = await inject(new RecordingBus(), createMarketFeed({ batch: 10 }), {
    rate: 1_000,
    durationS: Infinity,
    clock: virtual(),
    onProgress: (sent) => {
      progress.push(sent);
      if (sent >= 2_000) controller.abort();
    },
    signal: controller.signal,
  });
  assert.is(aborted.stopped, "aborted");
  assert.ok(aborted.samples >= 2_000 && aborted.samples <= 2_200, `${aborted.samples}`);
  assert.ok(progress.length >= 20, `${progress.length} progress calls`);
  assert.ok(progress.every((x, i) => i === 0 || x >= progress[i - 1]!));
  assert.is(progress.at(-1), aborted.samples);
});

test("inject() refuses a rate, duration or batch out of range, naming it", async () => {
  const feed = createMarketFeed({ symbols: 1 });
  const refuses = async (options: Partial<InjectOptions>, field: string, text: string) => {
    try {
      await inject(new RecordingBus(), feed, { rate: 10, durationS: 1, ...options });
    } catch (err) {
      assert.instance(err, ConfigError);
      assert.is((err as ConfigError).field, field);
      assert.match((err as Error).message, text);
      return;
    }
    assert.unreachable(`accepted ${JSON.stringify(options)}`);
  };
  await refuses({ rate: 0 }, "rate", "> 0, got 0");
  await refuses({ rate: NaN }, "rate", "got NaN");
  await refuses({ rate: Infinity }, "rate", "got Infinity");
  await refuses({ durationS: -1 }, "durationS", "got -1");
  await refuses({ batch: 0 }, "batch", "got 0");
  await refuses({ feedName: "a.b" }, "feedName", '"a.b"');
});

test.run();
