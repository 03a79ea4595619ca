/**
 * How `troupe scan` shows a scan on a terminal: the progress line with the live statistics (a
 * bar, done of total, signals, first result, symbols/s, ETA) kept on stderr, cleared before each
 * result row and drawn again after it, and replaced by the summary at the end; none of it when
 * stderr is not a terminal.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { missingLine, progressLine, ScanView, type Stats } from "../../cli/scan_view.ts";

const test = suite("scan view");

const CLEAR = "\r\x1b[K";

function stats(over: Partial<Stats>): Stats {
  return {
    scanId: "s1",
    state: "running",
    stop_reason: null,
    symbols_total: 10_000,
    symbols_done: 2_500,
    signals: 12,
    insufficient_history: 0,
    unknown_symbols: 0,
    elapsed_ms: 40,
    first_result_ms: 4.25,
    symbols_per_s: 62_500,
    eta_ms: 120,
    error: null,
    ...over,
  };
}

test("progressLine() shows the bar, done of total, signals, first result, rate and ETA", () => {
  assert.is(
    progressLine(stats({})),
    "[######------------------] 25% 2,500/10,000 symbols · 12 signals · first 4.3 ms · " +
      "62,500/s · ETA 120 ms",
  );
  // Before the first result, and once ended (no ETA), those parts are left out.
  assert.is(
    progressLine(stats({ symbols_done: 0, signals: 0, first_result_ms: null, symbols_per_s: 0 })),
    "[------------------------] 0% 0/10,000 symbols · 0 signals · 0/s · ETA 120 ms",
  );
  assert.is(
    progressLine(stats({ symbols_done: 10_000, eta_ms: null, elapsed_ms: 1500 })),
    "[########################] 100% 10,000/10,000 symbols · 12 signals · first 4.3 ms · 62,500/s",
  );
});

test("on a terminal the progress line is cleared before each row and drawn again after it", () => {
  let out = "", err = "";
  const view = new ScanView({
    json: false,
    tty: true,
    out: (t) => void (out += t),
    err: (t) => void (err += t),
  });
  view.progress(stats({}));
  view.result({ seq: 1, symbol: "SYM008", rank: 26.60941, chunk: 0 });
  const line = progressLine(stats({}));
  assert.is(
    out,
    `${"#".padStart(6)}  ${"symbol".padEnd(16)}  rank\n     1  SYM008            26.6094\n`,
  );
  assert.is(err, `${line}${CLEAR}${line}`);
  view.finish(stats({ state: "done", symbols_done: 10_000, eta_ms: null, elapsed_ms: 160 }));
  assert.is(
    err.slice(`${line}${CLEAR}${line}`.length),
    `${CLEAR}done: 10,000 of 10,000 symbols in 160 ms, 12 signals (first after 4.3 ms), ` +
      `0 with too little history, 0 unknown\n`,
  );
});

test("off a terminal there is no progress line: rows on stdout, the summary on stderr", () => {
  let out = "", err = "";
  const view = new ScanView({
    json: true,
    tty: false,
    out: (t) => void (out += t),
    err: (t) => void (err += t),
  });
  view.progress(stats({}));
  view.result({ seq: 1, symbol: "SYM008", rank: null, chunk: 2 });
  view.finish(stats({ state: "stopped", stop_reason: "max_signals", eta_ms: null }));
  assert.is(out, `{"seq":1,"symbol":"SYM008","rank":null,"chunk":2}\n`);
  assert.match(err, /^stopped \(max_signals\): 2,500 of 10,000 symbols in 40 ms/);
  assert.not.match(err, "\r");
});

test("partitions that did not answer are named once on stderr, in both modes; stdout keeps the rows", () => {
  assert.is(missingLine([3]), "partition 3 did not answer: its symbols are not in this scan");
  assert.is(
    missingLine([2, 3]),
    "partitions 2, 3 did not answer: their symbols are not in this scan",
  );
  for (const json of [false, true]) {
    let out = "", err = "";
    const view = new ScanView({
      json,
      tty: false,
      out: (t) => void (out += t),
      err: (t) => void (err += t),
    });
    // As troupe scan does: the POST response's list at once, then the final stats', the same.
    view.partitionsMissing([2, 3]);
    view.result({ seq: 1, symbol: "SYM008", rank: 1, chunk: 0 });
    view.finish(stats({ state: "done", eta_ms: null, partitions_missing: [2, 3] }));
    const lines = err.split("\n");
    assert.is(lines[0], `troupe scan: ${missingLine([2, 3])}`, `json ${json}`);
    assert.is(lines.filter((l) => l.includes("did not answer")).length, 1, `json ${json}`);
    assert.match(lines[1]!, /^done: 2,500 of 10,000 symbols/);
    assert.not.match(out, "partition");
    if (json) assert.is(out, `{"seq":1,"symbol":"SYM008","rank":1,"chunk":0}\n`);
  }
  // Known only from the final stats (a resumed scan's, say): said before the summary.
  let err = "";
  const view = new ScanView({ json: false, tty: true, out: () => {}, err: (t) => void (err += t) });
  view.progress(stats({}));
  view.finish(stats({ state: "done", eta_ms: null, partitions_missing: [1] }));
  assert.match(err, `${CLEAR}troupe scan: ${missingLine([1])}\n`);
  assert.ok(err.indexOf("did not answer") < err.indexOf("done: "), err);
  // None missing (or a host that does not send the field): no line.
  let quiet = "";
  const plain = new ScanView({
    json: false,
    tty: false,
    out: () => {},
    err: (t) => void (quiet += t),
  });
  plain.partitionsMissing([]);
  plain.finish(stats({ state: "done", eta_ms: null }));
  assert.not.match(quiet, "did not answer");
});

test.run();
