/**
 * `troupe bench evidence`'s scoring (bench/_evidence_score.ts): an alarm outside every fault and
 * its grace is one in the quiet, history before the live start is not scored, a fault is reached
 * at its earliest alarm across series, and its most evidence is named.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { scoreEvidence } from "../../bench/_evidence_score.ts";
import { evidenceRows } from "../../bench/evidence.ts";

const S = 1000;

test("scoreEvidence() splits alarms into the quiet and the faults' windows", () => {
  const tMs = Float64Array.from({ length: 10 }, (_, i) => i * 10 * S);
  const channels = [
    // An alarm in history (t 0, before the live start), one in the quiet (t 20), one in the fault.
    {
      channel: "x",
      tMs,
      bits: Float64Array.from([30, 0, 25, 0, 0, 5, 12, 22, 0, 0]),
      alarms: [0, 2, 7],
    },
    // The earlier alarm of the fault, and one in its grace (t 80 <= end 70 + grace 10).
    {
      channel: "y",
      tMs,
      bits: Float64Array.from([0, 0, 0, 0, 0, 21, 0, 0, 20, 0]),
      alarms: [5, 8],
    },
  ];
  const faults = [{ name: "burn", startMs: 45 * S, endMs: 70 * S }, {
    name: "idle",
    startMs: 90 * S,
    endMs: 95 * S,
  }];
  const score = scoreEvidence(channels, faults, { liveStartMs: 10 * S, graceMs: 10 * S });
  assert.equal(score.quiet, [{ channel: "x", tMs: 20 * S }]);
  assert.equal(score.faults[0], {
    name: "burn",
    first: { channel: "y", tMs: 50 * S },
    delayS: 5,
    mostBits: 22,
    mostChannel: "x",
  });
  assert.equal(score.faults[1]!.first, null);
  assert.is(score.faults[1]!.delayS, null);
  const rows = evidenceRows(score, faults.length);
  assert.equal(rows.map((r) => [r.metric, r.troupe, r.baseline]), [
    ["evidence_quiet_alarms", 1, 0],
    ["evidence_faults_reached", 1, 2],
    ["evidence_delay_s_max", 5, 60],
  ]);
});

test.run();
