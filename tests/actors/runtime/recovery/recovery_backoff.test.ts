/**
 * An instance whose rebuild fails while its host starts (an input it journaled before now throws)
 * waits in backoff, as supervision says; meanwhile the inputs its journal holds are still taken.
 * The host resumes its input after the lowest source position any instance took, so the frames
 * the journal holds come again: they are duplicates, not inputs to journal a second time.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { statsActor } from "../../../../actors/stats/mod.ts";
import { flakyKind } from "../../../_support/failing_kinds.ts";
import { Host } from "../../../../actors/runtime/host/host.ts";
import type { InputSource } from "../../../../actors/runtime/edge/input_source.ts";
import { InProcessBus } from "../../../../actors/runtime/transport/in_process_bus.ts";
import { MemoryJournal } from "../../../../actors/runtime/journal/memory_journal.ts";
import { MemorySnapshotStore } from "../../../../actors/runtime/snapshots/memory_snapshot_store.ts";
import { decodeInputRecord, encodeFrame, feedSubject } from "../../../../protocol/mod.ts";

const test = suite("recovery into backoff");

const BATCH = 10;

/** Frame `f` of `channel`, the value 666 in it when `poison` (flakyKind throws on it). */
function frame(channel: string, f: number, poison = false) {
  const t = new Float64Array(BATCH).map((_, i) => 1_700_000_000_000_000 + (f * BATCH + i) * 1000);
  const v = new Float64Array(BATCH).map((_, i) => (poison && i === 3 ? 666 : 10 + i));
  return {
    subject: feedSubject("t", channel),
    data: encodeFrame({ channel, seq0: f * BATCH, t, v }, { id: `${channel}-${f}`, src: "t" }),
  };
}

/** A feed with positions 1..n; those in `missing` are never handed over. */
function listInput(feed: ReturnType<typeof frame>[], missing: ReadonlySet<number>): InputSource {
  return {
    start(deliver, resumeAfter) {
      for (let pos = resumeAfter + 1; pos <= feed.length; pos++) {
        const m = feed[pos - 1]!;
        if (!missing.has(pos)) {
          deliver({ ...m, headers: undefined, reply: undefined }, pos);
        }
      }
      return Promise.resolve();
    },
    stop: () => Promise.resolve(),
  };
}

/** The source positions of a stream's frame records, in journal order. */
async function journaledSources(journal: MemoryJournal, stream: string): Promise<number[]> {
  const out: number[] = [];
  for await (const rec of journal.read(stream)) {
    const r = decodeInputRecord(rec.data);
    if (r.kind === "frame") out.push(r.srcPos);
  }
  return out;
}

test("frames journaled by an instance whose rebuild failed at start-up are not journaled again", async () => {
  // 1 a0, 2 z0, 3 z1 (666), 4 z2, 5 a1, 6 z3: the first host journals all but a1 (its append
  // was in flight when the host died), applying z1 with a kernel that did not yet fail on it.
  const feed = [
    frame("a", 0),
    frame("z", 0),
    frame("z", 1, true),
    frame("z", 2),
    frame("a", 1),
    frame("z", 3),
  ];
  const journal = new MemoryJournal();
  const bus = new InProcessBus();
  const before = { ...flakyKind, kernel: statsActor.kernel };
  const first = new Host({
    hostId: "h",
    bus,
    actors: [before],
    journal,
    snapshots: new MemorySnapshotStore(),
    input: listInput(feed, new Set([5])),
    log: () => {},
  });
  await first.start();
  await bus.flush();
  assert.equal(await journaledSources(journal, "flaky/z"), [2, 3, 4, 6]);
  assert.equal(await journaledSources(journal, "flaky/a"), [1]);
  await first.stop();

  // Started again with no snapshot, the kernel now throws on z1: recovery's fold fails, the
  // careful rebuild fails too, and flaky/z waits in backoff (long enough to outlast the test).
  const logs: string[] = [];
  const second = new Host({
    hostId: "h",
    bus,
    actors: [flakyKind],
    journal,
    snapshots: new MemorySnapshotStore(),
    input: listInput(feed, new Set()),
    supervision: { backoffMsBase: 60_000, inputFailuresMax: 3 },
    log: (m) => logs.push(m),
  });
  await second.start();
  await bus.flush();
  const z = second.instances().find((i) => i.stream === "flaky/z");
  assert.is(z?.status, "backoff", logs.join("\n"));
  // The input resumed after a0 (flaky/a's last): a1 is applied, and z0-z3 come again.
  assert.equal(await journaledSources(journal, "flaky/a"), [1, 5]);
  assert.equal(
    await journaledSources(journal, "flaky/z"),
    [2, 3, 4, 6],
    "what flaky/z's journal holds is taken while it waits",
  );
  await second.stop();
});

test.run();
