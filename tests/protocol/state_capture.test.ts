import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  decodeStateCaptureAsk,
  decodeStateCapturePart,
  encodeStateCaptureAsk,
  encodeStateCapturePart,
  encodeValue,
  savedIds,
  stateCaptureSubject,
} from "../../protocol/mod.ts";

const test = suite("state captures on the wire");

const part = {
  host: "h1",
  part: 0,
  parts: 2,
  atMs: 1_700_000_000_123,
  kinds: { stats: { version: 3, config: { every_samples: 10 } } },
  instances: [{
    stream: "stats/BTC-USD",
    version: 3,
    pos: 41,
    srcPos: 7,
    machine: { status: "active", value: "idle", context: { n: 1 } },
    kernel: new Uint8Array([1, 2, 3, 250]),
    config: { every_samples: 10 },
    ids: savedIds(["a-1", "a-2"]),
  }],
  missed: [{ stream: "stats/ETH", reason: "the instance is backoff" }],
};

test("the ask is taken on troupe.sys.snapshots.ask", () => {
  assert.is(stateCaptureSubject(), "troupe.sys.snapshots.ask");
});

test("encodeStateCaptureAsk() and decodeStateCaptureAsk() round-trip an ask", () => {
  const ask = { by: "troupe record", settleMs: 2000 };
  assert.equal(decodeStateCaptureAsk(encodeStateCaptureAsk(ask)), ask);
});

test("encodeStateCapturePart() and decodeStateCapturePart() round-trip a host's part", () => {
  const back = decodeStateCapturePart(encodeStateCapturePart(part));
  assert.equal(back, part);
  assert.is(back.instances[0]!.kernel.byteOffset, 0, "the kernel is its own buffer");
});

test("decodeStateCapturePart() reads a part whose ids are the ids themselves as their fingerprints", () => {
  const fields = {
    v: 1,
    host: "h",
    part: 0,
    parts: 1,
    at_ms: 0,
    kinds: {},
    instances: [{
      stream: "a/b",
      version: 1,
      pos: 1,
      src_pos: 0,
      kernel: new Uint8Array(0),
      ids: ["a-1", "a-2"],
    }],
    missed: [],
  };
  const back = decodeStateCapturePart(encodeValue(fields));
  assert.equal(back.instances[0]!.ids, savedIds(["a-1", "a-2"]));
  assert.is(back.instances[0]!.ids.byteLength, 16);
  const odd = { ...fields, instances: [{ ...fields.instances[0]!, ids: new Uint8Array(9) }] };
  assert.throws(
    () => decodeStateCapturePart(encodeValue(odd)),
    /instances\[0\]\.ids: must be 8 bytes an id, or an array of strings, got/,
  );
});

test("decodeStateCaptureAsk() and decodeStateCapturePart() name the field and the value they reject", () => {
  const cases: Array<[() => unknown, RegExp]> = [
    [
      () => decodeStateCaptureAsk(encodeValue({ v: 1, by: "x", settle_ms: -1 })),
      /settle_ms: must be an integer from 0 to 60000, got -1/,
    ],
    [() => decodeStateCaptureAsk(encodeValue({ v: 2, by: "x", settle_ms: 1 })), /"v" must be 1/],
    [
      () => decodeStateCapturePart(encodeStateCapturePart({ ...part, part: 2 })),
      /part: must be an integer from 0 to 1, got 2/,
    ],
    [
      () =>
        decodeStateCapturePart(
          encodeValue({ v: 1, host: "h", part: 0, parts: 1, at_ms: 0, kinds: {}, missed: [] }),
        ),
      /instances: must be an array, got undefined/,
    ],
    [
      () =>
        decodeStateCapturePart(encodeValue({
          v: 1,
          host: "h",
          part: 0,
          parts: 1,
          at_ms: 0,
          kinds: {},
          instances: [{ stream: "a/b", version: 1, pos: 1, src_pos: 0, kernel: 3, ids: [] }],
          missed: [],
        })),
      /instances\[0\]\.kernel" must be bin, got 3/,
    ],
  ];
  for (const [f, re] of cases) assert.throws(f, re);
});

test.run();
