/**
 * The progress mark's wire: a round trip keeps every partition's progress and idleness, the
 * subject is the findings stream's, and a bad mark is refused naming the field and the value.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  decodeProgressMark,
  encodeEnvelope,
  encodeProgressMark,
  isProgressMark,
  PROGRESS_PATTERN,
  progressSubject,
  ProtocolError,
  subjectMatches,
} from "../../protocol/mod.ts";

const test = suite("progress mark");
const T = Date.parse("2026-11-27T05:00:00Z") * 1000;

test("encodeProgressMark() and decodeProgressMark() round-trip a source's partitions", () => {
  const mark = {
    partitions: [
      { partition: 0, reached_us: T, idle: false },
      { partition: 3, reached_us: 0, idle: true },
    ],
    live: true,
  };
  const bytes = encodeProgressMark({ id: "h1:progress:7", src: "h1", ts: T + 5 }, mark);
  assert.ok(isProgressMark(bytes));
  const { envelope, mark: back } = decodeProgressMark(bytes);
  assert.equal(back, mark);
  assert.is(envelope.src, "h1");
  assert.is(envelope.ts, T + 5);
  assert.is(progressSubject("h1"), "troupe.finding.progress.h1");
  assert.ok(subjectMatches(PROGRESS_PATTERN, progressSubject("h1-t2")));
});

test("decodeProgressMark() refuses a mark whose time is not µs, naming the field and value", () => {
  const bytes = encodeEnvelope({
    id: "x",
    src: "h1",
    ts: T,
    type: "progress",
    body: { p: [[0, 1.5, 0]], live: 1 },
  });
  try {
    decodeProgressMark(bytes);
    assert.unreachable("decoded");
  } catch (err) {
    assert.instance(err, ProtocolError);
    assert.match(
      (err as Error).message,
      'field "body.p[0].reached_us" must be a time in µs, got 1.5',
    );
  }
  const other = encodeEnvelope({ id: "y", src: "h1", ts: T, type: "anomaly", body: {} });
  assert.not.ok(isProgressMark(other));
  const noLive = encodeEnvelope({ id: "w", src: "h1", ts: T, type: "progress", body: { p: [] } });
  assert.throws(
    () => decodeProgressMark(noLive),
    /field "body.live" must be 0 or 1, got undefined/,
  );
  assert.throws(() => decodeProgressMark(other), /field "type" must be "progress"/);
  assert.throws(
    () =>
      encodeProgressMark({ id: "z", src: "h", ts: T }, {
        partitions: [{ partition: -1, reached_us: 0, idle: false }],
        live: false,
      }),
    /partitions\[0\]\.partition" must be a partition number, got -1/,
  );
});

test.run();
