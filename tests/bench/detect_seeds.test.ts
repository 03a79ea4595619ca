/**
 * `troupe bench detect --seeds`: the list of seeds it runs, and the clear errors of a bad list.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { parseSeeds } from "../../bench/detect.ts";

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

test.run();
