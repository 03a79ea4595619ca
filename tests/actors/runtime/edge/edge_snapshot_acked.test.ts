/**
 * A host's edge decisions on a journal whose appends are acknowledged later (JetStream, against a
 * real nats-server): a snapshot taken while its decisions' records are in flight carries the
 * position acknowledged by then, and once the rest are acknowledged the next snapshot is due, so
 * that those records are covered (and compacted) without waiting for another decision.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { EdgeDecisions } from "../../../../actors/runtime/edge/mod.ts";
import { JetStreamJournal } from "../../../../actors/runtime/journal/jetstream/mod.ts";
import { haveNatsServer, natsForSuite } from "../../../_support/nats.ts";

const test = suite("edge snapshot acked");
const it = haveNatsServer("edge snapshot acked") ? test : test.skip;
const nats = natsForSuite(test, it);

it("records acknowledged after a snapshot make the next one due, at their position", async () => {
  const journal = await JetStreamJournal.open(nats.nc, {
    stream: "EDGE_ACKED",
    subjectPrefix: "edgeacked.journal",
  });
  try {
    const decisions = new EdgeDecisions({ hostId: "h1", journal, log: () => {} });
    for (let c = 0; c < 50; c++) decisions.admit(`c${c}`, c + 1);
    // Taken at once: the admits' appends are in flight, their positions not yet known here.
    const first = decisions.snapshotDue(() => true);
    assert.ok(first !== undefined);
    assert.ok(first.pos < 50, `first snapshot at ${first.pos}`);
    await journal.sync();
    const next = decisions.snapshotDue(() => true);
    assert.ok(next !== undefined, "a snapshot is due once the admits are acknowledged");
    assert.is(next.pos, 50);
    assert.is(decisions.snapshotDue(() => true), undefined);
  } finally {
    await journal.close();
  }
});

test.run();
