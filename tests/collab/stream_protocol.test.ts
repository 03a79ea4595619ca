import { suite } from "uvu";
import * as assert from "uvu/assert";
import { encode } from "@msgpack/msgpack";
import {
  checkStreamPattern,
  compileChannelGlobs,
  decodeClientMessage,
  decodeServerMessage,
  encodeClientMessage,
  encodeMsgFrame,
  encodeServerMessage,
  filterMatches,
  type ServerMessage,
  StreamProtocolError,
} from "../../collab/mod.ts";

const test = suite("stream protocol");

function throwsNaming(fn: () => unknown, field: string, pattern: RegExp): void {
  try {
    fn();
  } catch (err) {
    assert.instance(err, StreamProtocolError);
    assert.is((err as StreamProtocolError).field, field);
    assert.match((err as Error).message, pattern);
    return;
  }
  assert.unreachable(`expected a StreamProtocolError on ${field}`);
}

test("history asks and answers round-trip; a bad history request names its field", () => {
  const request = { channel: "BTC", t0_us: 1_000_000, t1_us: 61_000_000, points_max: 400 };
  const ask = { op: "history" as const, id: 7, request };
  assert.equal(decodeClientMessage(encodeClientMessage(ask)), ask);
  const data = { t: "history" as const, id: 7, data: new Uint8Array([1, 2, 3]) };
  assert.equal(decodeServerMessage(encodeServerMessage(data)), data);
  const error = { t: "history" as const, id: 7, error: "3 history reads are running" };
  assert.equal(decodeServerMessage(encodeServerMessage(error)), error);
  throwsNaming(
    () => decodeClientMessage(encode({ op: "history", id: 1, request: { ...request, t1_us: 0 } })),
    "request",
    /t1_us after t0_us/,
  );
  throwsNaming(
    () => decodeClientMessage(encode({ op: "history", id: 1, request: [1] })),
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
  assert.equal(decodeClientMessage(encodeClientMessage(sub)), sub);
  const v2 = { ...sub, v: 2 };
  assert.equal(decodeClientMessage(encodeClientMessage(v2)), v2);
  assert.equal(decodeClientMessage(encodeClientMessage({ op: "unsub", id: 3 })), {
    op: "unsub",
    id: 3,
  });
  assert.equal(decodeClientMessage(encodeClientMessage({ op: "ping", id: 0 })), {
    op: "ping",
    id: 0,
  });
});

test("server messages round-trip through encode and decode", () => {
  const all: ServerMessage[] = [
    { t: "ok", id: 1, seq: 10, oldest: 2 },
    { t: "err", id: 1, reason: "no" },
    { t: "msg", seq: 11, sub: 1, subject: "troupe.out.stats.c1", data: new Uint8Array([1, 2, 3]) },
    { t: "gap", sub: 1, missed: 4, from: 3, to: 6 },
    { t: "live", sub: 2, seq: 12 },
    { t: "lag", sub: 2, seq: 70_000 },
    { t: "pong", id: 9 },
  ];
  for (const m of all) assert.equal(decodeServerMessage(encodeServerMessage(m)), m);
});

test("encodeMsgFrame() writes msgpack that decodeServerMessage() reads back, for small and large values", () => {
  const cases: Array<[number, number, string, number]> = [
    [1, 0, "troupe.out.stats.c1", 0],
    [127, 127, "troupe.out.anomaly." + "x".repeat(40), 300],
    [2 ** 32 + 5, 70_000, "troupe.scan.s." + "y".repeat(250) + ".results", 70_000],
  ];
  for (const [seq, sub, subject, n] of cases) {
    const data = new Uint8Array(n).map((_, i) => i & 0xff);
    const m = decodeServerMessage(encodeMsgFrame(seq, sub, subject, data));
    assert.equal(m, { t: "msg", seq, sub, subject, data });
  }
});

test("decodeServerMessage() refuses a msg frame cut short or with a byte added, naming why", () => {
  const frame = encodeMsgFrame(300, 2, "troupe.out.stats.c1", new Uint8Array(50));
  throwsNaming(() => decodeServerMessage(frame.subarray(0, -1)), "message", /not msgpack/);
  const longer = new Uint8Array(frame.length + 1);
  longer.set(frame);
  throwsNaming(() => decodeServerMessage(longer), "message", /not msgpack/);
});

test("decodeClientMessage() names the field and value of a malformed request", () => {
  throwsNaming(() => decodeClientMessage(new Uint8Array([0xc1])), "message", /not msgpack/);
  throwsNaming(
    () => decodeClientMessage(encode([1, 2])),
    "message",
    /^Cannot read client message: field "message" must be a msgpack map, got array of 2$/,
  );
  throwsNaming(() => decodeClientMessage(encode({ op: "dance", id: 1 })), "op", /"dance"/);
  throwsNaming(
    () => decodeClientMessage(encode({ op: "ping", id: -1 })),
    "id",
    /unsigned integer, got -1/,
  );
  throwsNaming(() => decodeClientMessage(encode({ op: "sub", id: 1 })), "subjects", /got nothing/);
  throwsNaming(
    () =>
      decodeClientMessage(encode({ op: "sub", id: 1, subjects: ["troupe.out.>"], slow: "drop" })),
    "slow",
    /"drop"/,
  );
  throwsNaming(
    () => decodeClientMessage(encode({ op: "sub", id: 1, subjects: ["troupe.out.>"], since: 1.5 })),
    "since",
    /1\.5/,
  );
  throwsNaming(
    () => decodeClientMessage(encode({ op: "sub", id: 1, subjects: ["troupe.out.>"], last: -1 })),
    "last",
    /-1/,
  );
  throwsNaming(
    () => decodeServerMessage(encode({ t: "msg", seq: 1, sub: 1, subject: "x", data: "s" })),
    "data",
    /bin/,
  );
});

test("a sub request's protocol version must be 1 or 2, and a live or lag notice needs sub and seq", () => {
  const sub = { op: "sub", id: 1, subjects: ["troupe.out.>"] };
  for (const v of [0, 3, "2", -1]) {
    throwsNaming(() => decodeClientMessage(encode({ ...sub, v })), "v", /v/);
  }
  throwsNaming(
    () => decodeClientMessage(encode({ ...sub, v: 3 })),
    "v",
    /must be a protocol version from 1 to 2, got 3/,
  );
  throwsNaming(() => decodeServerMessage(encode({ t: "live", sub: 1 })), "seq", /got nothing/);
  throwsNaming(() => decodeServerMessage(encode({ t: "lag", seq: 1 })), "sub", /got nothing/);
  throwsNaming(() => decodeServerMessage(encode({ t: "wat" })), "t", /"live", "lag"/);
});

test("checkStreamPattern() takes patterns inside the relayed prefixes and refuses others with the reason", () => {
  for (
    const ok of [
      "troupe.out.>",
      "troupe.out.*",
      "troupe.out.anomaly.*",
      "troupe.out.*.BTC",
      "troupe.dlq.>",
      "troupe.sys.health",
      "troupe.scan.*.results",
      "troupe.scan.s1.results",
    ]
  ) assert.is(checkStreamPattern(ok), ok);
  for (
    const no of [
      "troupe.>",
      "troupe.*.anomaly.c1",
      "troupe.feed.m.c1",
      "troupe.ctl.stats",
      "troupe.out",
      "troupe.scan.>",
      "troupe.scan.s1.*",
      "troupe.scan.s1.results.x",
      ">",
    ]
  ) throwsNaming(() => checkStreamPattern(no), "subjects", /outside the relayed subjects/);
  throwsNaming(
    () => checkStreamPattern("troupe.out.a b"),
    "subjects",
    /not a NATS subject pattern/,
  );
  throwsNaming(() => checkStreamPattern("troupe.>.x"), "subjects", /not a NATS subject pattern/);
  throwsNaming(() => checkStreamPattern(""), "subjects", /1 to 256/);
});

test("filterMatches() applies subject patterns and channel globs to the last token", () => {
  const f = {
    subjects: ["troupe.out.anomaly.*", "troupe.dlq.>"],
    channels: compileChannelGlobs(["BTC*", "e.h"]),
  };
  assert.ok(filterMatches(f, "troupe.out.anomaly.BTC-USD"));
  assert.not.ok(filterMatches(f, "troupe.out.anomaly.ETH"));
  assert.ok(filterMatches(f, "troupe.out.anomaly.e.h") === false); // not one token: subject fails
  assert.not.ok(filterMatches(f, "troupe.out.anomaly.exh"), "a dot in a glob is literal");
  assert.not.ok(filterMatches(f, "troupe.out.stats.BTC"));
  assert.ok(filterMatches({ subjects: ["troupe.out.>"] }, "troupe.out.stats.x"));
});

test.run();
