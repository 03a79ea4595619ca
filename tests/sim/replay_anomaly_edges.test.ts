/**
 * A recording made before issue 33, whose anomaly columns frames hold the band as its edges
 * (`lower`, `upper`), still replays and verifies with today's actor, which sends the band as its
 * half-width (`spread`): each replayed frame, written in the older form, is the recorded one byte
 * for byte. The fixture was recorded by tests/sim/fixtures/record_anomaly_session.ts on commit
 * d89c9e0; it holds a skipped sample at the start of a frame (the band the frame before left) and
 * an incident. Its values repeat a pattern the kernel has met since its warm-up, so every score but
 * the incident's is 0 at any version: the first recording's noise scored marginal novelties, which
 * issue 30's later rounds moved (a score of 0.17 to 0, an incident gone), and the test is about
 * the wire form, not those scores (the incident's own score moved with version 22). The incident's event was recorded before the events named the
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

test("replay --verify finds every output but the incident's score equal, written in the older form", async () => {
  const r = await replay(FIXTURE, { verify: true });
  assert.equal(r.kinds, ["anomaly"]);
  const v = r.verify!;
  // The fixture notes no versions, so the anomaly kind is compared. Its incident's sample scored
  // 0.85 when recorded, a full score capped by the calibration that version 22 removed; today it
  // scores 1: that sample's columns frame and its event differ, by that score alone.
  assert.is(v.different, 2, JSON.stringify(v));
  assert.ok(v.first?.detail.startsWith("body.columns.score[20]"), JSON.stringify(v.first));
  assert.is(v.equal, 23);
  // The other 23 columns frames, each the replayed one in the older form.
  assert.is(v.olderFormat, 23);
});

test.run();
