import { suite } from "uvu";
import * as assert from "uvu/assert";
import { statsActor, type StatsState, statsSummary } from "../../../../actors/stats/mod.ts";
import { brokenKind, flakyKind } from "../../../_support/failing_kinds.ts";
import { Host } from "../../../../actors/runtime/host/host.ts";
import { InProcessBus } from "../../../../actors/runtime/transport/in_process_bus.ts";
import { MemoryJournal } from "../../../../actors/runtime/journal/memory_journal.ts";
import { MemorySnapshotStore } from "../../../../actors/runtime/snapshots/memory_snapshot_store.ts";
import { FileJournal } from "../../../../actors/runtime/journal/file_journal.ts";
import { FileSnapshotStore } from "../../../../actors/runtime/snapshots/file_snapshot_store.ts";
import { decodeDeadLetter } from "../../../../actors/runtime/edge/dead_letter.ts";
import {
  ctlSubject,
  decodeEnvelope,
  encodeEnvelope,
  encodeFrame,
  encodeValue,
  type Envelope,
  feedSubject,
  type SampleFrame,
} from "../../../../protocol/mod.ts";
import { Prng } from "../../../../sim/prng/mod.ts";
import { tempDir } from "../../../_support/nats.ts";

const test = suite("host");

function frames(channel: string, count: number, batch: number, seed = 1): SampleFrame[] {
  const rng = new Prng(seed);
  const out: SampleFrame[] = [];
  for (let f = 0; f < count; f++) {
    const t = new Float64Array(batch);
    const v = new Float64Array(batch);
    for (let i = 0; i < batch; i++) {
      t[i] = 1_700_000_000_000_000 + (f * batch + i) * 1000;
      v[i] = 10 + rng.normal();
    }
    out.push({ channel, seq0: f * batch, t, v });
  }
  return out;
}

/** Publishes frames, each with an id naming its channel and its index in the channel's feed. */
function publishFrames(bus: InProcessBus, fs: SampleFrame[], idPrefix = "in") {
  for (const f of fs) {
    const n = f.seq0 / f.t.length;
    bus.publish(
      feedSubject("test", f.channel),
      encodeFrame(f, { id: `${idPrefix}-${f.channel}-${n}`, src: "test" }),
    );
  }
}

function collect(bus: InProcessBus, pattern: string): Envelope[] {
  const got: Envelope[] = [];
  bus.subscribe(pattern, (m) => got.push(decodeEnvelope(m.data)));
  return got;
}

function quietHost(opts: ConstructorParameters<typeof Host>[0]) {
  return new Host({ log: () => {}, ...opts });
}

test("a host creates a stats instance per channel and publishes every N samples", async () => {
  const bus = new InProcessBus();
  const out = collect(bus, "troupe.out.stats.*");
  const host = quietHost({
    hostId: "h1",
    bus,
    actors: [statsActor],
    config: { stats: { every_samples: 1000 } },
    journal: new MemoryJournal(),
    snapshots: new MemorySnapshotStore(),
  });
  await host.start();
  publishFrames(bus, frames("a", 10, 500));
  publishFrames(bus, frames("b", 4, 500, 2));
  await bus.flush();
  await bus.flush();
  assert.is(out.filter((e) => e.src === "stats/a").length, 5);
  assert.is(out.filter((e) => e.src === "stats/b").length, 2);
  const last = out.filter((e) => e.src === "stats/a").at(-1)!;
  const body = last.body as { count: number; mean: number; channel: string };
  assert.is(body.count, 5000);
  assert.is(body.channel, "a");
  assert.ok(Math.abs(body.mean - 10) < 0.1, `mean ${body.mean}`);
  // Output ids derive from input ids: deterministic.
  assert.is(last.id, "in-a-9:stats:a:0");
  assert.is(last.cause, "in-a-9");
  await host.stop();
});

test("onApplied tells a kind's listeners the key of each input applied, until stopped; a listener that throws is logged", async () => {
  const bus = new InProcessBus();
  const logged: string[] = [];
  const host = new Host({
    hostId: "h1",
    bus,
    actors: [statsActor],
    config: { stats: { every_samples: 1000 } },
    journal: new MemoryJournal(),
    snapshots: new MemorySnapshotStore(),
    log: (m) => void logged.push(m),
  });
  await host.start();
  const keys: string[] = [], other: string[] = [];
  const stop = host.onApplied("stats", (key) => void keys.push(key));
  host.onApplied("anomaly", (key) => void other.push(key));
  const stopBad = host.onApplied("stats", () => {
    throw new Error("listener bug");
  });
  publishFrames(bus, frames("a", 3, 10));
  publishFrames(bus, frames("b", 2, 10, 2));
  await bus.flush();
  await bus.flush();
  assert.equal(keys, ["a", "a", "a", "b", "b"]);
  assert.equal(other, []);
  assert.ok(
    logged.some((m) => m.includes("onApplied listener failed on stats/a: listener bug")),
    logged.join("\n"),
  );
  stop();
  stopBad();
  publishFrames(bus, frames("a", 4, 10).slice(3));
  await bus.flush();
  await bus.flush();
  assert.is(host.applied.get("stats"), 6, "the input after was applied");
  assert.equal(keys.length, 5, "a stopped listener hears nothing more");
  await host.stop();
});

test("the host's metrics count inputs, outputs and processing time per kind in Prometheus text", async () => {
  const bus = new InProcessBus();
  const host = quietHost({
    hostId: "h1",
    bus,
    actors: [statsActor],
    config: { stats: { every_samples: 1000 } },
    journal: new MemoryJournal(),
    snapshots: new MemorySnapshotStore(),
  });
  await host.start();
  publishFrames(bus, frames("a", 10, 500));
  publishFrames(bus, frames("b", 4, 500, 2));
  await bus.flush();
  await bus.flush();
  const text = await host.metrics.text();
  const value = (line: string) => {
    const found = text.split("\n").find((l) => l.startsWith(`${line} `));
    assert.ok(found, `no line ${line} in:\n${text}`);
    return Number(found.slice(line.length + 1));
  };
  assert.is(value('troupe_inputs_total{kind="stats",host="h1"}'), 14);
  assert.is(value('troupe_outputs_total{kind="stats",host="h1"}'), 7);
  assert.is(value('troupe_processing_seconds_count{kind="stats",host="h1"}'), 14);
  assert.is(value('troupe_processing_seconds_bucket{le="+Inf",kind="stats",host="h1"}'), 14);
  assert.ok(value('troupe_processing_seconds_sum{kind="stats",host="h1"}') > 0);
  const buckets = text.split("\n").filter((l) => l.startsWith("troupe_processing_seconds_bucket"));
  assert.is(buckets.length, 11);
  const counts = buckets.map((l) => Number(l.split(" ")[1]));
  assert.equal(counts, [...counts].sort((x, y) => x - y), "buckets are cumulative");
  assert.match(text, "# TYPE troupe_processing_seconds histogram");
  await host.stop();
});

test("malformed frames go to troupe.dlq.<reason> with the raw bytes and never reach an actor", async () => {
  const bus = new InProcessBus();
  const dead: Array<{ subject: string; letter: ReturnType<typeof decodeDeadLetter> }> = [];
  bus.subscribe(
    "troupe.dlq.>",
    (m) => dead.push({ subject: m.subject, letter: decodeDeadLetter(m.data) }),
  );
  const host = quietHost({
    hostId: "h1",
    bus,
    actors: [statsActor],
    journal: new MemoryJournal(),
    snapshots: new MemorySnapshotStore(),
    limits: { messageBytesMax: 4096 },
  });
  await host.start();
  const subject = feedSubject("test", "x");
  const good = frames("x", 1, 4)[0]!;
  const nan = { ...good, v: good.v.slice() };
  nan.v[2] = NaN;
  const backwards = { ...good, t: good.t.slice() };
  backwards.t[3] = backwards.t[0]! - 1;
  const raw = (f: SampleFrame) =>
    encodeEnvelope({
      id: "r",
      type: "frame",
      src: "s",
      ts: 0,
      body: {
        channel: f.channel,
        seq0: 0,
        t: new Uint8Array(f.t.buffer),
        v: new Uint8Array(f.v.buffer),
      },
    });
  const cases: Array<[Uint8Array, string]> = [
    [new Uint8Array([0xc1, 0x01, 0x02]), "decode"],
    [encodeValue({ v: 2, id: "a", type: "frame", src: "s", ts: 0, body: {} }), "version"],
    [encodeValue({ v: 1, type: "frame", src: "s", ts: 0, body: {} }), "field"],
    [raw(nan), "value"],
    [raw(backwards), "order"],
    [encodeFrame(frames("x", 1, 1000)[0]!, { id: "big", src: "s" }), "oversize"],
    [encodeFrame(frames("y", 1, 4)[0]!, { id: "wrongchan", src: "s" }), "value"],
  ];
  for (const [bytes] of cases) bus.publish(subject, bytes);
  bus.publish(subject, encodeFrame(good, { id: "ok", src: "s" }));
  await bus.flush();
  await bus.flush();
  assert.equal(dead.map((d) => d.subject), cases.map(([, r]) => `troupe.dlq.${r}`));
  for (const [i, d] of dead.entries()) {
    assert.equal(Array.from(d.letter.raw), Array.from(cases[i]![0]), `raw bytes of case ${i}`);
    assert.ok(d.letter.error.length > 10, d.letter.error);
  }
  assert.match(dead[3]!.letter.error, "body.v[2]");
  assert.match(dead[3]!.letter.error, "NaN");
  const state = host.instance("stats", "x")!.kernelState as StatsState;
  assert.is(statsSummary(state).count, 4, "only the good frame was applied");
  assert.is(host.metrics.registry.getSingleMetric("troupe_dead_letters_total") !== undefined, true);
  await host.stop();
});

test("a control message changes a kind's configuration, journaled; a refused one no one asked for is counted and dead-lettered, a malformed one dead-lettered", async () => {
  const bus = new InProcessBus();
  const out = collect(bus, "troupe.out.stats.*");
  const dead: string[] = [];
  bus.subscribe("troupe.dlq.>", (m) => dead.push(decodeDeadLetter(m.data).error));
  const journal = new MemoryJournal();
  const host = quietHost({
    hostId: "h1",
    bus,
    actors: [statsActor],
    config: { stats: { every_samples: 1000 } },
    journal,
    snapshots: new MemorySnapshotStore(),
  });
  await host.start();
  const fs = frames("c", 8, 100);
  publishFrames(bus, fs.slice(0, 4));
  await bus.flush();
  assert.is(out.length, 0);
  bus.publish(
    ctlSubject("stats"),
    encodeEnvelope({ id: "ctl1", type: "config", src: "t", ts: 0, body: { every_samples: 100 } }),
  );
  bus.publish(
    ctlSubject("stats"),
    encodeEnvelope({ id: "ctl2", type: "config", src: "t", ts: 0, body: { every_samples: -5 } }),
  );
  bus.publish(ctlSubject("stats"), new Uint8Array([0xc1])); // not msgpack
  await bus.flush();
  publishFrames(bus, fs.slice(4));
  await bus.flush();
  await bus.flush();
  assert.is(out.length, 4);
  // The refused one had no one to answer: it is a dead letter too, naming the field and value.
  assert.is(dead.length, 2, dead.join("; "));
  assert.match(dead[0]!, "every_samples");
  assert.match(dead[0]!, "-5");
  assert.match(dead[1]!, "msgpack");
  const refused = await host.metrics.registry.getSingleMetricAsString(
    "troupe_control_refused_total",
  );
  assert.match(refused, 'troupe_control_refused_total{kind="stats",host="h1"} 1');
  await host.stop();
});

test("a restarted host recovers every instance from snapshots and the journal, equal to a full replay", async () => {
  const dir = tempDir();
  try {
    const open = async (snapshotEveryInputs: number) => {
      const bus = new InProcessBus();
      const journal = await FileJournal.open(`${dir.path}/journal`, { fsync: "never" });
      const snapshots = await FileSnapshotStore.open(`${dir.path}/snapshots`);
      const host = quietHost({
        hostId: "h1",
        bus,
        actors: [statsActor],
        journal,
        snapshots,
        snapshotEveryInputs,
      });
      await host.start();
      return { bus, journal, host, snapshots };
    };
    const a = await open(7);
    const all = [...frames("p", 23, 50, 3), ...frames("q", 19, 50, 4)];
    publishFrames(a.bus, all);
    await a.bus.flush();
    await a.bus.flush();
    const before = Array.from(a.host.instance("stats", "p")!.kernelState as StatsState);
    await a.host.stop();
    await a.journal.close();

    const b = await open(7);
    const after = Array.from(b.host.instance("stats", "p")!.kernelState as StatsState);
    assert.equal(after, before);
    assert.is(b.host.instance("stats", "q")!.pos, 20, "19 frames after the init record");
    const replayed = (text: string) =>
      Number(/^troupe_recovery_inputs\{host="h1"\} (\d+)$/m.exec(text)?.[1]);
    const fromSnapshots = replayed(await b.host.metrics.text());
    // A full replay, with no snapshots at all, gives the same state.
    await b.host.stop();
    await b.journal.close();
    const c = await (async () => {
      const bus = new InProcessBus();
      const journal = await FileJournal.open(`${dir.path}/journal`, { fsync: "never" });
      const host = quietHost({
        hostId: "h1",
        bus,
        actors: [statsActor],
        journal,
        snapshots: new MemorySnapshotStore(),
      });
      await host.start();
      return { host, journal };
    })();
    assert.equal(Array.from(c.host.instance("stats", "p")!.kernelState as StatsState), before);
    // Every record applied again (p's init record and 23 frames, q's and 19); from snapshots, fewer.
    assert.is(replayed(await c.host.metrics.text()), 24 + 20);
    assert.ok(fromSnapshots >= 0 && fromSnapshots < 44, `${fromSnapshots} from snapshots`);
    await c.host.stop();
    await c.journal.close();
  } finally {
    dir.remove();
  }
});

/** A host over a file journal in `dir` with small segments, snapshotting and compacting often. */
async function compactingHost(dir: string, def = statsActor, log?: (m: string) => void) {
  const bus = new InProcessBus();
  const journal = await FileJournal.open(`${dir}/journal`, {
    fsync: "never",
    segmentBytesMax: 16 * 1024,
  });
  const snapshots = await FileSnapshotStore.open(`${dir}/snapshots`);
  const host = new Host({
    hostId: "h1",
    bus,
    actors: [def],
    journal,
    snapshots,
    snapshotEveryInputs: 5,
    compactEveryMs: 0,
    log: log ?? (() => {}),
  });
  await host.start();
  return { bus, journal, host };
}

/**
 * Feeds 4,000 samples of channel "m" to a compacting host and waits until compaction has dropped
 * the segments its snapshots cover; returns the host's state and segment count before it stops.
 */
async function feedAndCompact(a: Awaited<ReturnType<typeof compactingHost>>) {
  for (let round = 0; round < 4; round++) {
    publishFrames(
      a.bus,
      frames("m", 20, 50, 10 + round).map((f) => ({ ...f, seq0: f.seq0 + round * 1000 })),
      `r${round}`,
    );
    await a.bus.flush();
    await a.bus.flush();
    await new Promise((r) => setTimeout(r, 20));
  }
  // Snapshots are saved (fsynced) and segments compacted in the background: on a loaded
  // machine that takes longer than the frames do.
  for (let i = 0; i < 250 && a.journal.stats().records >= 81; i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const segments = a.journal.segments().length;
  const state = Array.from(a.host.instance("stats", "m")!.kernelState as StatsState);
  await a.host.stop();
  await a.journal.close();
  assert.ok(a.journal.stats().records < 81, `records left: ${a.journal.stats().records}`);
  return { segments, state };
}

test("a host compacts journal segments its snapshots cover, and still recovers exactly", async () => {
  const dir = tempDir();
  try {
    const { segments, state: expected } = await feedAndCompact(await compactingHost(dir.path));
    const b = await compactingHost(dir.path);
    assert.equal(Array.from(b.host.instance("stats", "m")!.kernelState as StatsState), expected);
    assert.is(expected[0], 4000);
    assert.ok(segments >= 1);
    await b.host.stop();
    await b.journal.close();
  } finally {
    dir.remove();
  }
});

test("an upgraded kind over a compacted journal starts afresh on what the journal holds, without --accept-journal-loss", async () => {
  const dir = tempDir();
  try {
    await feedAndCompact(await compactingHost(dir.path));
    const logs: string[] = [];
    const upgraded = { ...statsActor, version: statsActor.version + 1 };
    const b = await compactingHost(dir.path, upgraded, (m) => logs.push(m));
    const state = b.host.instance("stats", "m")!.kernelState as StatsState;
    await b.host.stop();
    await b.journal.close();
    assert.ok(logs.some((l) => l.includes("its kind was upgraded")), logs.join("\n"));
    // Afresh on the journal's tail: fewer samples than the 4,000 the old version had seen.
    assert.ok(state[0]! > 0 && state[0]! < 4000, `samples: ${state[0]}`);
  } finally {
    dir.remove();
  }
});

test("a snapshot of another machine version is discarded and the journal replayed from the start", async () => {
  const journal = new MemoryJournal();
  const snapshots = new MemorySnapshotStore();
  const bus = new InProcessBus();
  const h1 = quietHost({
    hostId: "h",
    bus,
    actors: [statsActor],
    journal,
    snapshots,
    snapshotEveryInputs: 2,
  });
  await h1.start();
  publishFrames(bus, frames("v", 5, 10));
  await bus.flush();
  await h1.stop();
  const expected = Array.from(h1.instance("stats", "v")!.kernelState as StatsState);
  const snap = await snapshots.load("stats/v");
  assert.ok(snap && snap.pos > 1);
  await snapshots.save({ ...snap!, version: 999, kernel: new Uint8Array(56) });
  const logs: string[] = [];
  const h2 = new Host({
    hostId: "h",
    bus: new InProcessBus(),
    actors: [statsActor],
    journal,
    snapshots,
    log: (m) => logs.push(m),
  });
  await h2.start();
  assert.equal(Array.from(h2.instance("stats", "v")!.kernelState as StatsState), expected);
  assert.ok(logs.some((l) => l.includes("version 999 discarded")), logs.join("\n"));
  await h2.stop();
});

test("a host owns only its partitions", async () => {
  const bus = new InProcessBus();
  const mk = (owned: number[]) =>
    quietHost({
      hostId: `h${owned[0]}`,
      bus,
      actors: [statsActor],
      journal: new MemoryJournal(),
      snapshots: new MemorySnapshotStore(),
      partitions: { count: 4, owned },
    });
  const h1 = mk([0, 1]);
  const h2 = mk([2, 3]);
  await h1.start();
  await h2.start();
  for (let c = 0; c < 40; c++) publishFrames(bus, frames(`ch${c}`, 1, 5));
  await bus.flush();
  const n1 = h1.instances().length, n2 = h2.instances().length;
  assert.is(n1 + n2, 40);
  assert.ok(n1 > 5 && n2 > 5, `${n1} / ${n2}`);
  await h1.stop();
  await h2.stop();
});

test("an input that keeps failing an instance is dead-lettered and skipped; the instance moves on", async () => {
  // A kind whose kernel throws on the value 666: a poison input.
  const poisoned = flakyKind;

  const bus = new InProcessBus();
  const dead: Array<{ subject: string; actor: string | undefined; error: string }> = [];
  bus.subscribe("troupe.dlq.>", (m) => {
    const l = decodeDeadLetter(m.data);
    dead.push({ subject: m.subject, actor: l.actor, error: l.error });
  });
  const restarted: Array<{ type: string; src: string; body: Record<string, unknown> }> = [];
  bus.subscribe("troupe.sys.actor.restarted", (m) => {
    const e = decodeEnvelope(m.data);
    restarted.push({ type: e.type, src: e.src, body: e.body as Record<string, unknown> });
  });
  const logs: string[] = [];
  const host = new Host({
    hostId: "h",
    bus,
    actors: [poisoned],
    journal: new MemoryJournal(),
    snapshots: new MemorySnapshotStore(),
    supervision: { backoffMsBase: 5, inputFailuresMax: 3, failuresMax: 10 },
    log: (m) => logs.push(m),
  });
  await host.start();
  const fs = frames("z", 6, 10);
  fs[2]!.v[4] = 666;
  publishFrames(bus, fs);
  for (let i = 0; i < 100 && host.instances()[0]?.status !== "running"; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  await new Promise((r) => setTimeout(r, 50));
  assert.is(host.instances()[0]?.status, "running", logs.join("\n"));
  assert.is(dead.length, 1);
  assert.is(dead[0]!.subject, "troupe.dlq.apply");
  assert.is(dead[0]!.actor, "flaky/z");
  assert.match(dead[0]!.error, "kernel bug on 666");
  const state = host.instance("flaky", "z")!.kernelState as StatsState;
  assert.is(
    statsSummary(state).count,
    50,
    "five good frames of ten applied, the poison one skipped",
  );
  const restarts = logs.filter((l) => l.includes("restarting in"));
  assert.ok(restarts.length > 0, logs.join("\n"));
  // A restart is announced once the instance runs again (a rebuild that fails again is one more
  // failure, not a restart): the last announcement counts every failure and its backoff.
  assert.ok(
    restarted.length >= 1 && restarted.length <= restarts.length,
    JSON.stringify(restarted),
  );
  for (const r of restarted) {
    assert.is(r.type, "actor_restarted");
    assert.is(r.src, "h");
    assert.is(r.body.stream, "flaky/z");
    assert.match(String(r.body.error), "kernel bug on 666");
  }
  assert.is(restarted.at(-1)!.body.failures, restarts.length);
  assert.is(restarted.at(-1)!.body.delay_ms, 5 * 2 ** (restarts.length - 1));
  await host.stop();
});

test("inputs that fail an instance, one after another, are each skipped and dead-lettered: under the default supervision they never add up to stopping it", async () => {
  const bus = new InProcessBus();
  const dead: string[] = [];
  bus.subscribe("troupe.dlq.>", (m) => dead.push(decodeDeadLetter(m.data).error));
  const logs: string[] = [];
  const host = new Host({
    hostId: "h",
    bus,
    actors: [flakyKind],
    journal: new MemoryJournal(),
    snapshots: new MemorySnapshotStore(),
    // The defaults (stop after 5 failures in a minute, skip an input after 3), faster backoff.
    supervision: { backoffMsBase: 2 },
    log: (m) => logs.push(m),
  });
  await host.start();
  try {
    const fs = frames("z", 8, 10);
    for (const i of [1, 3, 5]) fs[i]!.v[2] = 666; // three poison frames, each failing it 3 times
    publishFrames(bus, fs);
    for (let i = 0; i < 300 && dead.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    for (let i = 0; i < 100 && host.instances()[0]?.status !== "running"; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.is(host.instances()[0]?.status, "running", logs.join("\n"));
    assert.is(dead.length, 3, logs.join("\n"));
    assert.not.ok(logs.some((l) => l.includes("stopped after")), logs.join("\n"));
    const state = host.instance("flaky", "z")!.kernelState as StatsState;
    assert.is(statsSummary(state).count, 50, "five good frames of ten applied");
  } finally {
    await host.stop();
  }
});

test("an instance that fails too often is stopped and reported, and the host carries on", async () => {
  const broken = brokenKind;

  const bus = new InProcessBus();
  const stopped: string[] = [];
  bus.subscribe("troupe.sys.actor.stopped", (m) => stopped.push(decodeEnvelope(m.data).type));
  const host = quietHost({
    hostId: "h",
    bus,
    actors: [broken, statsActor],
    journal: new MemoryJournal(),
    snapshots: new MemorySnapshotStore(),
    supervision: { backoffMsBase: 2, failuresMax: 3, inputFailuresMax: 100 },
  });
  await host.start();
  publishFrames(bus, frames("w", 3, 10));
  for (let i = 0; i < 100 && stopped.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(stopped, ["actor_stopped"]);
  const statuses = Object.fromEntries(host.instances().map((i) => [i.stream, i.status]));
  assert.equal(statuses, { "broken/w": "stopped", "stats/w": "running" });
  assert.is(host.health().ok, false);
  await host.stop();
});

test.run();
