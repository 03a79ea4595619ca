import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  decodeInputRecord,
  encodeInputRecord,
  encodeInputRecordParts,
} from "../../../actors/runtime/input_record.ts";

const test = suite("input_record");

test("an input record round-trips its kind, source position, subject and payload (ASCII or not)", () => {
  for (const subject of ["troupe.feed.m.cpu", "troupe.feed.m.température", ""]) {
    const record = {
      kind: "frame" as const,
      srcPos: 2 ** 40 + 3,
      subject,
      payload: new Uint8Array([1, 2, 3]),
    };
    const bytes = encodeInputRecord(record);
    const back = decodeInputRecord(bytes);
    assert.is(back.kind, "frame");
    assert.is(back.srcPos, record.srcPos);
    assert.is(back.subject, subject);
    assert.equal(Array.from(back.payload), [1, 2, 3]);
    const [header, payload] = encodeInputRecordParts(record);
    assert.equal(Array.from(header), Array.from(bytes.subarray(0, bytes.length - 3)));
    assert.is(payload, record.payload);
  }
});

test("records of every kind and position keep their own header, also when frame headers are reused", () => {
  const payload = new Uint8Array([9]);
  const cases = [
    { kind: "frame" as const, srcPos: 0, subject: "troupe.feed.m.a" },
    { kind: "frame" as const, srcPos: 0, subject: "troupe.feed.m.b" },
    { kind: "frame" as const, srcPos: 7, subject: "troupe.feed.m.a" },
    { kind: "ctl" as const, srcPos: 0, subject: "troupe.feed.m.a" },
    { kind: "frame" as const, srcPos: 0, subject: "troupe.feed.m.a" },
  ];
  for (const c of cases) {
    for (const bytes of [encodeInputRecord({ ...c, payload }), joinParts({ ...c, payload })]) {
      const back = decodeInputRecord(bytes);
      assert.equal([back.kind, back.srcPos, back.subject, Array.from(back.payload)], [
        c.kind,
        c.srcPos,
        c.subject,
        [9],
      ]);
    }
  }
});

function joinParts(record: Parameters<typeof encodeInputRecordParts>[0]): Uint8Array {
  const [header, payload] = encodeInputRecordParts(record);
  const out = new Uint8Array(header.length + payload.length);
  out.set(header);
  out.set(payload, header.length);
  return out;
}

test.run();
