/**
 * The scan API's answers on the wire (protocol/scan_result.ts): a result, a scan's statistics,
 * the answer to a started scan and the results WebSocket's messages round-trip, and a malformed
 * one is refused naming the message, the field and the value.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  decodeScanResult,
  decodeScanResultsMessage,
  decodeScanStarted,
  decodeScanStats,
  encodeScanAnswer,
  type ScanResult,
  type ScanStarted,
  type ScanStats,
} from "../../protocol/mod.ts";
import { refused } from "./_refused.ts";

const test = suite("scan results on the wire");

const result: ScanResult = { seq: 7, symbol: "SYM008", rank: 51.790366990192176, chunk: 2 };

const stats: ScanStats = {
  scanId: "s1",
  state: "stopped",
  stop_reason: "max_signals",
  symbols_total: 10_000,
  symbols_done: 2_500,
  chunks_total: 40,
  chunks_done: 10,
  signals: 12,
  insufficient_history: 3,
  unknown_symbols: 0,
  elapsed_ms: 40.5,
  first_result_ms: 4.25,
  symbols_per_s: 62_500,
  eta_ms: null,
  error: null,
  partitions_missing: [2, 3],
};

test("a result, statistics and a started scan round-trip, the rank exact", () => {
  assert.equal(decodeScanResult(encodeScanAnswer(result)), result);
  assert.equal(decodeScanResult(encodeScanAnswer({ ...result, rank: null })), {
    ...result,
    rank: null,
  });
  assert.equal(decodeScanStats(encodeScanAnswer(stats)), stats);
  const running: ScanStats = {
    ...stats,
    state: "running",
    stop_reason: null,
    eta_ms: 120,
    first_result_ms: null,
    error: "worker lost",
    partitions_missing: [],
  };
  assert.equal(decodeScanStats(encodeScanAnswer(running)), running);
  const started: ScanStarted = {
    scanId: "s1",
    websocketUrl: "ws://127.0.0.1:9/ws/results/s1",
    sseUrl: "http://127.0.0.1:9/events/results/s1",
  };
  assert.equal(decodeScanStarted(encodeScanAnswer(started)), started);
  const partial = { ...started, partitions_missing: [1] };
  assert.equal(decodeScanStarted(encodeScanAnswer(partial)), partial);
});

test("the results WebSocket's result and end messages round-trip", () => {
  const r = { type: "result" as const, ...result };
  assert.equal(decodeScanResultsMessage(encodeScanAnswer(r)), r);
  const end = { type: "end" as const, stats };
  assert.equal(decodeScanResultsMessage(encodeScanAnswer(end)), end);
});

test("a malformed answer is refused naming the field and the value", () => {
  const text = (m: unknown) => JSON.stringify(m);
  refused(() => decodeScanResult("{"), undefined, /Cannot decode scan result: not JSON/);
  refused(() => decodeScanResult("[1]"), undefined, /scan result: not a map, got array of 1/);
  refused(
    () => decodeScanResult(text({ ...result, rank: "51.79" })),
    "rank",
    /field "rank" must be a number, got "51.79"/,
  );
  refused(
    () => decodeScanResult(text({ ...result, seq: -1 })),
    "seq",
    /field "seq" must be a whole number >= 0, got -1/,
  );
  refused(
    () => decodeScanStats(text({ ...stats, state: "paused" })),
    "state",
    /scan stats: field "state" must be "queued", .* or "failed", got "paused"/,
  );
  refused(
    () => decodeScanStats(text({ ...stats, stop_reason: "bored" })),
    "stop_reason",
    /field "stop_reason" must be "max_signals", "timeout" or "requested", got "bored"/,
  );
  const { partitions_missing: _, ...old } = stats;
  refused(
    () => decodeScanStats(text(old)),
    "partitions_missing",
    /must be a list of whole numbers >= 0, got undefined/,
  );
  refused(
    () => decodeScanStarted(text({ scanId: "s1", sseUrl: "x" })),
    "websocketUrl",
    /scan started: field "websocketUrl" must be a string, got undefined/,
  );
  refused(
    () => decodeScanResultsMessage(text({ type: "progress" })),
    "type",
    /field "type" must be "result" or "end", got "progress"/,
  );
  refused(
    () => decodeScanResultsMessage(text({ type: "end", stats: { ...stats, signals: 1.5 } })),
    "signals",
    /scan results message's stats: field "signals" must be a whole number >= 0, got 1.5/,
  );
});

test.run();
