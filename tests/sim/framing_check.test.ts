import { suite } from "uvu";
import * as assert from "uvu/assert";
import { anomalyActor } from "../../actors/anomaly/mod.ts";
import { type AnyActorDefinition, type JournalRecord } from "../../actors/runtime/mod.ts";
import { statsActor, type StatsSummary } from "../../actors/stats/mod.ts";
import {
  encodeEnvelope,
  encodeFrame,
  encodeInputRecord,
  type InputRecord,
  type SampleFrame,
} from "../../protocol/mod.ts";
import { checkFraming } from "../../sim/framing_check.ts";
import { Prng } from "../../sim/prng/mod.ts";

const test = suite("framing check");

const T0 = 1_700_000_000_000_000;

/** A stream's journal: its configuration, then `n` samples of channel c in frames of `size`. */
function journal(config: unknown, n: number, size: number, ctlAt?: number): JournalRecord[] {
  const rng = new Prng(5);
  const records: InputRecord[] = [{
    kind: "init",
    srcPos: 0,
    subject: "",
    payload: encodeEnvelope({ id: "init", type: "init", src: "t", ts: T0, body: config }),
  }];
  for (let i = 0, k = 0; i < n; i += size, k++) {
    if (k === ctlAt) {
      const body = { every_samples: 50 };
      const payload = encodeEnvelope({ id: "ctl", type: "config", src: "t", ts: T0, body });
      records.push({ kind: "ctl", srcPos: 0, subject: "troupe.ctl.stats", payload });
    }
    const m = Math.min(size, n - i);
    const frame: SampleFrame = {
      channel: "c",
      seq0: i,
      t: Float64Array.from({ length: m }, (_, j) => T0 + (i + j) * 60_000_000),
      v: Float64Array.from(
        { length: m },
        (_, j) => 50 + 10 * Math.sin((i + j) / 30) + rng.normal(),
      ),
    };
    if (i === 3000) frame.v[0] = 400; // a spike
    const payload = encodeFrame(frame, { id: `f${k}`, src: "t" });
    records.push({ kind: "frame", srcPos: k + 1, subject: "troupe.feed.f.c", payload });
  }
  return records.map((r, i) => ({ stream: "x/c", pos: i + 1, data: encodeInputRecord(r) }));
}

// One event per frame, stamped with the frame's last sample: what issue 12 was about.
const framed: AnyActorDefinition = {
  ...statsActor,
  frameEvent: (_result: unknown, frame: SampleFrame) => ({
    type: "frame",
    publications: [
      {
        count: frame.v.length,
        mean: 0,
        variance: 0,
        min: 0,
        max: 0,
        rate_per_s: 0,
        t_last_us: frame.t[frame.t.length - 1]!,
      } satisfies StatsSummary,
    ],
  }),
};

test("stats and anomaly journals give the same outputs as journaled and re-framed", () => {
  assert.is(checkFraming(statsActor, "c", journal({ every_samples: 97 }, 5000, 100)), undefined);
  const anomaly = journal(anomalyActor.defaultConfig, 5000, 250);
  assert.is(checkFraming(anomalyActor, "c", anomaly), undefined);
});

test("a kind whose events depend on the framing is caught, naming the first difference", () => {
  const diff = checkFraming(framed, "c", journal({ every_samples: 1000 }, 2000, 100));
  assert.ok(diff, "a difference");
  assert.match(
    diff!,
    /^event 0: stats \d+ .*"count":100.* as journaled, stats \d+ .*"count":1.* re-framed$/,
  );
});

test("a journal with a control message among its frames is not checked", () => {
  // The framing-dependent kind, which the check would catch (see above).
  assert.ok(checkFraming(framed, "c", journal({ every_samples: 100 }, 1000, 100)));
  assert.is(checkFraming(framed, "c", journal({ every_samples: 100 }, 1000, 100, 3)), undefined);
});

test.run();
