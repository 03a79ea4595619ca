/**
 * The inputs recovery skipped (an input the host died applying, or whose step overran) are known
 * to the next start before any journal is read: from the edge stream's `skipped` attempt records,
 * and from the edge's snapshot once compaction has dropped those records.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { EdgeDecisions } from "../../../../actors/runtime/edge/edge_decisions.ts";
import { MemoryJournal } from "../../../../actors/runtime/journal/memory_journal.ts";
import { MemorySnapshotStore } from "../../../../actors/runtime/snapshots/memory_snapshot_store.ts";

const test = suite("edge decisions: skipped inputs");

test("skippedIn() gives back the skipped positions from the journal, then from the snapshot", async () => {
  const journal = new MemoryJournal();
  const store = new MemorySnapshotStore();
  const first = new EdgeDecisions({ hostId: "h", journal, log: () => {} });
  await first.attempt({ phase: "begin", stream: "", pos: 0, srcPos: 0 });
  await first.attempt({ phase: "input", stream: "k/a", pos: 3, srcPos: 7 });
  await first.attempt({ phase: "skipped", stream: "k/a", pos: 5, srcPos: 9 });
  await first.attempt({ phase: "skipped", stream: "k/b", pos: 2, srcPos: 4 });
  assert.equal([...first.skippedIn("k/a")!], [5], "known at once to the start that skips");

  const second = new EdgeDecisions({ hostId: "h", journal, log: () => {} });
  await second.recover(store);
  assert.equal([...second.skippedIn("k/a")!], [5]);
  assert.equal([...second.skippedIn("k/b")!], [2]);
  assert.is(second.skippedIn("k/c"), undefined);
  assert.is(second.attempts.length, 4);

  // Snapshotted, and read back by a start whose journal holds nothing of the edge any more.
  await store.save(second.snapshot());
  const third = new EdgeDecisions({ hostId: "h", journal: new MemoryJournal(), log: () => {} });
  await third.recover(store);
  assert.equal([...third.skippedIn("k/a")!], [5]);
  assert.equal([...third.skippedIn("k/b")!], [2]);
  assert.is(third.attempts.length, 0);
});

test.run();
