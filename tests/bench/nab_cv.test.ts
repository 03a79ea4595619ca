import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  categoryGap,
  categoryScores,
  cvHalves,
  locoFolds,
  parseSweep,
} from "../../bench/_nab_cv.ts";
import { scoreCorpus } from "../../bench/_nab_scorer.ts";
import { benchmark } from "../../bench/nab.ts";
import { BenchOptionError } from "../../bench/mod.ts";

const test = suite("nab_cv");

const NAB_DEV = fileURLToPath(new URL("../../../shared/datasets/nab-dev", import.meta.url));
const HAVE_NAB = existsSync(`${NAB_DEV}/data`);
if (!HAVE_NAB) console.log(`\n  SKIP  nab_cv corpus tests: ${NAB_DEV} is absent\n`);
const nabTest = HAVE_NAB ? test : test.skip;

test("cvHalves() alternates each category's sorted files between A and B", () => {
  const paths = ["b/2.csv", "a/1.csv", "b/1.csv", "a/3.csv", "a/2.csv", "c/1.csv"];
  assert.equal(cvHalves(paths), {
    a: ["a/1.csv", "a/3.csv", "b/1.csv", "c/1.csv"],
    b: ["a/2.csv", "b/2.csv"],
  });
});

test("parseSweep() gives every combination, and names a bad part", () => {
  assert.equal(parseSweep("bins=12,16; grids=1,3"), [
    { bins: 12, grids: 1 },
    { bins: 12, grids: 3 },
    { bins: 16, grids: 1 },
    { bins: 16, grids: 3 },
  ]);
  assert.equal(parseSweep(""), [{}]);
  assert.throws(() => parseSweep("bins=12,x"), (e: unknown) => {
    return e instanceof BenchOptionError && e.message.includes('"bins=12,x"');
  });
  assert.throws(() => parseSweep("=3"), (e: unknown) => e instanceof BenchOptionError);
});

test("categoryScores() normalises each category over its own windows", () => {
  const t = Array.from({ length: 100 }, (_, i) => i);
  const hit = new Array<number>(100).fill(0);
  hit[50] = 1;
  const inputs = [
    { name: "x/1.csv", t, scores: hit, windows: [[50, 59]] as [number, number][] },
    {
      name: "x/2.csv",
      t,
      scores: new Array<number>(100).fill(0),
      windows: [[50, 59]] as [number, number][],
    },
    { name: "y/1.csv", t, scores: hit, windows: [] },
  ];
  const profile = { tpWeight: 1, fpWeight: 0.11, fnWeight: 1 };
  const [report] = scoreCorpus(inputs, { standard: profile });
  const cats = categoryScores(report!, inputs, 1, 1);
  assert.is(cats.length, 2);
  assert.equal(cats[0]!.category, "x");
  assert.is(cats[0]!.windows, 2);
  assert.is(cats[0]!.normalized, 50); // one window caught at its start, one missed: (0 + 2) / 4
  assert.is(cats[1]!.normalized, null);
  assert.ok(cats[1]!.raw < 0, "the detection outside any window costs");
});

test("locoFolds() scores each category at the threshold chosen on the others", () => {
  const t = Array.from({ length: 100 }, (_, i) => i);
  // A file whose window [50, 59] holds a score of `inside`, with `outside` at row 20.
  const file = (name: string, inside: number, outside: number) => {
    const scores = new Array<number>(100).fill(0);
    scores[50] = inside;
    scores[20] = outside;
    return { name, t, scores, windows: [[50, 59]] as [number, number][] };
  };
  // Category a's anomalies score 0.9, b's 0.6; c has no windows and a false score of 0.7, so any
  // threshold at or below 0.7 costs a false positive there.
  const quiet = new Array<number>(100).fill(0);
  quiet[30] = 0.7;
  const inputs = [
    file("a/1.csv", 0.9, 0),
    file("a/2.csv", 0.9, 0),
    file("b/1.csv", 0.6, 0),
    { name: "c/1.csv", t, scores: quiet, windows: [] },
  ];
  const profile = { tpWeight: 1, fpWeight: 0.11, fnWeight: 1 };
  const { folds, mean } = locoFolds(inputs, profile);
  // c, with no windows, is never held out.
  assert.equal(folds.map((f) => f.category), ["a", "b"]);
  const [a, b] = folds;
  // Held out, a is scored at the threshold b and c choose: 0.6 (b's window is worth more than
  // c's false positive), which still catches a's windows at their start.
  assert.is(a!.threshold, 0.6);
  assert.is(a!.normalized, 100);
  // Held out, b is scored at the threshold a and c choose: 0.9, above b's score, so it misses.
  assert.is(b!.threshold, 0.9);
  assert.is(b!.normalized, 0);
  assert.is(mean, 50);
  // Each category swept on itself would score 100: the held-out threshold is not its own.
  const alone = scoreCorpus([inputs[2]!], { standard: profile })[0]!;
  assert.is(alone.normalized, 100);
});

test("categoryGap() weighs each category at its own threshold against one threshold for all", () => {
  const t = Array.from({ length: 100 }, (_, i) => i);
  const file = (name: string, inside: number, outside: number) => {
    const scores = new Array<number>(100).fill(0);
    scores[50] = inside;
    scores[20] = outside;
    return { name, t, scores, windows: [[50, 59]] as [number, number][] };
  };
  // Category a finds its window at 0.9 with a false score of 0.6; b finds its own at 0.6 with no
  // false score: a alone would choose 0.9, b alone 0.6, so one threshold serves only one of them.
  const inputs = [file("a/1.csv", 0.9, 0.6), file("b/1.csv", 0.6, 0), file("b/2.csv", 0.6, 0)];
  const profile = { tpWeight: 1, fpWeight: 0.11, fnWeight: 1 };
  const gap = categoryGap(inputs, profile);
  assert.equal(gap.own.map((c) => [c.category, c.threshold, c.normalized]), [
    ["a", 0.9, 100],
    ["b", 0.6, 100],
  ]);
  assert.is(gap.ownMean, 100);
  // Together, 0.6 wins (b's two windows are worth more than a's false positive), which costs a
  // its false positive: the corpus falls below its categories' own mean.
  const together = scoreCorpus(inputs, { standard: profile })[0]!;
  assert.is(gap.together, together.normalized);
  assert.ok(gap.together < 100, String(gap.together));
  assert.is(gap.gap, gap.together - 100);
});

function runBench(args: string[]) {
  const log: string[] = [];
  return benchmark.run(args, { log: (m) => log.push(m), json: false }).then((rows) => ({
    rows,
    log,
  }));
}

nabTest("bench nab --files --cv 2 scores the listed files and both halves of them", async () => {
  const out = mkdtempSync(join(tmpdir(), "nab-cv-"));
  try {
    const files = [
      "artificialWithAnomaly/art_daily_jumpsup.csv",
      "artificialWithAnomaly/art_daily_jumpsdown.csv",
      "realKnownCause/nyc_taxi.csv",
    ];
    const { rows, log } = await runBench(["--files", files.join(","), "--cv", "2", "--out", out]);
    const metrics = rows.map((r) => r.metric);
    for (const m of ["nab_standard", "nab_standard_cv_a", "nab_standard_cv_b"]) {
      assert.ok(metrics.includes(m), m);
    }
    assert.ok(log.some((l) => l.includes("3 files")), log.join("\n"));
    assert.ok(
      log.some((l) => l.includes("half B: artificialWithAnomaly/art_daily_jumpsup.csv")),
      log.join("\n"),
    );
    assert.ok(existsSync(join(out, "realKnownCause", "nyc_taxi.csv")));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

nabTest(
  "bench nab --cv categories holds out each labelled category and reports the mean",
  async () => {
    const out = mkdtempSync(join(tmpdir(), "nab-loco-"));
    try {
      const files = [
        "artificialNoAnomaly/art_daily_no_noise.csv",
        "artificialWithAnomaly/art_daily_jumpsup.csv",
        "realKnownCause/nyc_taxi.csv",
      ];
      const { rows, log } = await runBench([
        "--files",
        files.join(","),
        "--cv",
        "categories",
        "--out",
        out,
      ]);
      const loco = rows.find((r) => r.metric === "nab_standard_loco");
      assert.ok(loco, rows.map((r) => r.metric).join(", "));
      const folds = log.filter((l) => l.includes("held out"));
      assert.is(folds.length, 2, log.join("\n"));
      assert.ok(folds[0]!.includes("artificialWithAnomaly held out"), folds[0]);
      assert.ok(folds[1]!.includes("realKnownCause held out"), folds[1]);
      const scores = folds.map((l) => Number(/held out: (-?[0-9.]+)/.exec(l)![1]));
      assert.ok(Math.abs(loco.troupe - (scores[0]! + scores[1]!) / 2) < 0.01, String(loco.troupe));
      assert.ok(log.some((l) => /mean over 2 categories .* gap /.test(l)), log.join("\n"));
      const gap = rows.find((r) => r.metric === "nab_category_gap");
      assert.ok(gap && gap.troupe <= 0.001, JSON.stringify(gap));
      assert.ok(log.some((l) => /scored together .* gap /.test(l)), log.join("\n"));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  },
);

nabTest(
  "bench nab rejects (as a promise) an unknown file, a bad --config field and a --cv other than 2",
  async () => {
    for (
      const [args, text] of [
        [["--files", "realKnownCause/nope.csv"], '"realKnownCause/nope.csv"'],
        [["--config", '{"bins":0}'], "bins"],
        [["--config", "{bins"], "JSON"],
        [["--cv", "3"], "--cv"],
        [["--cv", "category"], "categories"],
      ] as const
    ) {
      // Not thrown at the call but rejected, so that troupe bench reports it as a usage error.
      let pending: Promise<unknown> = Promise.resolve();
      try {
        pending = runBench([...args]);
      } catch (err) {
        assert.unreachable(`${args.join(" ")} threw at the call: ${(err as Error).message}`);
      }
      try {
        await pending;
        assert.unreachable(args.join(" "));
      } catch (err) {
        assert.instance(err, BenchOptionError);
        assert.ok((err as Error).message.includes(text), (err as Error).message);
      }
    }
  },
);

nabTest("bench nab --sweep reports each half's best setting on the other half", async () => {
  const files = [
    "artificialWithAnomaly/art_daily_jumpsup.csv",
    "artificialWithAnomaly/art_daily_jumpsdown.csv",
  ].join(",");
  const { rows, log } = await runBench(["--files", files, "--sweep", "grids=1,3"]);
  assert.equal(rows.map((r) => r.metric), [
    "nab_standard_b_fitted_on_a",
    "nab_standard_a_fitted_on_b",
  ]);
  assert.is(log.filter((l) => l.includes("  all ")).length, 2);
  assert.ok(log.some((l) => l.includes("fitted on A")), log.join("\n"));
});

test.run();
