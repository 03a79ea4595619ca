/**
 * The JetStream journal's message of several records: packed and unpacked, and what is damage
 * (a count header that is not a count of 2 or more, lengths that do not add up to the data).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { headers } from "@nats-io/transport-node";
import {
  COUNT_HEADER,
  packRecords,
  readCount,
  unpackRecords,
} from "../../../../actors/runtime/journal/jetstream/_journal_message.ts";
import { JournalCorruptError } from "../../../../actors/runtime/journal/journal.ts";

const test = suite("jetstream journal message");
const SUBJECT = "troupe.journal.stats.BTC-USD";

const bytes = (...values: number[]) => new Uint8Array(values);

/** The JournalCorruptError `call` throws; fails when it throws nothing or something else. */
function corrupt(call: () => unknown): JournalCorruptError {
  try {
    call();
  } catch (err) {
    assert.instance(err, JournalCorruptError);
    return err as JournalCorruptError;
  }
  assert.unreachable("no JournalCorruptError thrown");
  throw new Error("unreachable");
}

test("packRecords() and unpackRecords() round-trip records, empty ones too, as views of the data", () => {
  const records = [bytes(1, 2, 3), bytes(), bytes(4), new Uint8Array(300).fill(7)];
  const data = packRecords(records);
  assert.is(data.length, 4 * 4 + 3 + 0 + 1 + 300);
  assert.equal([...data.subarray(0, 7)], [3, 0, 0, 0, 1, 2, 3], "u32 LE length, then the bytes");
  const back = unpackRecords(data, records.length, SUBJECT, 9);
  assert.equal(back.map((r) => [...r]), records.map((r) => [...r]));
  assert.is(back[0]!.buffer, data.buffer, "not copied");
  // Read from a view at an offset into a larger buffer, as a message's data may be.
  const framed = new Uint8Array(data.length + 5);
  framed.set(data, 3);
  const view = framed.subarray(3, 3 + data.length);
  assert.equal(unpackRecords(view, 4, SUBJECT, 9).map((r) => r.length), [3, 0, 1, 300]);
});

test("readCount() is 1 without the header and the header's count when it is 2 or more", () => {
  assert.is(readCount(undefined, SUBJECT, 1), 1);
  assert.is(readCount(headers(), SUBJECT, 1), 1);
  const h = headers();
  h.set(COUNT_HEADER, "12");
  assert.is(readCount(h, SUBJECT, 1), 12);
});

test("readCount() rejects a count header that is not an integer of 2 or more, naming the message", () => {
  for (const raw of ["1", "0", "-3", "2.5", "x", "", "1e3", "0x4"]) {
    const h = headers();
    h.set(COUNT_HEADER, raw);
    const err = corrupt(() => readCount(h, SUBJECT, 42));
    assert.is(err.where, SUBJECT);
    assert.is(err.offset, 42);
    assert.is(
      err.message,
      `Cannot read journal message 42 on ${SUBJECT}: header Troupe-Count must be a record ` +
        `count >= 2, got ${JSON.stringify(raw)}`,
    );
  }
});

test("unpackRecords() rejects data cut short, data past the last record and a count it cannot hold", () => {
  const data = packRecords([bytes(1, 2), bytes(3, 4, 5)]); // 13 bytes
  const cut = corrupt(() => unpackRecords(data.subarray(0, 12), 2, SUBJECT, 7));
  assert.is(cut.offset, 7);
  assert.is(
    cut.message,
    `Cannot read journal message 7 on ${SUBJECT}: it holds 2 records (header Troupe-Count) in ` +
      `12 bytes, but record 2 of 3 bytes at byte 10 runs past the end`,
  );
  const cutLength = corrupt(() => unpackRecords(data.subarray(0, 8), 2, SUBJECT, 7));
  assert.match(cutLength.message, "record 2's length at byte 6 runs past the end");
  const long = new Uint8Array(15);
  long.set(data);
  assert.match(
    corrupt(() => unpackRecords(long, 2, SUBJECT, 7)).message,
    "in 15 bytes, but its records end at byte 13, 2 bytes before the end",
  );
  assert.match(
    corrupt(() => unpackRecords(data, 1_000_000, SUBJECT, 7)).message,
    "it holds 1000000 records (header Troupe-Count) in 13 bytes, but 1000000 lengths alone " +
      "take 4000000 bytes",
  );
  assert.match(corrupt(() => unpackRecords(data, 3, SUBJECT, 7)).message, "record 3's length");
});

test.run();
