import { suite } from "uvu";
import * as assert from "uvu/assert";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { covering, f1Score, segmentsOf, truePositives } from "../../bench/_cpd_metrics.ts";
import { benchmark, readTcpdDir, readTcpdSeries, runTcpd } from "../../bench/cpd.ts";
import { Prng } from "../../sim/prng/mod.ts";

const test = suite("cpd metrics");

function close(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual}, expected ${expected}`);
}

test("f1Score() and covering() of one annotator and one prediction 2 samples late", () => {
  // n = 100, A: [50], predictions [52]. With 0 added: T = {0, 50}, X = {0, 52}.
  // Matches: 0-0, 50-52 (|50 - 52| = 2 <= 5). P = 2/2 = 1, R = 2/2 = 1, F1 = 1.
  const f = f1Score({ A: [50] }, [52]);
  assert.equal(f, { f1: 1, precision: 1, recall: 1 });
  // Segments: true [0,50) [50,100); predicted [0,52) [52,100).
  // [0,50): best J = 50/52 (with [0,52)). [50,100): best J = 48/50 (with [52,100)).
  // Covering = (50 * 50/52 + 50 * 48/50) / 100 = (48.0769... + 48) / 100.
  close(covering({ A: [50] }, [52], 100), (50 * 50 / 52 + 48) / 100, "covering");
  // Duplicates and an explicit 0 change nothing.
  assert.equal(f1Score({ A: [50] }, [0, 52, 52]), f);
});

test("f1Score() takes precision against the union and recall as the mean over annotators", () => {
  // A: [20, 60], B: [22]; predictions [21, 40, 61, 90]; margin 5.
  // X = {0, 21, 40, 61, 90}, |X| = 5. Union T* = {0, 20, 22, 60}:
  //   0-0, 20-21 (d 1), 22: 21 is taken and nothing else is within 5 -> unmatched, 60-61 (d 1).
  //   TP = 3, P = 3/5 = 0.6.
  // A = {0, 20, 60}: 0-0, 20-21, 60-61 -> 3/3. B = {0, 22}: 0-0, 22-21 -> 2/2. R = (1 + 1)/2 = 1.
  // F1 = 2 * 0.6 * 1 / (0.6 + 1) = 1.2 / 1.6 = 0.75.
  const f = f1Score({ A: [20, 60], B: [22] }, [21, 40, 61, 90]);
  close(f.precision, 0.6, "precision");
  close(f.recall, 1, "recall");
  close(f.f1, 0.75, "f1");
});

test("covering() averages each annotator's length-weighted best Jaccard overlap", () => {
  // Same case, n = 100. Predicted: [0,21) [21,40) [40,61) [61,90) [90,100).
  // A: [0,20) best 20/21 -> 20 * 20/21 = 400/21
  //    [20,60) vs [21,40): 19/40 = 0.475; vs [40,61): 20/41 = 0.4878 -> 40 * 20/41 = 800/41
  //    [60,100) vs [61,90): 29/40 = 0.725; vs [90,100): 10/40 -> 40 * 0.725 = 29
  //    cover_A = (400/21 + 800/41 + 29) / 100 = 0.675598141696...
  // B: [0,22) vs [0,21): 21/22 -> 22 * 21/22 = 21
  //    [22,100) vs [61,90): 29/78 (best; [40,61) gives 21/78) -> 78 * 29/78 = 29
  //    cover_B = (21 + 29) / 100 = 0.5
  // Covering = (0.675598141696 + 0.5) / 2 = 0.587799070848...
  const expected = ((400 / 21 + 800 / 41 + 29) / 100 + 0.5) / 2;
  close(covering({ A: [20, 60], B: [22] }, [21, 40, 61, 90], 100), expected, "covering");
  close(expected, 0.587799070848, "the arithmetic");
});

test("the no-change detector scores precision 1 and recall of 0 alone", () => {
  // A: [50], no predictions: X = {0}. P = 1/1 (0 matches 0). R = 1/2. F1 = 2 * 0.5 / 1.5 = 2/3.
  // Covering: one predicted segment [0,100): each true half overlaps it by 50/100 -> 0.5.
  const f = f1Score({ A: [50] }, []);
  close(f.f1, 2 / 3, "f1");
  close(covering({ A: [50] }, [], 100), 0.5, "covering");
  // An annotator who marked nothing is fully recalled by the no-change detector: F1 = 1.
  assert.equal(f1Score({ A: [] }, []), { f1: 1, precision: 1, recall: 1 });
  close(covering({ A: [] }, [], 100), 1, "covering of nothing by nothing");
});

test("truePositives() matches each prediction at most once and breaks ties to the earlier", () => {
  // A: [10, 14], predictions [12]: 10-12 (d 2); 14 finds 12 taken -> unmatched.
  // P = |{0, 10}| / |{0, 12}| = 1; R = 2/3; F1 = 2 * (2/3) / (5/3) = 0.8.
  assert.equal(truePositives([0, 10, 14], [0, 12]), [0, 10]);
  close(f1Score({ A: [10, 14] }, [12]).f1, 0.8, "f1");
  // A: [10], predictions [8, 12] both 2 away: 10 takes 8. P = 2/3, R = 1, F1 = 0.8.
  assert.equal(truePositives([10], [12, 8]), [10]);
  close(f1Score({ A: [10] }, [8, 12]).f1, 0.8, "f1 with a tie");
  // A prediction 6 away is outside the margin: P = 1/2, R = 1/2, F1 = 0.5.
  close(f1Score({ A: [50] }, [56]).f1, 0.5, "f1 outside the margin");
  close(f1Score({ A: [50] }, [56], 6).f1, 1, "f1 with margin 6");
});

test("segmentsOf() cuts [0, n) at the points inside it, ignoring 0, duplicates and overflow", () => {
  assert.equal(segmentsOf([30, 0, 10, 10, 100, 120], 100), [[0, 10], [10, 30], [30, 100]]);
  assert.equal(segmentsOf([], 5), [[0, 5]]);
});

/** The reference definition with explicit index sets, as the TCPD code computes it. */
function coveringBySets(annotations: number[][], predictions: number[], n: number): number {
  const partition = (points: number[]) => {
    const cuts = new Set(points.filter((p) => p > 0 && p < n));
    const parts: Set<number>[] = [];
    let current = new Set<number>();
    for (let i = 0; i < n; i++) {
      if (cuts.has(i) && current.size) {
        parts.push(current);
        current = new Set();
      }
      current.add(i);
    }
    parts.push(current);
    return parts;
  };
  const jaccard = (a: Set<number>, b: Set<number>) => {
    let inter = 0;
    for (const x of a) if (b.has(x)) inter++;
    return inter / (a.size + b.size - inter);
  };
  const pred = partition(predictions);
  let total = 0;
  for (const ann of annotations) {
    let c = 0;
    for (const r of partition(ann)) c += r.size * Math.max(...pred.map((p) => jaccard(r, p)));
    total += c / n;
  }
  return total / annotations.length;
}

test("covering() equals the set-based reference definition on random cases", () => {
  const rng = new Prng(4242);
  for (let k = 0; k < 200; k++) {
    const n = 1 + rng.int(80);
    const pick = () => Array.from({ length: rng.int(6) }, () => rng.int(n + 3));
    const anns = Array.from({ length: 1 + rng.int(3) }, pick);
    const preds = pick();
    const record = Object.fromEntries(anns.map((a, i) => [`a${i}`, a]));
    const got = covering(record, preds, n);
    const want = coveringBySets(anns, preds, n);
    assert.ok(Math.abs(got - want) < 1e-12, `case ${k}: ${got} vs ${want}`);
  }
});

test("the metrics reject an empty set of annotators and a bad length", () => {
  assert.throws(() => f1Score({}, [1]), /at least one annotator/);
  assert.throws(() => covering({ A: [1] }, [], 0), /n must be a positive integer, got 0/);
});

test.run();

const loader = suite("cpd TCPD loader");

/** A tiny TCPD directory: "steps" (univariate, a null, a shift at 60) and "pair" (2-D). */
function tcpdDir(withAnnotations: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), "troupe-tcpd-"));
  const rng = new Prng(77);
  const write = (name: string, series: Array<Array<number | null>>) => {
    mkdirSync(join(dir, "datasets", name), { recursive: true });
    const n = series[0]!.length;
    const doc = {
      name,
      longname: name,
      n_obs: n,
      n_dim: series.length,
      time: { type: "string", format: "%Y", index: Array.from({ length: n }, (_, i) => i) },
      series: series.map((raw, d) => ({ label: `V${d + 1}`, type: "float", raw })),
    };
    writeFileSync(join(dir, "datasets", name, `${name}.json`), JSON.stringify(doc));
  };
  const steps: Array<number | null> = Array.from(
    { length: 120 },
    (_, i) => (i < 60 ? 100 : 130) + rng.normal(),
  );
  steps[10] = null;
  write("steps", [steps]);
  const flat = Array.from({ length: 150 }, () => 5 + 0.1 * rng.normal());
  const jump = Array.from({ length: 150 }, (_, i) => (i < 90 ? 0 : -8) + rng.normal());
  write("pair", [flat, jump]);
  if (withAnnotations) {
    writeFileSync(
      join(dir, "annotations.json"),
      JSON.stringify({ steps: { "1": [60], "2": [59, 100] }, pair: { "1": [90] } }),
    );
  }
  return dir;
}

loader("readTcpdSeries() reads every dimension, null as NaN, and checks the lengths", () => {
  const dir = tcpdDir(false);
  try {
    const s = readTcpdSeries(join(dir, "datasets", "steps", "steps.json"));
    assert.is(s.name, "steps");
    assert.is(s.n, 120);
    assert.is(s.dimensions.length, 1);
    assert.ok(Number.isNaN(s.dimensions[0]![10]!));
    assert.ok(Math.abs(s.dimensions[0]![100]! - 130) < 5);
    assert.equal(readTcpdDir(dir).map((x) => [x.name, x.dimensions.length]), [
      ["pair", 2],
      ["steps", 1],
    ]);
    const bad = join(dir, "datasets", "steps", "steps.json");
    const doc = JSON.parse(readFileSync(bad, "utf8"));
    doc.series[0].raw.pop();
    writeFileSync(bad, JSON.stringify(doc));
    assert.throws(() => readTcpdSeries(bad), /"series\[0\]\.raw" has 119 values for 120 times/);
    doc.series[0].raw.push("x");
    writeFileSync(bad, JSON.stringify(doc));
    assert.throws(() => readTcpdSeries(bad), /"series\[0\]\.raw\[119\]" must be a number or null/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

loader("runTcpd() finds the shifts, merges dimensions and scores against the annotations", () => {
  const dir = tcpdDir(true);
  try {
    const report = runTcpd(dir);
    const steps = report.predictions.steps!;
    const pair = report.predictions.pair!;
    assert.is(steps.length, 1);
    assert.ok(Math.abs(steps[0]! - 60) <= 2, `steps: ${steps}`);
    assert.is(pair.length, 1);
    assert.ok(Math.abs(pair[0]! - 90) <= 2, `pair: ${pair}`);
    const byName = Object.fromEntries(report.scores.map((s) => [s.name, s]));
    // steps: X = {0, ~60}; union {0, 59, 60, 100} -> 2 matched of 2 predictions: P = 1.
    // Annotator 1 {0, 60}: 2/2; annotator 2 {0, 59, 100}: 2/3. R = 5/6. F1 = 2 (5/6) / (11/6) = 10/11.
    close(byName.steps!.f1, 10 / 11, "steps F1");
    close(byName.pair!.f1, 1, "pair F1");
    close(byName.steps!.f1None, f1Score({ a: [60], b: [59, 100] }, []).f1, "no-change F1");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

loader(
  "the cpd benchmark's --data mode writes the predictions and reports averaged F1 and covering",
  async () => {
    const dir = tcpdDir(true);
    const out = join(dir, "predictions.json");
    const logs: string[] = [];
    try {
      const rows = await benchmark.run(["--data", dir, "--out", out], {
        log: (m) => logs.push(m),
        json: false,
      });
      const written = JSON.parse(readFileSync(out, "utf8"));
      assert.equal(Object.keys(written).sort(), ["pair", "steps"]);
      assert.equal(rows.map((r) => r.metric), ["f1", "covering"]);
      close(rows[0]!.troupe, (10 / 11 + 1) / 2, "average F1");
      assert.ok(rows[1]!.troupe > 0.9 && rows[1]!.baseline! < rows[1]!.troupe);
      assert.ok(logs.some((l) => l.includes("steps") && l.includes("0.909")));
      await benchmark.run(["--data", dir], { log: () => {}, json: false }).then(
        () => assert.unreachable("--data without --out must be refused"),
        (err: Error) => assert.match(err.message, /--data needs --out/),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

loader.run();
