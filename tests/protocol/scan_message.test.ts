import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  decodeScanChunk,
  decodeScanRecord,
  decodeScanSymbolsReply,
  decodeScanSymbolsRequest,
  decodeScanWork,
  encodeScanMessage,
  encodeValue,
  type ScanChunk,
  type ScanDefinition,
  type ScanRecord,
  type ScanWork,
} from "../../protocol/mod.ts";
import { refused } from "./_refused.ts";

const test = suite("scan messages on the wire");

const def: ScanDefinition = {
  criteria: "rsi(14) < 30",
  rank: "rsi(14)",
  order: "asc",
  bar: "1m",
  universe: ["AAPL", "MSFT"],
  max_signals: 10,
  timeout_ms: null,
  priority: "bollinger(20, 2).bandwidth",
};

test("work, chunk results, symbols requests and replies round-trip", () => {
  const work: ScanWork = { scanId: "s1", chunk: 3, attempt: 1, symbols: ["AAPL"], def };
  assert.equal(decodeScanWork(encodeScanMessage(work)), work);
  for (const universe of [null, "BT*", ["A", "B"]]) {
    const w = { ...work, def: { ...def, universe, rank: null, max_signals: null } };
    assert.equal(decodeScanWork(encodeScanMessage(w)), w);
  }
  const chunk: ScanChunk = {
    scanId: "s1",
    chunk: 3,
    worker: "w-1",
    hits: [["AAPL", 21.5], ["MSFT", null]],
    insufficient: ["X"],
    unknown: [],
    symbols: 4,
  };
  assert.equal(decodeScanChunk(encodeScanMessage(chunk)), chunk);
  const request = { bar: "1m", priority: "volume", universe: "S*" };
  assert.equal(decodeScanSymbolsRequest(encodeScanMessage(request)), request);
  const reply = { partition: 2, symbols: ["A", "B"], priorities: [1.5, null] };
  assert.equal(decodeScanSymbolsReply(encodeScanMessage(reply)), reply);
});

test("every kind of journal record round-trips", () => {
  const records: ScanRecord[] = [
    { k: "def", scanId: "s1", def, chunks: [["A", "B"], ["C"]], ts: 1 },
    { k: "def", scanId: "s2", def, chunks: [], ts: 2, missing: [1, 3] },
    { k: "start", ts: 3 },
    { k: "chunk", chunk: 0, hits: [["A", 1]], insufficient: [], unknown: ["Z"], symbols: 2, ts: 4 },
    { k: "stop", reason: "timeout", ts: 5 },
    { k: "stop", reason: "requested", ts: 6 },
    { k: "drained", ts: 7 },
    { k: "fail", error: "worker lost", ts: 8 },
  ];
  for (const r of records) assert.equal(decodeScanRecord(encodeScanMessage(r)), r);
});

test("decodeScanRecord() checks every field of its kind, naming field and value", () => {
  // The old decoder checked the kind alone: these came back as records and failed far away.
  const chunk = {
    k: "chunk",
    chunk: 0,
    hits: [],
    insufficient: [],
    unknown: [],
    symbols: 0,
    ts: 1,
  };
  const bad = (m: Record<string, unknown>) => () => decodeScanRecord(encodeValue(m));
  refused(bad({ ...chunk, hits: "AAPL" }), "hits", /field "hits" must be a list, got "AAPL"/);
  refused(bad({ ...chunk, symbols: -1 }), "symbols", /must be a whole number >= 0, got -1/);
  refused(bad({ ...chunk, ts: "now" }), "ts", /field "ts" must be a number, got "now"/);
  refused(bad({ k: "stop", reason: "bored", ts: 1 }), "reason", /"timeout" or "requested"/);
  refused(bad({ k: "fail", ts: 1 }), "error", /field "error" must be a string, got undefined/);
  refused(bad({ k: "pause", ts: 1 }), "k", /field "k" must be "def", .*, got "pause"/);
  const d = { k: "def", scanId: "s", def, chunks: [["A"]], ts: 1 };
  refused(bad({ ...d, chunks: [["A"], [1]] }), "chunks[1]", /must be a list of strings/);
  refused(bad({ ...d, missing: [0, 1.5] }), "missing[1]", /got 1\.5/);
  refused(
    bad({ ...d, def: { ...def, order: "up" } }),
    "order",
    /scan journal record's def: field "order" must be "asc" or "desc", got "up"/,
  );
});

test("the decoders refuse what is not a map and name the field at fault", () => {
  refused(() => decodeScanWork(new Uint8Array([0xc1])), undefined, /scan work: not msgpack/);
  const work = { scanId: "s1", chunk: 0, attempt: 0, symbols: ["A"], def };
  const enc = (m: unknown) => encodeValue(m);
  refused(() => decodeScanWork(enc({ ...work, def: { ...def, criteria: 3 } })), "criteria", /3/);
  refused(() => decodeScanWork(enc({ ...work, def: [] })), "def", /must be a map/);
  refused(() => decodeScanChunk(enc({ scanId: "s", chunk: 0 })), "worker", /must be a string/);
  refused(
    () => decodeScanSymbolsReply(enc({ partition: 0, symbols: ["A"], priorities: [] })),
    "priorities",
    /one per symbol/,
  );
  refused(() => decodeScanSymbolsRequest(enc({ bar: "1m", priority: 2 })), "priority", /got 2/);
});

test.run();
