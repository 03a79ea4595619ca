/**
 * LatestFindings, the few latest findings troupe up's status prints: it keeps the newest `keep`,
 * counts the rest, resets at each take, and stops listening at close; fed on the findings'
 * subjects through a real in-process bus, as troupe up's is without nats-server.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { LatestFindings } from "../../collab/mod.ts";
import { InProcessBus } from "../../actors/runtime/mod.ts";
import { encodeEventEnvelope, findingSubject } from "../../protocol/mod.ts";

const test = suite("latest_findings");
const TS = 1_800_000_000_000_000;

function publishAnomaly(bus: InProcessBus, channel: string, i: number): void {
  const meta = { id: `a-${channel}-${i}`, type: "anomaly", src: "test", ts: TS + i };
  bus.publish(
    findingSubject("anomaly", channel),
    encodeEventEnvelope(meta, {
      type: "anomaly",
      ts: TS + i,
      channel,
      score: 0.93,
      value: 105,
      expected: 100,
      lower: 98,
      upper: 102,
    }),
  );
}

test("take() keeps the latest two of five findings, counts all five, then resets; close() stops it", async () => {
  const bus = new InProcessBus();
  const latest = new LatestFindings(bus, 2);
  try {
    assert.equal(latest.take(), []);
    for (const [i, channel] of ["A", "B", "C", "D", "E"].entries()) publishAnomaly(bus, channel, i);
    await bus.flush();
    const lines = latest.take();
    assert.is(lines.length, 3);
    assert.is(lines[0], "5 new findings (latest 2; troupe watch shows all):");
    assert.match(lines[1]!, /^ {2}\S.* anomaly +D +/);
    assert.match(lines[2]!, /^ {2}\S.* anomaly +E +/);
    assert.equal(latest.take(), []);
    publishAnomaly(bus, "F", 5);
    await bus.flush();
    const one = latest.take();
    assert.is(one[0], "1 new finding:");
    assert.match(one[1]!, / anomaly +F +/);
    latest.close();
    publishAnomaly(bus, "G", 6);
    await bus.flush();
    assert.equal(latest.take(), []);
  } finally {
    latest.close();
    await bus.close();
  }
});

test.run();
