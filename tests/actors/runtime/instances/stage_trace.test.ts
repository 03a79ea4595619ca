import { suite } from "uvu";
import * as assert from "uvu/assert";
import { statsActor } from "../../../../actors/stats/mod.ts";
import { Host } from "../../../../actors/runtime/host/host.ts";
import { InProcessBus } from "../../../../actors/runtime/transport/in_process_bus.ts";
import { MemoryJournal } from "../../../../actors/runtime/journal/memory_journal.ts";
import { MemorySnapshotStore } from "../../../../actors/runtime/snapshots/memory_snapshot_store.ts";
import { STAGES, StageTrace } from "../../../../actors/runtime/instances/stage_trace.ts";
import { encodeFrame, feedSubject } from "../../../../protocol/mod.ts";

const test = suite("stage_trace");

/** Wall clock of the hosts under test: frames are sent 250 µs before it. */
const NOW_MS = 1_700_000_000_000;
const SENT_US = NOW_MS * 1000 - 250;

/** A host running stats on every sample, with `trace` if given; its outputs' bytes. */
async function run(trace: StageTrace | undefined, send: (bus: InProcessBus) => void) {
  const bus = new InProcessBus();
  const outputs: string[] = [];
  bus.subscribe("troupe.out.>", (m) => void outputs.push(Buffer.from(m.data).toString("hex")));
  const host = new Host({
    hostId: "h1",
    bus,
    actors: [statsActor],
    config: { stats: { every_samples: 1 } },
    journal: new MemoryJournal(),
    snapshots: new MemorySnapshotStore(),
    now: () => NOW_MS,
    log: () => {},
    ...(trace ? { stageTrace: trace } : {}),
  });
  await host.start();
  send(bus);
  await bus.flush();
  await bus.flush();
  await host.stop();
  return outputs;
}

function oneSampleFrames(bus: InProcessBus, count: number): void {
  for (let i = 0; i < count; i++) {
    const channel = `c${i % 3}`;
    const frame = {
      channel,
      seq0: Math.floor(i / 3),
      t: new Float64Array([SENT_US - (count - i)]),
      v: new Float64Array([Math.sin(i)]),
    };
    // ts: the send time, as the bench injector stamps it.
    const bytes = encodeFrame(frame, { id: `f${i}`, src: "test", ts: SENT_US });
    bus.publish(feedSubject("t", channel), bytes);
  }
}

test("a host with a stage trace times every frame's stages, NATS delivery from the envelope's ts", async () => {
  const trace = new StageTrace();
  await run(trace, (bus) => oneSampleFrames(bus, 30));
  assert.is(trace.frames, 30);
  const figures = trace.figures();
  assert.equal(figures.map((f) => f.stage), [...STAGES, "host"]);
  const nats = figures.find((f) => f.stage === "nats")!;
  assert.is(nats.p50_us, 250);
  assert.is(nats.p99_us, 250);
  for (const f of figures) {
    assert.ok(Number.isFinite(f.p50_us) && f.p50_us >= 0, `${f.stage} p50 ${f.p50_us}`);
    assert.ok(f.p99_us >= f.p50_us, `${f.stage} p99 ${f.p99_us} < p50 ${f.p50_us}`);
  }
  // The host's share is the sum of its stages, frame by frame: at least each stage's median.
  const host = figures.find((f) => f.stage === "host")!;
  const kernel = figures.find((f) => f.stage === "kernel")!;
  assert.ok(host.p50_us > 0 && host.p99_us >= kernel.p50_us, JSON.stringify(host));
});

test("a stage trace leaves out frames no instance here takes and frames dead-lettered", async () => {
  const trace = new StageTrace();
  await run(trace, (bus) => {
    oneSampleFrames(bus, 2);
    bus.publish(feedSubject("t", "bad"), new Uint8Array([0xc1, 0x00]));
    bus.publish("troupe.feed.t", new Uint8Array([1]));
  });
  assert.is(trace.frames, 2);
  trace.clear();
  assert.is(trace.frames, 0);
  assert.ok(trace.figures().every((f) => Number.isNaN(f.p50_us)));
});

test("a stage trace given channels traces only theirs", async () => {
  const trace = new StageTrace({ channels: (c) => c !== "c1" });
  await run(trace, (bus) => oneSampleFrames(bus, 30));
  assert.is(trace.frames, 20);
});

test("a host publishes the same outputs with a stage trace as without", async () => {
  const plain = await run(undefined, (bus) => oneSampleFrames(bus, 40));
  const traced = await run(new StageTrace(), (bus) => oneSampleFrames(bus, 40));
  assert.is(plain.length, 40);
  assert.equal(traced, plain);
});

test("StageTrace keeps at most framesMax frames and refuses a bad bound", () => {
  const trace = new StageTrace({ framesMax: 2 });
  for (let i = 0; i < 5; i++) {
    trace.begin(1000);
    trace.sent("a", 900);
    trace.mark(1);
    trace.end();
  }
  assert.is(trace.frames, 2);
  assert.is(trace.figures()[0]!.p50_us, 100);
  assert.throws(
    () => new StageTrace({ framesMax: 0 }),
    /framesMax must be an integer in \[1, 1048576\], got 0/,
  );
});

test.run();
