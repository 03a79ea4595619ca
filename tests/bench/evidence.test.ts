/**
 * `troupe bench evidence` on a recording written as `bench pages --record` writes one: a warm-up
 * history batch and live feed batches of three series, two of them scored by the anomaly actor
 * (a columns subject each), one stepped during the fault. The step is reached within the fault,
 * nothing alarms in the quiet, the series nobody scored is left out, and the budget is the page
 * threshold the alerts stated; a folder without what it needs, or a file that is no recording, is
 * a clear error.
 */
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { benchmark } from "../../bench/evidence.ts";
import { RecordingWriter } from "../../sim/recording/mod.ts";
import type { Prng } from "../../sim/prng/mod.ts";
import { writePagesRecording } from "./_pages_recording.ts";

const SEED = 4_242;
const STEP_MS = 5_000;
const T0_MS = Date.UTC(2026, 10, 27, 22, 0, 0);
const HISTORY = 300, LIVE = 400, FAULT_AT = 250, FAULT_SAMPLES = 12;
const SERIES = ["a", "b", "unscored"];

/** Each series' value at sample i (history first, then live): noise, and a step of a's. */
function valueOf(prng: Prng, name: string, i: number): number {
  const live = i - HISTORY;
  const step = name === "a" && live >= FAULT_AT && live < FAULT_AT + FAULT_SAMPLES ? 20 : 0;
  return Math.round((10 + 0.5 * prng.normal() + step) * 1000) / 1000;
}

/** A `bench pages --record` folder; `without` leaves that file out. */
function recordedRun(without?: string): string {
  const dir = mkdtempSync(join(tmpdir(), "troupe-evidence-"));
  writePagesRecording(dir, {
    seed: SEED,
    t0Ms: T0_MS,
    stepMs: STEP_MS,
    history: HISTORY,
    live: LIVE,
    series: SERIES,
    scored: ["a", "b"],
    valueOf,
    fault: { at: FAULT_AT, samples: FAULT_SAMPLES },
  });
  writeFileSync(
    join(dir, "alerts.json"),
    JSON.stringify([{ annotations: { page_threshold: "1.10e-6" } }]),
  );
  if (without !== undefined) unlinkSync(join(dir, without));
  return dir;
}

test("bench evidence reaches the stepped series within its fault, and nothing in the quiet", async () => {
  const dir = recordedRun();
  try {
    const logs: string[] = [];
    const rows = await benchmark.run(["--data", dir], { log: (m) => logs.push(m), json: false });
    const value = (metric: string) => rows.find((r) => r.metric === metric)?.troupe;
    assert.is(value("evidence_quiet_alarms"), 0, `seed ${SEED}: ${logs.join("\n")}`);
    assert.is(value("evidence_faults_reached"), 1, logs.join("\n"));
    // No one sample of the step states 19.8 bits; the evidence passes it on the third.
    assert.is(value("evidence_delay_s_max"), (2 * STEP_MS) / 1000, logs.join("\n"));
    // Two series scored; the budget is log2(1 / 1.1e-6), 19.8 bits.
    assert.is(logs[0], "evidence: 2 series scored, alarms at 19.8 bits");
    assert.match(logs.join("\n"), /fault step: reached after [\d.]+ s on a;/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("bench evidence names what its folder lacks", async () => {
  const ctx = { log: () => {}, json: false };
  const cases: [string | undefined, string[], RegExp][] = [
    [undefined, [], /^Option --data is required$/],
    ["run.rec", [], /^Option --data must hold run\.rec: no .*run\.rec$/],
    ["faults.json", [], /^Cannot read .*faults\.json: /],
    ["alerts.json", [], /^Cannot read .*alerts\.json: /],
  ];
  for (const [without, extra, message] of cases) {
    const dir = recordedRun(without);
    try {
      const args = without === undefined ? extra : ["--data", dir, ...extra];
      await benchmark.run(args, ctx).then(
        () => assert.unreachable(`without ${without} it ran`),
        (err: Error) => assert.match(err.message, message),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  // A file that is no recording, and a recording without a feed batch: data errors, named.
  const bad = recordedRun();
  try {
    writeFileSync(join(bad, "run.rec"), "garbage\n");
    await benchmark.run(["--data", bad], ctx).then(
      () => assert.unreachable("a garbage run.rec was read"),
      (err: Error) => {
        assert.is(err.name, "BenchDataError");
        assert.match(err.message, /run\.rec is not a troupe recording: it starts with 67 61/);
      },
    );
    RecordingWriter.create(join(bad, "run.rec"), { source: "troupe record" }).close();
    await benchmark.run(["--data", bad], ctx).then(
      () => assert.unreachable("an empty recording was read"),
      (err: Error) => assert.match(err.message, /holds no live sample in a feed batch/),
    );
  } finally {
    rmSync(bad, { recursive: true, force: true });
  }
  // With --bits, alerts.json is not needed.
  const dir = recordedRun("alerts.json");
  try {
    const rows = await benchmark.run(["--data", dir, "--bits", "19.8"], ctx);
    assert.is(rows.find((r) => r.metric === "evidence_faults_reached")?.troupe, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
