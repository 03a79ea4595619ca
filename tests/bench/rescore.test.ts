/**
 * `troupe bench rescore` on a recording written as `bench pages --record` writes one: a warm-up
 * history batch and live feed batches of three series, two of them scored by the anomaly actor.
 * Series a's fault begins within a scrape, so its first sample moves a little and the next ones
 * far: its opening alone states less than one sample must to page, its restatement more. So the
 * fault pages with today's detector and not with restatements off; nothing pages in the quiet;
 * the baseline is what the run's alerts paged; a bad folder or configuration is a clear error.
 */
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "uvu";
import * as assert from "uvu/assert";
import { historyWithin, readRecordedFeeds } from "../../bench/_recorded_series.ts";
import { readFaults } from "../../bench/evidence.ts";
import { benchmark } from "../../bench/rescore.ts";
import type { Prng } from "../../sim/prng/mod.ts";
import { writePagesRecording } from "./_pages_recording.ts";

const SEED = 4_243;
const STEP_MS = 5_000;
const T0_MS = Date.UTC(2026, 10, 28, 22, 0, 0);
const HISTORY = 300, LIVE = 400, FAULT_AT = 250, FAULT_SAMPLES = 12;
const SERIES = ["a", "b", "unscored"];

/** Each series' value at sample i (history first, then live): noise, and a's straddled step. */
function valueOf(prng: Prng, name: string, i: number): number {
  const live = i - HISTORY;
  let step = 0;
  if (name === "a" && live === FAULT_AT) step = 4;
  if (name === "a" && live > FAULT_AT && live < FAULT_AT + FAULT_SAMPLES) step = 2000;
  return Math.round((10 + 0.5 * prng.normal() + step) * 1000) / 1000;
}

const FAULT_START_MS = T0_MS + (HISTORY + FAULT_AT) * STEP_MS;

/** A `bench pages --record` folder; `without` leaves that file out. */
function recordedRun(without?: string): string {
  const dir = mkdtempSync(join(tmpdir(), "troupe-rescore-"));
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
  // The run as recorded paged nothing in the fault and once in the quiet (a page and an info).
  const alert = (page: string, receivedMs: number) => ({
    status: "firing",
    labels: { page, incident: `i-${receivedMs}` },
    receivedMs,
  });
  writeFileSync(
    join(dir, "alerts.json"),
    JSON.stringify([
      alert("true", T0_MS + (HISTORY + 10) * STEP_MS),
      alert("false", FAULT_START_MS),
    ]),
  );
  if (without !== undefined) unlinkSync(join(dir, without));
  return dir;
}

const ctx = (logs: string[]) => ({ log: (m: string) => logs.push(m), json: false });
const value = (rows: { metric: string; troupe: number | null }[], metric: string) =>
  rows.find((r) => r.metric === metric)?.troupe;

test("bench rescore pages the straddled step by its restatement, not without, and nothing in the quiet", async () => {
  const dir = recordedRun();
  try {
    const logs: string[] = [];
    const rows = await benchmark.run(["--data", dir], ctx(logs));
    const text = logs.join("\n");
    assert.is(value(rows, "rescore_quiet_pages"), 0, text);
    assert.is(value(rows, "rescore_faults_paged"), 1, text);
    // Paged at the restatement: the second sample of the fault.
    assert.is(value(rows, "rescore_page_delay_s_max"), STEP_MS / 1000, text);
    assert.match(
      logs[0]!,
      /^rescore: 2 series, \d+ samples a day; \d+ live findings \(1 restatements\)/,
    );
    // The baseline: the recorded run's pages.
    const baseline = (m: string) => rows.find((r) => r.metric === m)?.baseline;
    assert.is(baseline("rescore_quiet_pages"), 1);
    assert.is(baseline("rescore_faults_paged"), 0);
    const off = await benchmark.run(["--data", dir, "--config", '{"restate_us":0}'], ctx([]));
    assert.is(value(off, "rescore_faults_paged"), 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("bench rescore names what its folder lacks and a bad configuration", async () => {
  const quiet = ctx([]);
  const cases: [string | undefined, string[], RegExp][] = [
    [undefined, [], /^Option --data is required$/],
    ["run.rec", [], /^Option --data must hold run\.rec: no .*run\.rec$/],
    ["faults.json", [], /^Cannot read .*faults\.json: /],
    ["alerts.json", ["--config", "{restate_us: 0}"], /^Option --config must be a JSON object/],
    ["alerts.json", ["--config", '{"restate_us":-1}'], /restate_us/],
    ["alerts.json", ["--history-s", "-5"], /--history-s/],
  ];
  for (const [without, extra, message] of cases) {
    const dir = recordedRun(without);
    try {
      const args = without === undefined ? extra : ["--data", dir, ...extra];
      await benchmark.run(args, quiet).then(
        () => assert.unreachable(`without ${without} it ran`),
        (err: Error) => assert.match(err.message, message),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  // Without alerts.json there is no baseline, and the run's figures stand alone.
  const dir = recordedRun("alerts.json");
  try {
    const rows = await benchmark.run(["--data", dir], quiet);
    assert.is(rows.find((r) => r.metric === "rescore_faults_paged")?.baseline, null);
    assert.is(value(rows, "rescore_faults_paged"), 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("bench rescore --history-s keeps each series' last seconds of history and every live sample", async () => {
  const dir = recordedRun();
  try {
    const feeds = await readRecordedFeeds(join(dir, "run.rec"));
    const cut = historyWithin(feeds, 60);
    const liveMs = T0_MS + HISTORY * STEP_MS;
    assert.is(cut.liveStartUs, liveMs * 1000);
    for (const name of SERIES) {
      const whole = feeds.series.get(name)!, kept = cut.series.get(name)!;
      assert.is(whole.tUs.length, HISTORY + LIVE);
      // 60 s of history at a 5 s step: the 12 samples from the cut on.
      assert.is(kept.tUs.length, 12 + LIVE, name);
      assert.is(kept.tUs[0], (liveMs - 60_000) * 1000);
      assert.is(kept.v[12], whole.v[HISTORY]);
    }
    assert.is(historyWithin(feeds, 0).series.get("a")!.tUs.length, LIVE);
    // A cut longer than the history keeps it all: the step pages as without the option.
    const rows = await benchmark.run(["--data", dir, "--history-s", "3600"], ctx([]));
    assert.is(value(rows, "rescore_faults_paged"), 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a fault's wholeMs is read back from faults.json when there, and left out when not", () => {
  const dir = mkdtempSync(join(tmpdir(), "troupe-faults-"));
  try {
    const path = join(dir, "faults.json");
    writeFileSync(
      path,
      JSON.stringify([
        { name: "memory", startMs: 1_000, endMs: 9_000, wholeMs: 4_000 },
        { name: "cpu", startMs: 10_000, endMs: 12_000 },
      ]),
    );
    assert.equal(readFaults(path), [
      { name: "memory", startMs: 1_000, endMs: 9_000, wholeMs: 4_000 },
      { name: "cpu", startMs: 10_000, endMs: 12_000 },
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
