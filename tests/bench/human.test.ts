import { suite } from "uvu";
import * as assert from "uvu/assert";
import { human } from "../../bench/_human.ts";

const test = suite("bench _human");

test("human() writes three significant digits with a k/M/G suffix, rounding before it picks one", () => {
  assert.equal(
    [999_999.6, 1e6, 999.7, 1_234_567, 2.5e9, 12, 0.5, -999_999.6].map(human),
    ["1.00M", "1.00M", "1.00k", "1.23M", "2.50G", "12.0", "0.500", "-1.00M"],
  );
});

test.run();
