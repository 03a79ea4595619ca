/**
 * A recording's start section: written between the header and the first record, read back as
 * written, and made by a recorder begun mid-session from the hosts' answers to its state capture.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { statsActor } from "../../actors/stats/mod.ts";
import { Host } from "../../actors/runtime/host/host.ts";
import { InProcessBus } from "../../actors/runtime/transport/in_process_bus.ts";
import { MemoryJournal } from "../../actors/runtime/journal/memory_journal.ts";
import { MemorySnapshotStore } from "../../actors/runtime/snapshots/memory_snapshot_store.ts";
import { InputIdWindow } from "../../actors/runtime/instances/mod.ts";
import { encodeFrame, feedSubject, savedIds } from "../../protocol/mod.ts";
import {
  Recorder,
  RECORDING_FORMAT_VERSION,
  RECORDING_START_FORMAT_VERSION,
  RecordingFormatError,
  RecordingReader,
  RecordingWriter,
} from "../../sim/recording/mod.ts";
import { tempDir } from "../_support/nats.ts";

const test = suite("recording start section");
const dir = tempDir("troupe-recording-start-");
test.after(() => dir.remove());
let n = 0;
const file = () => join(dir.path, `s${++n}.rec`);

const start = {
  takenUs: 1_704_067_200_000_000,
  parts: [{
    host: "h1",
    part: 0,
    parts: 1,
    atMs: 1_704_067_200_000,
    kinds: { stats: { version: 1, config: { every_samples: 5 } } },
    instances: [{
      stream: "stats/a",
      version: 1,
      pos: 3,
      srcPos: 0,
      machine: { value: "x" },
      kernel: new Uint8Array([9, 8, 7]),
      config: { every_samples: 5 },
      ids: savedIds(["i1", "i2"]),
    }],
    missed: [],
  }],
};

function frame(channel: string, i: number): Uint8Array {
  const t = new Float64Array([1_700_000_000_000_000 + i * 1000]);
  return encodeFrame({ channel, seq0: i, t, v: new Float64Array([i % 7]) }, {
    id: `f-${channel}-${i}`,
    src: "test",
  });
}

test("a start section is read back as written, before records and trailer as before", async () => {
  const path = file();
  const w = RecordingWriter.create(path, { source: "test" }, {}, start);
  w.append("troupe.feed.x.a", 5, new Uint8Array([1, 2]));
  w.close();
  const reader = await RecordingReader.open(path);
  assert.is(reader.header.format, RECORDING_START_FORMAT_VERSION);
  assert.is(RECORDING_START_FORMAT_VERSION, 4);
  assert.equal(reader.start, start);
  const records = [];
  for await (const m of reader.messages()) records.push([m.subject, m.tUs, [...m.data]]);
  assert.equal(records, [["troupe.feed.x.a", 5, [1, 2]]]);
  assert.is(reader.whole, true);
});

test("a damaged start section is refused, naming the file and what is wrong", async () => {
  const path = file();
  RecordingWriter.create(path, { source: "test" }, {}, start).close();
  const bytes = readFileSync(path);
  const at = bytes.indexOf(Buffer.from("stats/a"));
  bytes[at] = 0x53; // "S"
  writeFileSync(path, bytes);
  try {
    await RecordingReader.open(path);
    assert.unreachable("opened");
  } catch (err) {
    assert.instance(err, RecordingFormatError);
    assert.match((err as Error).message, `${path}: the start section's checksum does not match`);
  }
});

test("Recorder.begin() writes the hosts' answers as the start section, then what it held", async () => {
  const bus = new InProcessBus();
  const host = new Host({
    hostId: "h1",
    bus,
    actors: [statsActor],
    config: { stats: { every_samples: 4 } },
    journal: new MemoryJournal(),
    snapshots: new MemorySnapshotStore(),
    log: () => {},
  });
  await host.start();
  const path = file();
  try {
    for (let i = 0; i < 6; i++) bus.publish(feedSubject("t", "a"), frame("a", i));
    await bus.flush();
    const begun = Recorder.begin(bus, { path, header: { source: "test" } });
    for (let i = 6; i < 9; i++) bus.publish(feedSubject("t", "a"), frame("a", i));
    const { recorder, outcome } = await begun;
    assert.equal(outcome.notes, []);
    for (let i = 9; i < 12; i++) bus.publish(feedSubject("t", "a"), frame("a", i));
    await bus.flush();
    await bus.flush();
    recorder.stop();
    const plain = file();
    RecordingWriter.create(plain, { source: "test" }).close();
    assert.is((await RecordingReader.open(plain)).header.format, RECORDING_FORMAT_VERSION);
    const reader = await RecordingReader.open(path);
    const inst = reader.start!.parts[0]!.instances;
    assert.equal(inst.map((i) => i.stream), ["stats/a"]);
    const held = new InputIdWindow(inst[0]!.ids);
    assert.ok(held.has("f-a-5"), "the inputs before the recorder are in the state");
    assert.not.ok(held.has("f-a-9"), "an input after the answer is not");
    const feeds: string[] = [], sys: string[] = [];
    for await (const m of reader.messages()) {
      if (m.subject.startsWith("troupe.feed.")) feeds.push(String(m.data.length));
      if (m.subject.startsWith("troupe.sys.")) sys.push(m.subject);
    }
    assert.is(feeds.length, 6, "every input from the subscription on is recorded");
    assert.equal(sys, [], "the recorder's own ask is not recorded");
  } finally {
    await host.stop();
  }
});

test.run();
