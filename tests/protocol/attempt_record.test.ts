import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  type AttemptRecord,
  decodeAttemptRecord,
  decodeInputRecord,
  encodeAttemptRecord,
  encodeInputRecord,
  ProtocolError,
} from "../../protocol/mod.ts";

const test = suite("attempt_record");

test("decodeAttemptRecord() gives back every phase encodeAttemptRecord() wrote", () => {
  const records: AttemptRecord[] = [
    { phase: "begin", stream: "", pos: 0, srcPos: 0 },
    { phase: "input", stream: "deadly/a", pos: 3, srcPos: 17 },
    { phase: "skipped", stream: "stats/BTC-USD", pos: 2 ** 40, srcPos: 9 },
    { phase: "passed", stream: "", pos: 0, srcPos: 0 },
  ];
  for (const r of records) {
    const bytes = encodeAttemptRecord(r);
    assert.is(decodeInputRecord(bytes).kind, "attempt");
    assert.equal(decodeAttemptRecord(bytes), r);
  }
});

test("decodeAttemptRecord() refuses another kind of record and an unknown phase", () => {
  const frame = encodeInputRecord({
    kind: "frame",
    srcPos: 1,
    subject: "troupe.feed.a.b",
    payload: new Uint8Array(9),
  });
  assert.throws(() => decodeAttemptRecord(frame), (e: unknown) =>
    e instanceof ProtocolError &&
    e.message === 'Cannot decode an attempt record: kind "frame" with a payload of 9 bytes ' +
        "(phase 0) is not one");
  const bad = encodeAttemptRecord({ phase: "input", stream: "s/k", pos: 1, srcPos: 1 });
  bad[bad.length - 9] = 7; // the phase byte
  assert.throws(() => decodeAttemptRecord(bad), /\(phase 7\) is not one/);
});

test.run();
