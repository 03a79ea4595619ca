import { suite } from "uvu";
import * as assert from "uvu/assert";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../../protocol/mod.ts";
import {
  createCsvFeed,
  CsvFormatError,
  parseCsv,
  parseTimestamp,
  readCsv,
} from "../../../sim/feeds/csv.ts";

const test = suite("csv");
const dir = mkdtempSync(join(tmpdir(), "troupe-csv-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const US = (iso: string) => Date.parse(iso) * 1000;

test("parseCsv() reads NAB's timestamp,value format as UTC, batch samples per frame", () => {
  const text = [
    "timestamp,value",
    "2014-07-01 00:00:00,10844",
    "2014-07-01 00:30:00,8127",
    "2014-07-01 01:00:00,6210",
    "2014-07-01 01:30:00,4656.5",
    "2014-07-01 02:00:00,-3.25e1",
    "",
  ].join("\n");
  const r = parseCsv(text, { channel: "nyc_taxi", batch: 2 });
  assert.is(r.format, "value");
  assert.equal(r.channels, ["nyc_taxi"]);
  assert.is(r.samples, 5);
  assert.equal(r.errors, []);
  assert.equal(r.frames.map((f) => [f.channel, f.seq0, f.t.length]), [
    ["nyc_taxi", 0, 2],
    ["nyc_taxi", 2, 2],
    ["nyc_taxi", 4, 1],
  ]);
  assert.is(r.frames[0]!.t[0], US("2014-07-01T00:00:00Z"));
  assert.is(r.frames[1]!.t[1], US("2014-07-01T01:30:00Z"));
  assert.equal(Array.from(r.frames[1]!.v), [6210, 4656.5]);
  assert.is(r.frames[2]!.v[0], -32.5);
});

test("parseCsv() names each bad row by line number, reason and value, and keeps every good row", () => {
  const text = [
    "timestamp,value", //                  1
    "2014-07-01 00:00:00,1", //            2
    "2014-07-01 00:05:00,abc", //          3 not a number
    "2014-13-01 00:10:00,3", //            4 month 13
    "", //                                 5 blank: skipped, not an error
    "2014-07-01 00:15:00,NaN", //          6 NaN
    "2014-07-01 00:20:00,5,extra", //      7 three fields
    "2014-07-01 00:25:00,6", //            8
    "2014-07-01 00:24:00,7", //            9 back in time
    "2014-07-01 00:25:00,8", //           10 same time as line 8: kept
    "2014-07-01 00:30:00,", //            11 empty value
    "2014-07-01 00:35:00,0x10", //        12 hex is not a number here
    "2014-07-01 00:40:00,10", //          13
  ].join("\r\n");
  const r = parseCsv(text, { channel: "c" });
  assert.equal(Array.from(r.frames[0]!.v), [1, 6, 8, 10]);
  assert.is(r.samples, 4);
  assert.equal(
    r.errors.map((e) => [e.line, e.reason, e.value]),
    [
      [3, "value is not a finite number", "abc"],
      [4, "timestamp is not a date-time", "2014-13-01 00:10:00"],
      [6, "value is not a finite number", "NaN"],
      [7, "expected 2 fields, found 3", "2014-07-01 00:20:00,5,extra"],
      [9, 'timestamp is before line 8\'s "2014-07-01 00:25:00"', "2014-07-01 00:24:00"],
      [11, "value is not a finite number", ""],
      [12, "value is not a finite number", "0x10"],
    ],
  );
  assert.is(r.errorCount, 7);
  assert.is(r.errors[0]!.message, 'line 3: value is not a finite number, got "abc"');
});

test("parseCsv() lists at most errorsMax bad rows but counts them all", () => {
  const lines = ["timestamp,value"];
  for (let i = 0; i < 50; i++) lines.push(`2014-07-01 00:00:${String(i).padStart(2, "0")},x`);
  lines.push("2014-07-01 00:01:00,1");
  const r = parseCsv(lines.join("\n"), { channel: "c", errorsMax: 3 });
  assert.is(r.errorCount, 50);
  assert.equal(r.errors.map((e) => e.line), [2, 3, 4]);
  assert.is(r.samples, 1);
});

test("parseCsv() reads OHLCV by header names in any order, ignoring other columns", () => {
  const text = [
    "Date,Open,High,Low,Close,Adj Close,Volume",
    "2024-01-02,100,110,95,105,104.5,12000",
    "2024-01-03,105,104,106,105,104.5,100", // high below low
    "2024-01-04,105,108,101,109,108.1,300", // high below close
    "2024-01-05,105,108,101,107,106.9,-1", // negative volume
    "2024-01-08,107,112,106,111,110.2,9000",
  ].join("\n");
  const r = parseCsv(text, { channel: "AAPL" });
  assert.is(r.format, "ohlcv");
  assert.equal(r.channels, ["AAPL", "AAPL_open", "AAPL_high", "AAPL_low", "AAPL_vol"]);
  assert.equal(r.frames.map((f) => [f.channel, Array.from(f.v)]), [
    ["AAPL", [105, 111]],
    ["AAPL_open", [100, 107]],
    ["AAPL_high", [110, 112]],
    ["AAPL_low", [95, 106]],
    ["AAPL_vol", [12000, 9000]],
  ]);
  assert.is(r.frames[0]!.t[1], US("2024-01-08T00:00:00Z"));
  assert.equal(
    r.errors.map((e) => [e.line, e.reason]),
    [
      [3, "high 104 is below low 106"],
      [4, "high 108 is below open 105 or close 109"],
      [5, "volume -1 is negative"],
    ],
  );
});

test("parseCsv() takes a first line that is data as data, for two or six columns", () => {
  const two = parseCsv("2014-07-01 00:00:00,1\n2014-07-01 00:01:00,2\n", { channel: "c" });
  assert.is(two.samples, 2);
  const six = parseCsv("1700000000,1,2,0.5,1.5,10\n1700000060,1.5,2,1,1.75,20\n", {
    channel: "X",
  });
  assert.is(six.format, "ohlcv");
  assert.is(six.samples, 2);
  assert.is(six.frames[0]!.t[1], 1_700_000_060 * 1e6);
  assert.equal(Array.from(six.frames[0]!.v), [1.5, 1.75]);
});

test("parseCsv() refuses a header it cannot read, quoting it", () => {
  try {
    parseCsv("when,what,why\n1,2,3\n", { channel: "c", source: "x.csv" });
    assert.unreachable("accepted an unknown header");
  } catch (err) {
    assert.instance(err, CsvFormatError);
    assert.match((err as Error).message, 'x.csv: line 1 has header "when,what,why"');
  }
});

test("parseTimestamp() reads date-times, zones, fractions and epoch numbers, and refuses impossible dates", () => {
  assert.is(parseTimestamp("2014-07-01 00:00:00"), US("2014-07-01T00:00:00Z"));
  assert.is(parseTimestamp("2014-07-01T12:34:56Z"), US("2014-07-01T12:34:56Z"));
  assert.is(parseTimestamp("2014-07-01T12:34"), US("2014-07-01T12:34:00Z"));
  assert.is(parseTimestamp("2014-07-01 12:00:00+02:00"), US("2014-07-01T10:00:00Z"));
  assert.is(parseTimestamp("2014-07-01 12:00:00-0130"), US("2014-07-01T13:30:00Z"));
  assert.is(parseTimestamp("2014-07-01 00:00:00.000123"), US("2014-07-01T00:00:00Z") + 123);
  assert.is(parseTimestamp("2014-07-01 00:00:00.5"), US("2014-07-01T00:00:00Z") + 500_000);
  assert.is(parseTimestamp("2024-02-29"), US("2024-02-29T00:00:00Z"));
  assert.is(parseTimestamp("1700000000"), 1_700_000_000_000_000);
  assert.is(parseTimestamp("1700000000.25"), 1_700_000_000_250_000);
  assert.is(parseTimestamp("1700000000123"), 1_700_000_000_123_000);
  assert.is(parseTimestamp("1700000000123456"), 1_700_000_000_123_456);
  for (
    const bad of [
      "2014-02-30",
      "2023-02-29",
      "2014-07-01 24:00:00",
      "2014-07-01 10:60",
      "07/01/2014",
      "",
      "-5",
      "2014-7-1",
    ]
  ) {
    assert.is(parseTimestamp(bad), undefined, bad);
  }
});

test("readCsv() names the channel after the file and refuses names that are not channel names", () => {
  const good = join(dir, "ec2_cpu-5f5533.csv");
  writeFileSync(good, "timestamp,value\n2014-02-14 14:27:00,51.846\n");
  assert.equal(readCsv(good).channels, ["ec2_cpu-5f5533"]);
  assert.equal(readCsv(good, { channel: "cpu" }).channels, ["cpu"]);
  const bad = join(dir, "my data.csv");
  writeFileSync(bad, "timestamp,value\n2014-02-14 14:27:00,51.846\n");
  try {
    readCsv(bad);
    assert.unreachable("accepted a channel name with a space");
  } catch (err) {
    assert.instance(err, ConfigError);
    assert.match((err as Error).message, '"my data"');
    assert.match((err as Error).message, "pass the channel option");
  }
  assert.equal(readCsv(bad, { channel: "mine" }).channels, ["mine"]);
});

test("readCsv() reports a missing or oversized file with its path", () => {
  const missing = join(dir, "nope.csv");
  assert.throws(
    () => readCsv(missing),
    (err: Error) => err instanceof CsvFormatError && err.message.includes(missing),
  );
  const big = join(dir, "big.csv");
  writeFileSync(big, "timestamp,value\n" + "2014-02-14 14:27:00,1\n".repeat(100));
  assert.throws(
    () => readCsv(big, { bytesMax: 1000 }),
    (err: Error) => err instanceof CsvFormatError && /over the limit of 1000/.test(err.message),
  );
});

test("createCsvFeed() hands out the file step by step, then nothing, with truth of what was sent", () => {
  const path = join(dir, "bars.csv");
  const rows = ["timestamp,open,high,low,close,volume"];
  for (let i = 0; i < 25; i++) {
    rows.push(`${1_700_000_000 + 60 * i},${i},${i + 2},${i - 1},${i + 1},${100 + i}`);
  }
  rows.splice(5, 0, "garbage");
  writeFileSync(path, rows.join("\n"));
  const feed = createCsvFeed(path, { batch: 10 });
  assert.equal(feed.channels, ["bars", "bars_open", "bars_high", "bars_low", "bars_vol"]);
  assert.is(feed.errorCount, 1);
  assert.is(feed.errors[0]!.line, 6);
  const sizes: number[][] = [];
  for (let step = 0; step < 5; step++) sizes.push(feed.next().map((f) => f.t.length));
  assert.equal(sizes, [[10, 10, 10, 10, 10], [10, 10, 10, 10, 10], [5, 5, 5, 5, 5], [], []]);
  const truth = feed.truth();
  assert.is(truth.samples, 25);
  assert.is(truth.startUs, 1_700_000_000e6);
  assert.is(truth.endUs, (1_700_000_000 + 60 * 24) * 1e6);
  assert.is(truth.options.path, path);
  assert.equal(JSON.parse(JSON.stringify(truth)), truth);
  const moved = createCsvFeed(path, { batch: 10, startUs: 5e15 });
  assert.equal(Array.from(moved.next()[0]!.t.subarray(0, 2)), [5e15, 5e15 + 60e6]);
  assert.is(moved.truth().options.startUs, 5e15);
});

const NAB_FILE = "../shared/datasets/nab-dev/data/artificialWithAnomaly/art_daily_jumpsup.csv";
if (!existsSync(NAB_FILE)) console.log(`  SKIP  csv: ${NAB_FILE} is absent`);

(existsSync(NAB_FILE) ? test : test.skip)(
  "readCsv() reads a NAB data file whole, without a bad row",
  () => {
    const path = NAB_FILE;
    const r = readCsv(path, { batch: 1000 });
    assert.equal(r.channels, ["art_daily_jumpsup"]);
    assert.is(r.samples, 4032);
    assert.is(r.errorCount, 0);
    assert.is(r.frames[0]!.t[0], US("2014-04-01T00:00:00Z"));
    assert.is(r.frames[0]!.t[1]! - r.frames[0]!.t[0]!, 300e6);
    assert.is(r.frames[0]!.v[1], 20.500833287);
  },
);

test.run();
