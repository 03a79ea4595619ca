/**
 * The leased stage's published mark against the memory snapshot store: it is written after the
 * flush, one write at a time with the latest sequence winning, read back by a new holder, and
 * written no more once stopped.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { INCIDENT_PUBLISHED_STREAM, PublishedMark } from "../../../actors/incidents/mod.ts";
import { MemorySnapshotStore } from "../../../actors/runtime/mod.ts";

const test = suite("published_mark");

test("PublishedMark writes after the flush, coalesces, is read back, and stops writing", async () => {
  const snapshots = new MemorySnapshotStore();
  const saved: number[] = [];
  const save = snapshots.save.bind(snapshots);
  snapshots.save = (snap) => {
    saved.push(snap.pos);
    return save(snap);
  };
  let flushes = 0;
  let release!: () => void;
  const flush = () => {
    flushes++;
    return new Promise<void>((r) => (release = r));
  };
  assert.is(await PublishedMark.load(snapshots), 0, "no mark: 0");
  const mark = new PublishedMark(
    { snapshots, flush, onError: (err) => assert.unreachable(String(err)) },
    0,
  );
  mark.advance(3);
  mark.advance(4);
  mark.advance(7); // while the first write waits on its flush: one more write, at 7
  mark.advance(5); // behind the mark: nothing
  assert.equal(saved, [], "nothing before the flush answers");
  release();
  while (flushes < 2) await new Promise((r) => setTimeout(r, 1));
  release();
  assert.is(await mark.written(), 7);
  assert.equal(saved, [3, 7]);
  assert.is(await PublishedMark.load(snapshots), 7, "a new holder reads it");
  mark.stop();
  mark.advance(9);
  assert.is(await mark.written(), 7);
  assert.equal(saved, [3, 7], "stopped: no write");
  // A mark of another format is not read.
  await snapshots.save({
    stream: INCIDENT_PUBLISHED_STREAM,
    version: 99,
    pos: 12,
    machine: null,
    kernel: new Uint8Array(0),
  });
  assert.is(await PublishedMark.load(snapshots), 0);
});

test.run();
