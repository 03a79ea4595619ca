import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { nabCalibration } from "../../bench/_nab_calibration.ts";
import { benchmark } from "../../bench/nab.ts";

const test = suite("nab_calibration");

const NAB_DEV = fileURLToPath(new URL("../../../shared/datasets/nab-dev", import.meta.url));
const HAVE_NAB = existsSync(`${NAB_DEV}/data`);
if (!HAVE_NAB) console.log(`\n  SKIP  nab_calibration corpus test: ${NAB_DEV} is absent\n`);
const nabTest = HAVE_NAB ? test : test.skip;

test("nabCalibration() counts each file's high scores outside its windows and its own best threshold", () => {
  const t = Array.from({ length: 100 }, (_, i) => i);
  // Rows 0 to 14 are probationary (15% of 100); the window is rows 50 to 59.
  const a = new Array<number>(100).fill(0);
  a[5] = 0.9; // probationary: not counted
  a[20] = 0.6; // outside, above 0.5
  a[30] = 0.4; // outside, below
  a[50] = 0.8; // inside the window
  const b = new Array<number>(100).fill(0);
  b[52] = 0.3;
  const quiet = new Array<number>(100).fill(0);
  quiet[70] = 0.7;
  const inputs = [
    { name: "x/a.csv", t, scores: a, windows: [[50, 59]] as [number, number][] },
    { name: "x/b.csv", t, scores: b, windows: [[50, 59]] as [number, number][] },
    { name: "y/quiet.csv", t, scores: quiet, windows: [] },
  ];
  const profile = { tpWeight: 1, fpWeight: 0.11, fnWeight: 1 };
  const { threshold, rows, spread } = nabCalibration(inputs, profile, 0.5);
  assert.is(threshold, 0.5);
  // 100 rows less 15 probationary less 10 in the window.
  assert.equal(rows.map((r) => [r.outside, r.above]), [[75, 1], [75, 0], [85, 1]]);
  assert.is(rows[0]!.share, 1 / 75);
  // a's best threshold skips its false 0.6 and keeps the window's 0.8; b's is its window's 0.3.
  assert.is(rows[0]!.best, 0.8);
  assert.is(rows[1]!.best, 0.3);
  assert.is(rows[2]!.best, null);
  assert.equal(spread, [0.3, 0.425, 0.55, 0.675, 0.8]);
});

nabTest(
  "bench nab --calibration Q prints every file and rows of the worst share and the spread",
  async () => {
    const log: string[] = [];
    const files = [
      "artificialNoAnomaly/art_daily_no_noise.csv",
      "realKnownCause/nyc_taxi.csv",
    ].join(",");
    const rows = await benchmark.run(["--files", files, "--calibration", "0.5"], {
      log: (m) => log.push(m),
      json: false,
    });
    const metrics = rows.map((r) => r.metric);
    assert.ok(metrics.includes("nab_false_alarm_share_max"), metrics.join(", "));
    assert.ok(metrics.includes("nab_best_threshold_iqr"), metrics.join(", "));
    assert.ok(
      log.some((l) => l.includes("promised share") && l.includes("0.0313")),
      log.join("\n"),
    );
    assert.ok(log.some((l) => l.includes("no windows") && l.includes("art_daily_no_noise")));
    assert.ok(
      log.some((l) => /best +0\.\d+ +realKnownCause\/nyc_taxi\.csv/.test(l)),
      log.join("\n"),
    );
  },
);

test.run();
