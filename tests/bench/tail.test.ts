/**
 * `troupe bench tail`'s arithmetic: samples outside the labelled windows, the findings there by
 * the bits they claim, each claim's rate against 2^-b, and the windows held at one node's budget;
 * and the findings of a file, read as the stage reads them; with --evidence, the alarms of
 * evidence accumulated over samples, tallied the same way.
 */
import { test } from "uvu";
import * as assert from "uvu/assert";
import { benchmark, BITS, evidenceAlarmTimes, tailFindings } from "../../bench/tail.ts";
import { tailRows, type TailTally, tallyAlarms, tallyFile } from "../../bench/tail.ts";
import type { NabDataFile } from "../../bench/_nab_corpus.ts";

const MINUTE_MS = 60_000;

/** A NAB file of `v`, a sample a minute from 2024-01-01. */
function file(v: number[]): NabDataFile {
  const t0 = Date.UTC(2024, 0, 1);
  return {
    path: "x/y.csv",
    category: "x",
    file: "y.csv",
    stamps: v.map(() => ""),
    texts: v.map(String),
    t: Float64Array.from(v, (_, i) => t0 + i * MINUTE_MS),
    v: Float64Array.from(v),
  };
}

test("tallyFile() counts samples and findings outside the windows, and the windows held at 23 bits", () => {
  const f = file([1, 2, NaN, 4, 5, 6, 7, 8, 9, 10]);
  const t = (i: number) => f.t[i]!;
  const tally: TailTally = { outside: 0, above: BITS.map(() => 0), windows: 0, held: 0 };
  const findings = [{ t: t(1), bits: 24 }, { t: t(5), bits: 16 }, { t: t(8), bits: 30 }];
  // Windows over samples 4..6 (holding the 16-bit finding) and 8..9 (the 30-bit one).
  tallyFile(tally, f, findings, [[t(4), t(6)], [t(8), t(9)]]);
  // Outside: samples 0, 1, 3, 7 (2 is not a number).
  assert.is(tally.outside, 4);
  assert.equal(tally.above, [1, 1, 1, 1, 0, 0]);
  assert.equal([tally.windows, tally.held], [2, 1]);
  const rows = tailRows(tally);
  assert.equal(rows.map((r) => r.metric), [
    "tail_rate_ge_10bits",
    "tail_rate_ge_15bits",
    "tail_rate_ge_20bits",
    "tail_rate_ge_23bits",
    "tail_rate_ge_25bits",
    "tail_rate_ge_30bits",
    "tail_windows_ge_23bits",
  ]);
  assert.is(rows[3]!.troupe, 1 / 4);
  assert.is(rows[3]!.baseline, 2 ** -23);
  assert.is(rows[3]!.ratio, 2 ** 23 / 4);
  assert.is(rows[6]!.troupe, 0.5);
});

test("tailFindings() reads a constant gauge's tenfold step as the stage does: past 23 bits", () => {
  const v = Array.from({ length: 400 }, (_, i) => (i < 300 ? 100 : 1000));
  const found = tailFindings(file(v), 64);
  assert.is(found.length, 1, JSON.stringify(found));
  assert.is(found[0]!.t, file(v).t[300]);
  assert.ok(found[0]!.bits > 23, String(found[0]!.bits));
});

test("tallyAlarms() counts each threshold's alarms outside the windows, and the windows held at 23", () => {
  const f = file([1, 2, NaN, 4, 5, 6, 7, 8, 9, 10]);
  const t = (i: number) => f.t[i]!;
  const tally: TailTally = { outside: 0, above: BITS.map(() => 0), windows: 0, held: 0 };
  // Per BITS (10, 15, 20, 23, 25, 30): the detector at 23 bits alarms at samples 1 and 8.
  const alarms = [[t(1), t(3), t(5)], [t(1)], [], [t(1), t(8)], [t(8)], []];
  tallyAlarms(tally, f, alarms, [[t(4), t(6)], [t(8), t(9)]]);
  assert.is(tally.outside, 4);
  assert.equal(tally.above, [2, 1, 0, 1, 0, 0]);
  assert.equal([tally.windows, tally.held], [2, 1]);
});

test("evidenceAlarmTimes(): a constant gauge stepped tenfold alarms at its step by itself", () => {
  const v = Array.from({ length: 400 }, (_, i) => (i < 300 ? 100 : 1000));
  const f = file(v);
  const alarms = evidenceAlarmTimes(f, { lambda: 1, allowanceBits: 0, sigma: "finding" });
  // The step is 23.2 bits by Chebyshev: every detector up to 23 bits alarms at it.
  BITS.forEach((b, k) => {
    if (b <= 23) assert.is(alarms[k]![0], f.t[300], `${b} bits: ${alarms[k]}`);
    else assert.ok(alarms[k]!.every((t) => t > f.t[300]!), `${b} bits: ${alarms[k]}`);
  });
  // With Page's allowance of 5 bits, the step alone states 18.2: the 20-bit detector waits.
  const taxed = evidenceAlarmTimes(f, { lambda: 1, allowanceBits: 5, sigma: "finding" });
  assert.is(taxed[1]![0], f.t[300]);
  assert.ok(taxed[2]!.every((t) => t > f.t[300]!), String(taxed[2]));
});

test("an evidence option without --evidence is an error naming it", async () => {
  const ctx = { log: () => {}, json: false };
  for (const args of [["--lambda", "0.5"], ["--sigma=rms"], ["--allowance-bits", "3"]]) {
    const name = args[0]!.split("=")[0]!;
    try {
      await benchmark.run([...args, "--data", "/nonexistent"], ctx);
      assert.unreachable(`${args.join(" ")} ran`);
    } catch (err) {
      assert.is((err as Error).name, "BenchOptionError");
      assert.is((err as Error).message, `Option ${name} is for --evidence, which was not given`);
    }
  }
});

test.run();
