import { suite } from "uvu";
import * as assert from "uvu/assert";
import { decode, encode } from "@msgpack/msgpack";
import { throwsOn } from "../_support/throws_on.ts";
import {
  decodeStreamServerMessage,
  encodeStreamBatch,
  encodeStreamMsg,
  encodeStreamServerMessage,
  readStreamBatch,
  StreamProtocolError,
  type StreamSingleMessage,
} from "../../protocol/mod.ts";
import { Prng } from "../../sim/prng/mod.ts";

const test = suite("stream batches on the wire");

const throwsNaming = (fn: () => unknown, field: string, message: RegExp) =>
  throwsOn(StreamProtocolError, fn, field, message);

/** Messages of every kind, `msg`s of random sizes among them (seeded). */
function someMessages(prng: Prng, n: number): StreamSingleMessage[] {
  const out: StreamSingleMessage[] = [];
  for (let i = 0; i < n; i++) {
    const k = prng.int(5);
    if (k === 0) out.push({ t: "live", sub: 1, seq: i });
    else if (k === 1) out.push({ t: "gap", sub: 2, missed: 3, from: i, to: i + 2 });
    else {
      const data = new Uint8Array(prng.int(3001)).map(() => prng.int(256));
      out.push({ t: "msg", seq: i + 1, sub: 1, subject: `troupe.out.anomaly.c${i}`, data });
    }
  }
  return out;
}

const bytesOf = (m: StreamSingleMessage) =>
  m.t === "msg" ? encodeStreamMsg(m.seq, m.sub, m.subject, m.data) : encodeStreamServerMessage(m);

test("a batch round-trips: each message inside as its own bytes, in order, read in place and by the generic decoder", () => {
  const seed = 7;
  const messages = someMessages(new Prng(seed), 200);
  const parts = messages.map(bytesOf);
  const batch = encodeStreamBatch(parts);
  const inside = readStreamBatch(batch);
  assert.ok(inside, `seed ${seed}: read in place`);
  assert.is(inside!.length, parts.length);
  inside!.forEach((b, i) => assert.equal([...b], [...parts[i]!], `seed ${seed}: message ${i}`));
  assert.equal(decodeStreamServerMessage(batch), { t: "batch", messages });
  // Plain msgpack: the generic decoder reads the same, and a batch it wrote is read too.
  const plain = decode(batch) as { t: string; m: Uint8Array[] };
  assert.is(plain.t, "batch");
  assert.is(plain.m.length, parts.length);
  const generic = encode({ t: "batch", m: parts });
  assert.is(readStreamBatch(generic), undefined, "another layout goes to the generic decoder");
  assert.equal(decodeStreamServerMessage(generic), { t: "batch", messages });
  assert.equal(decodeStreamServerMessage(encodeStreamBatch([])), { t: "batch", messages: [] });
});

test("decodeStreamServerMessage() refuses a batch cut short, a batch inside a batch, or one not of bin, naming the field", () => {
  const batch = encodeStreamBatch([encodeStreamMsg(1, 1, "troupe.out.a.b", new Uint8Array(40))]);
  throwsNaming(() => decodeStreamServerMessage(batch.subarray(0, -1)), "message", /not msgpack/);
  const nested = encodeStreamBatch([batch]);
  throwsNaming(() => decodeStreamServerMessage(nested), "t", /not be a batch inside a batch/);
  throwsNaming(
    () => decodeStreamServerMessage(encode({ t: "batch", m: [1, 2] })),
    "m",
    /must be an array of bin .*, got \[1,2\]/,
  );
  const badInside = encodeStreamBatch([encode({ t: "gap", sub: 1 })]);
  throwsNaming(() => decodeStreamServerMessage(badInside), "missed", /unsigned integer/);
});

test.run();
