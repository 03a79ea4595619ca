/**
 * `troupe bench detect --seeds`: the list of seeds it runs, the clear errors of a bad list, and the
 * line of labels found and false events summed over the seeds.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { describeSummed, parseSeeds } from "../../bench/_detect_seeds.ts";
import { scoreAnomalies } from "../../bench/_detect_score.ts";
import type { AnomalyWindow, GroundTruth } from "../../sim/mod.ts";

const test = suite("bench detect --seeds");

test("ranges and single seeds, in the order given", () => {
  assert.equal(parseSeeds("1-8"), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(parseSeeds("3,1,5"), [3, 1, 5]);
  assert.equal(parseSeeds("0-2, 9"), [0, 1, 2, 9]);
});

test("a bad list names what is wrong and the value", () => {
  const fails = (raw: string, why: RegExp) =>
    assert.throws(
      () => parseSeeds(raw),
      (err: Error) => why.test(err.message) && err.message.includes(`"${raw}"`),
    );
  fails("3-1", /runs backwards/);
  fails("1,x", /"x" is not a seed or a range/);
  fails("1,2,1", /seed 1 is given twice/);
  fails("-1", /not a seed or a range/);
  fails("0-5000", /more than 1000 seeds/);
});

test("the summed line adds each kind's labels and found, the false events and the repeats", () => {
  const H = 3_600e6;
  const window = (channel: string, kind: string, h: number) => ({
    channel,
    kind,
    start: h * H,
    end: (h + 1) * H,
    onset: h * H,
    index: h * 60,
  });
  const truth = (anomalies: AnomalyWindow[]): GroundTruth => ({
    feed: "metrics",
    options: {},
    channels: ["a", "b"],
    samples: 1000,
    startUs: 0,
    endUs: 1000 * 60e6,
    anomalies,
    changePoints: [],
    regimes: [],
  });
  const finding = (key: string, h: number) => ({ kind: "anomaly", key, ts: h * H, body: {} });
  const options = { channels: ["a", "b"], intervalUs: 60e6 };
  const one = scoreAnomalies(
    truth([window("a", "drift", 2), window("a", "spike", 5), window("b", "drift", 3)]),
    [finding("a", 2.5), finding("a", 2.7), finding("b", 8), finding("b", 9)],
    options,
  );
  const two = scoreAnomalies(
    truth([window("b", "spike", 4)]),
    [finding("b", 4.2), finding("a", 7)],
    options,
  );
  assert.is(
    describeSummed("metrics", [one, two]),
    "metrics: found drift 1/2, spike 1/2; 3 false events, 1 repeat",
  );
});

test.run();
