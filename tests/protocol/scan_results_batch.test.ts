/**
 * A scan's published results on the wire (protocol/scan_results_batch.ts, what a scan service
 * publishes on `troupe.scan.<id>.results`): a batch round-trips in the bytes the service has
 * always published, and a malformed one is refused naming the result, the field and the value.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  decodeScanResultsBatch,
  encodeScanResultsBatch,
  encodeValue,
  type ScanResultsBatch,
  scanSubject,
} from "../../protocol/mod.ts";
import { refused } from "./_refused.ts";

const test = suite("scan results batch on the wire");

const batch: ScanResultsBatch = [
  { seq: 1, symbol: "AAA", rank: 2.5, chunk: 0 },
  { seq: 2, symbol: "BBB", rank: null, chunk: 0 },
];

/** The bytes the service published before the batch had a wire of its own. */
const PINNED = "9284a373657101a673796d626f6ca3414141a472616e6bcb4004000000000000a56368756e6b00" +
  "84a373657102a673796d626f6ca3424242a472616e6bc0a56368756e6b00";

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

test("a batch round-trips, in the bytes published before it had a wire", () => {
  const bytes = encodeScanResultsBatch(batch);
  assert.is(hex(bytes), PINNED);
  assert.equal(decodeScanResultsBatch(bytes), batch);
  const later: ScanResultsBatch = [{ seq: 41, symbol: "SYM008", rank: -0.125, chunk: 17 }];
  assert.equal(decodeScanResultsBatch(encodeScanResultsBatch(later)), later);
});

test("decodeScanResultsBatch() refuses a malformed batch, naming result, field and value", () => {
  const where = `scan results on "${scanSubject("s1", "results")}"`;
  const bad = (v: unknown) => () => decodeScanResultsBatch(encodeValue(v), where);
  const ok = batch[0]!;
  refused(
    () => decodeScanResultsBatch(new Uint8Array([0xc1]), where),
    undefined,
    /Cannot decode scan results on "troupe\.scan\.s1\.results": not msgpack/,
  );
  refused(bad({ seq: 1 }), undefined, /: not a list, got map/);
  refused(bad([]), undefined, /: no result, got array of 0/);
  refused(bad([ok, "AAA"]), undefined, /'s result 1: not a map, got "AAA"/);
  refused(
    bad([{ ...ok, symbol: 7 }]),
    "symbol",
    /"troupe\.scan\.s1\.results"'s result 0: field "symbol" must be a string, got 7/,
  );
  refused(bad([{ ...ok, rank: "high" }]), "rank", /field "rank" must be a number, got "high"/);
  refused(bad([{ ...ok, rank: NaN }]), "rank", /field "rank" must be a number, got NaN/);
  refused(
    bad([{ ...ok, chunk: -1 }]),
    "chunk",
    /field "chunk" must be a whole number >= 0, got -1/,
  );
  refused(bad([{ ...ok, chunk: undefined }]), "chunk", /"chunk" must be .*, got (undefined|null)/);
  refused(bad([{ ...ok, seq: 0 }]), "seq", /field "seq" must be a whole number >= 1, got 0/);
  refused(bad([{ ...ok, seq: 1.5 }]), "seq", /field "seq" must be a whole number >= 1, got 1.5/);
  refused(bad([ok, { ...ok, seq: 3 }]), "seq", /result 1: field "seq" must be 2, in order, got 3/);
});

test.run();
