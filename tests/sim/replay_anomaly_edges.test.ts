/**
 * A recording made before issue 33, whose anomaly columns frames hold the band as its edges
 * (`lower`, `upper`), still replays and verifies with today's actor, which sends the band as its
 * half-width (`spread`): each replayed frame, written in the older form, is the recorded one byte
 * for byte. The fixture was recorded by tests/sim/fixtures/record_anomaly_session.ts on commit
 * d89c9e0; it holds a skipped sample at the start of a frame (the band the frame before left) and
 * an incident. Its values repeat a pattern the kernel has met since its warm-up, so every score but
 * the incident's is 0 at any version: the first recording's noise scored marginal novelties, which
 * issue 30's later rounds moved (a score of 0.17 to 0, an incident gone), and the test is about
 * the wire form, not those scores. The incident's event was recorded before the events named the
 * view that scored them: today's names it, and is the recorded one without it.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { fileURLToPath } from "node:url";
import { anomalyBandOf, COLUMNS_TYPE, decodeColumns, decodeEnvelope } from "../../protocol/mod.ts";
import { replay } from "../../sim/recording/mod.ts";
import { readRecords } from "../_support/recording.ts";

const test = suite("replay of a recording with the anomaly band as its edges");
const FIXTURE = fileURLToPath(new URL("./fixtures/anomaly_edges.rec", import.meta.url));

async function columnsFrames() {
  return (await readRecords(FIXTURE))
    .filter((m) => m.subject.startsWith("troupe.out.anomaly."))
    .filter((m) => decodeEnvelope(m.data).type === COLUMNS_TYPE)
    .map((m) => decodeColumns(m.data).frame);
}

test("the fixture holds the band as its edges, and anomalyBandOf() reads them as they came", async () => {
  const frames = await columnsFrames();
  assert.is(frames.length, 24);
  for (const f of frames) {
    assert.equal(Object.keys(f.columns), ["score", "expected", "lower", "upper", "value"]);
    const band = anomalyBandOf(f.columns)!;
    assert.is(band.lower, f.columns.lower);
    assert.is(band.upper, f.columns.upper);
  }
});

test("replay --verify finds every output equal, the columns frames and the event once written in the older form", async () => {
  const r = await replay(FIXTURE, { verify: true });
  assert.equal(r.kinds, ["anomaly"]);
  const v = r.verify!;
  assert.ok(v.ok, JSON.stringify(v));
  assert.is(v.equal, 25);
  assert.is(v.different, 0);
  // The 24 columns frames, and the incident's event: recorded before the events named their view,
  // it is the replayed one without it (protocol/events/anomaly.ts).
  assert.is(v.olderFormat, 25);
});

test.run();
