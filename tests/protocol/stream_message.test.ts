import { suite } from "uvu";
import * as assert from "uvu/assert";
import { throwsOn } from "../_support/throws_on.ts";
import { encode } from "@msgpack/msgpack";
import {
  decodeStreamClientMessage,
  decodeStreamServerMessage,
  encodeStreamClientMessage,
  encodeStreamMsg,
  encodeStreamServerMessage,
  StreamProtocolError,
  type StreamSingleMessage,
} from "../../protocol/mod.ts";
import { Prng } from "../../sim/prng/mod.ts";

const test = suite("stream messages on the wire");

function throwsNaming(fn: () => unknown, field: string, pattern: RegExp): void {
  throwsOn(StreamProtocolError, fn, field, pattern);
}

test("history asks and answers round-trip; a bad history request names its field", () => {
  const request = { channel: "BTC", t0_us: 1_000_000, t1_us: 61_000_000, points_max: 400 };
  const ask = { op: "history" as const, id: 7, request };
  assert.equal(decodeStreamClientMessage(encodeStreamClientMessage(ask)), ask);
  const data = { t: "history" as const, id: 7, data: new Uint8Array([1, 2, 3]) };
  assert.equal(decodeStreamServerMessage(encodeStreamServerMessage(data)), data);
  const error = { t: "history" as const, id: 7, error: "3 history reads are running" };
  assert.equal(decodeStreamServerMessage(encodeStreamServerMessage(error)), error);
  throwsNaming(
    () =>
      decodeStreamClientMessage(
        encode({ op: "history", id: 1, request: { ...request, t1_us: 0 } }),
      ),
    "request",
    /t1_us after t0_us/,
  );
  throwsNaming(
    () => decodeStreamClientMessage(encode({ op: "history", id: 1, request: [1] })),
    "request",
    /must be a map/,
  );
});

test("client requests round-trip through encode and decode", () => {
  const sub = {
    op: "sub" as const,
    id: 3,
    subjects: ["troupe.out.anomaly.*", "troupe.scan.*.results"],
    channels: ["BTC*", "eth"],
    since: 41,
    last: 4000,
    slow: "close" as const,
  };
  assert.equal(decodeStreamClientMessage(encodeStreamClientMessage(sub)), sub);
  const v2 = { ...sub, v: 2 };
  assert.equal(decodeStreamClientMessage(encodeStreamClientMessage(v2)), v2);
  assert.equal(decodeStreamClientMessage(encodeStreamClientMessage({ op: "unsub", id: 3 })), {
    op: "unsub",
    id: 3,
  });
  assert.equal(decodeStreamClientMessage(encodeStreamClientMessage({ op: "ping", id: 0 })), {
    op: "ping",
    id: 0,
  });
});

test("server messages round-trip through encode and decode", () => {
  const all: StreamSingleMessage[] = [
    { t: "ok", id: 1, seq: 10, oldest: 2 },
    { t: "err", id: 1, reason: "no" },
    { t: "msg", seq: 11, sub: 1, subject: "troupe.out.stats.c1", data: new Uint8Array([1, 2, 3]) },
    { t: "gap", sub: 1, missed: 4, from: 3, to: 6 },
    { t: "live", sub: 2, seq: 12 },
    { t: "lag", sub: 2, seq: 70_000 },
    { t: "pong", id: 9 },
  ];
  for (const m of all) assert.equal(decodeStreamServerMessage(encodeStreamServerMessage(m)), m);
});

test("encodeStreamMsg() writes msgpack that decodeStreamServerMessage() reads back, for small and large values", () => {
  const cases: Array<[number, number, string, number]> = [
    [1, 0, "troupe.out.stats.c1", 0],
    [127, 127, "troupe.out.anomaly." + "x".repeat(40), 300],
    [2 ** 32 + 5, 70_000, "troupe.scan.s." + "y".repeat(250) + ".results", 70_000],
  ];
  for (const [seq, sub, subject, n] of cases) {
    const data = new Uint8Array(n).map((_, i) => i & 0xff);
    const m = decodeStreamServerMessage(encodeStreamMsg(seq, sub, subject, data));
    assert.equal(m, { t: "msg", seq, sub, subject, data });
  }
});

test("decodeStreamServerMessage() refuses a msg frame cut short or with a byte added, naming why", () => {
  const frame = encodeStreamMsg(300, 2, "troupe.out.stats.c1", new Uint8Array(50));
  throwsNaming(() => decodeStreamServerMessage(frame.subarray(0, -1)), "message", /not msgpack/);
  const longer = new Uint8Array(frame.length + 1);
  longer.set(frame);
  throwsNaming(() => decodeStreamServerMessage(longer), "message", /not msgpack/);
});

test("decodeStreamClientMessage() names the field and value of a malformed request", () => {
  throwsNaming(() => decodeStreamClientMessage(new Uint8Array([0xc1])), "message", /not msgpack/);
  throwsNaming(
    () => decodeStreamClientMessage(encode([1, 2])),
    "message",
    /^Cannot read client message: field "message" must be a msgpack map, got array of 2$/,
  );
  throwsNaming(() => decodeStreamClientMessage(encode({ op: "dance", id: 1 })), "op", /"dance"/);
  throwsNaming(
    () => decodeStreamClientMessage(encode({ op: "ping", id: -1 })),
    "id",
    /unsigned integer, got -1/,
  );
  throwsNaming(
    () => decodeStreamClientMessage(encode({ op: "sub", id: 1 })),
    "subjects",
    /got nothing/,
  );
  throwsNaming(
    () =>
      decodeStreamClientMessage(
        encode({ op: "sub", id: 1, subjects: ["troupe.out.>"], slow: "drop" }),
      ),
    "slow",
    /"drop"/,
  );
  throwsNaming(
    () =>
      decodeStreamClientMessage(
        encode({ op: "sub", id: 1, subjects: ["troupe.out.>"], since: 1.5 }),
      ),
    "since",
    /1\.5/,
  );
  throwsNaming(
    () =>
      decodeStreamClientMessage(encode({ op: "sub", id: 1, subjects: ["troupe.out.>"], last: -1 })),
    "last",
    /-1/,
  );
  throwsNaming(
    () => decodeStreamServerMessage(encode({ t: "msg", seq: 1, sub: 1, subject: "x", data: "s" })),
    "data",
    /bin/,
  );
});

test("a sub request's protocol version must be 1 or 2, and a live or lag notice needs sub and seq", () => {
  const sub = { op: "sub", id: 1, subjects: ["troupe.out.>"] };
  for (const v of [0, 3, "2", -1]) {
    throwsNaming(() => decodeStreamClientMessage(encode({ ...sub, v })), "v", /v/);
  }
  throwsNaming(
    () => decodeStreamClientMessage(encode({ ...sub, v: 3 })),
    "v",
    /must be a protocol version from 1 to 2, got 3/,
  );
  throwsNaming(
    () => decodeStreamServerMessage(encode({ t: "live", sub: 1 })),
    "seq",
    /got nothing/,
  );
  throwsNaming(() => decodeStreamServerMessage(encode({ t: "lag", seq: 1 })), "sub", /got nothing/);
  throwsNaming(() => decodeStreamServerMessage(encode({ t: "wat" })), "t", /"live", "lag"/);
});

test("encodeStreamMsg() round-trips seq, sub, subject and data at every msgpack width", () => {
  // A subject of 65,536 bytes or more used to be written with a wrapped 16-bit length: the frame
  // then decoded to another subject, or not at all.
  const seed = 3434;
  const rng = new Prng(seed);
  const ints = [0, 0x7f, 0x80, 0xffff_ffff, 2 ** 32, Number.MAX_SAFE_INTEGER];
  const lengths = [0, 31, 32, 255, 256, 0xffff, 0x10000, 70_000];
  for (const n of lengths) {
    const subject = "s".repeat(n);
    const seq = ints[rng.int(ints.length)]!, sub = ints[rng.int(ints.length)]!;
    const data = Uint8Array.from({ length: rng.int(300) }, () => rng.int(256));
    const back = decodeStreamServerMessage(encodeStreamMsg(seq, sub, subject, data));
    assert.equal(back, { t: "msg", seq, sub, subject, data }, `seed ${seed}, subject of ${n}`);
  }
});

test.run();
