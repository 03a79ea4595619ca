import { suite } from "uvu";
import * as assert from "uvu/assert";
import { MessageChannel } from "node:worker_threads";
import {
  NamesReader,
  NamesWriter,
  type WatchedInstance,
} from "../../../../actors/runtime/host/_watch_names.ts";

const test = suite("watch_names");

function instance(id: number, key: string): WatchedInstance {
  return { id, stream: `anomaly/${key}`, kind: "anomaly", key, deadlineMs: 250 + id };
}

/** A writer and a reader on the two ends of a channel, as a host's thread and its watchdog. */
function pair() {
  const { port1, port2 } = new MessageChannel();
  const reader = new NamesReader();
  const logs: unknown[] = [];
  port2.on("message", (m: unknown) => {
    logs.push(m);
    assert.ok(reader.take(m));
  });
  const close = () => {
    port1.close();
    port2.close();
  };
  return { writer: new NamesWriter(port1), reader, logs, close };
}

/** Lets the channel's messages arrive. */
const arrive = () => new Promise((r) => setTimeout(r, 20));

test("every instance written is read back as written, across logs", async () => {
  const { writer, reader, logs, close } = pair();
  const all: WatchedInstance[] = [];
  // Keys long enough that a log (1 MiB) fills more than once.
  const labels = `job="node",instance="host-${"x".repeat(200)}:9100",é="ü"`;
  for (let id = 1; id <= 10_000; id++) {
    const inst = instance(id, `node_cpu_seconds_total{cpu="${id}",mode="idle",${labels}}`);
    if (id % 7 === 0) inst.host = `part-${id % 4}`;
    all.push(inst);
    writer.write(inst);
  }
  await arrive();
  assert.ok(logs.length >= 2, `logs sent: ${logs.length}`);
  for (const inst of all) assert.equal(reader.get(inst.id), inst);
  assert.is(reader.get(10_001), undefined);
  close();
});

test("an entry is read once written, however far the reader has read", async () => {
  const { writer, reader, close } = pair();
  writer.write(instance(1, "a"));
  await arrive();
  assert.equal(reader.get(1), instance(1, "a"));
  assert.is(reader.get(2), undefined);
  // Written after the reader read the log to its end: the same log, read on.
  writer.write(instance(2, "b"));
  assert.equal(reader.get(2), instance(2, "b"));
  close();
});

test("one description larger than a log gets a log of its own", async () => {
  const { writer, reader, close } = pair();
  writer.write(instance(1, "a"));
  const big = instance(2, "k".repeat(2_000_000));
  writer.write(big);
  writer.write(instance(3, "c"));
  await arrive();
  assert.equal(reader.get(2), big);
  assert.equal(reader.get(3), instance(3, "c"));
  assert.equal(reader.get(1), instance(1, "a"));
  close();
});

test("a message that is no log is not taken", () => {
  const reader = new NamesReader();
  assert.not.ok(reader.take({ id: 1 }));
  assert.not.ok(reader.take(null));
  assert.not.ok(reader.take({ namesLog: new ArrayBuffer(8) }));
});

test.run();
