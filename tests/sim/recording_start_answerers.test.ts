/**
 * A recorder begun mid-session waits for every host that the answers to its state capture name as
 * answering beside them (a leased cluster's partition hosts, a threaded host's threads), not only
 * for a quiet moment after the last answer: a partition host whose instance is still applying
 * what it was sent answers late on a loaded machine, and its state was left out of the recording.
 * One named that had not answered by the timeout (a partition's new owner, started after the ask)
 * is asked again; one that never answers is said in the outcome's notes.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { statsActor } from "../../actors/stats/mod.ts";
import { Host } from "../../actors/runtime/host/host.ts";
import { partitionOf } from "../../actors/runtime/host/mod.ts";
import { InProcessBus } from "../../actors/runtime/transport/in_process_bus.ts";
import { MemorySnapshotStore } from "../../actors/runtime/snapshots/memory_snapshot_store.ts";
import { encodeFrame, feedSubject, savedIds } from "../../protocol/mod.ts";
import { Recorder } from "../../sim/recording/mod.ts";
import { tempDir } from "../_support/nats.ts";
import { type Journal, MemoryJournal } from "../../actors/runtime/journal/mod.ts";
import { stalledJournal } from "../_support/stalled_journal.ts";

const test = suite("recording start: every answerer");
const dir = tempDir("troupe-recording-answerers-");
test.after(() => dir.remove());
let n = 0;
const file = () => join(dir.path, `a${++n}.rec`);

/** The partition hosts of a two-partition cluster, as a leased cluster names them. */
const ANSWERERS = ["part-0", "part-1"];

/** A key of `partition` of 2. */
function keyOf(partition: number): string {
  for (let i = 0;; i++) if (partitionOf(`ch${i}`, 2) === partition) return `ch${i}`;
}

function frame(channel: string, i: number): Uint8Array {
  const t = new Float64Array([1_700_000_000_000_000 + i * 1000]);
  return encodeFrame({ channel, seq0: i, t, v: new Float64Array([i % 7]) }, {
    id: `f-${channel}-${i}`,
    src: "test",
  });
}

/** Partition `p`'s host on `bus`, naming `answerers` on its answers. */
function partitionHost(bus: InProcessBus, p: number, journal: Journal): Host {
  return new Host({
    hostId: `part-${p}`,
    captureAnswerers: ANSWERERS,
    bus,
    actors: [statsActor],
    config: { stats: { every_samples: 4 } },
    partitions: { count: 2, owned: [p] },
    journal,
    snapshots: new MemorySnapshotStore(),
    log: () => {},
  });
}

test("a partition host answering well after the others is waited for, its state captured", async () => {
  const bus = new InProcessBus();
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const hosts = [
    partitionHost(bus, 0, new MemoryJournal()),
    partitionHost(bus, 1, stalledJournal("stats/", (pos) => gate.then(() => pos))),
  ];
  for (const h of hosts) await h.start();
  const [a, b] = [keyOf(0), keyOf(1)];
  try {
    for (let i = 0; i < 4; i++) {
      bus.publish(feedSubject("t", a), frame(a, i));
      bus.publish(feedSubject("t", b), frame(b, i));
    }
    await bus.flush();
    // part-1's journal holds its inputs back past the quiet gap after part-0's answer (four
    // times part-0's time to answer, which waits its first look: at least a second).
    const release = setTimeout(open, 3000);
    const { recorder, outcome } = await Recorder.begin(bus, {
      path: file(),
      header: { source: "test" },
      capture: { settleMs: 5000 },
    });
    clearTimeout(release);
    recorder.stop();
    assert.equal(outcome.notes, []);
    const parts = outcome.start!.parts;
    assert.equal(parts.map((p) => p.host), ["part-0", "part-1"]);
    assert.equal(parts[1]!.instances.map((i) => i.stream), [`stats/${b}`]);
    assert.equal(
      parts[1]!.instances[0]!.ids.slice(-8),
      savedIds([`f-${b}-3`]),
      "its inputs before the ask are in",
    );
    assert.equal(parts[0]!.instances.map((i) => i.stream), [`stats/${a}`]);
  } finally {
    open();
    for (const h of hosts) await h.stop();
  }
});

test("a named host that starts after the ask is asked again; one that never answers is said", async () => {
  const bus = new InProcessBus();
  const first = partitionHost(bus, 0, new MemoryJournal());
  await first.start();
  const late = partitionHost(bus, 1, new MemoryJournal());
  const [a, b] = [keyOf(0), keyOf(1)];
  try {
    bus.publish(feedSubject("t", a), frame(a, 0));
    await bus.flush();
    // part-1 takes its partition after the ask, as a partition's new owner does while its lease
    // moves: it never saw the first ask.
    const starting = new Promise((r) => setTimeout(r, 800)).then(async () => {
      await late.start();
      bus.publish(feedSubject("t", b), frame(b, 0));
    });
    const begun = await Recorder.begin(bus, {
      path: file(),
      header: { source: "test" },
      capture: { settleMs: 500, timeoutMs: 2000 },
    });
    await starting;
    begun.recorder.stop();
    assert.equal(begun.outcome.notes, []);
    assert.equal(begun.outcome.start!.parts.map((p) => p.host), ["part-0", "part-1"]);
    assert.equal(begun.outcome.start!.parts[1]!.instances.map((i) => i.stream), [`stats/${b}`]);

    // Without part-1: asked twice, each up to the timeout, then said.
    await late.stop();
    const t0 = performance.now();
    const { recorder, outcome } = await Recorder.begin(bus, {
      path: file(),
      header: { source: "test" },
      capture: { settleMs: 500, timeoutMs: 1500 },
    });
    recorder.stop();
    const waited = performance.now() - t0;
    // Not at the quiet gap after part-0's answer (a second or so), but at the second timeout.
    assert.ok(waited >= 2500, `the capture ended after ${waited} ms, before its timeouts`);
    assert.equal(outcome.start!.parts.map((p) => p.host), ["part-0"]);
    assert.equal(outcome.notes, [
      "host part-1 did not answer (the hosts that did name it, asked twice): its instances are " +
      "not captured",
    ]);
  } finally {
    await first.stop();
    await late.stop().catch(() => {});
  }
});

test.run();
