import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  anomalyBandOf,
  AnomalyColumnsReader,
  anomalyEdgesBytes,
  decodeColumns,
  encodeAnomalyColumns,
  encodeColumns,
  encodeValue,
  type FrameMeta,
  NOT_READ,
} from "../../protocol/mod.ts";
import { Prng } from "../../sim/prng/mod.ts";
import { anomalyFrame } from "./_anomaly_frame.ts";

const test = suite("anomaly columns reader");
const SEED = 31;

const frame = anomalyFrame;
const META: FrameMeta = {
  id: "s:cpu-7:40:anomaly:cpu-7:c",
  src: "host-a",
  ts: 1_700_000_000_000_999,
};

/** What the page's general way draws of `bytes` (t, value, expected, lower, upper), or a reason
 *  it draws nothing. */
function generic(bytes: Uint8Array): Float64Array[] | string {
  let columns: Record<string, Float64Array>, t: Float64Array;
  try {
    ({ frame: { t, columns } } = decodeColumns(bytes));
  } catch (e) {
    return (e as Error).message;
  }
  const band = anomalyBandOf(columns);
  return band ? [t, band.value, band.expected, band.lower, band.upper] : "no band";
}

/** Asserts the reader read `bytes` as the general way does, value for value (NaNs alike). */
function assertReadsAsGeneric(reader: AnomalyColumnsReader, bytes: Uint8Array, what: string) {
  const want = generic(bytes);
  const n = reader.read(bytes);
  if (typeof want === "string") {
    assert.is(n, NOT_READ, `${what}: read what the general way refuses (${want})`);
    return;
  }
  if (n === NOT_READ) return;
  assert.is(n, want[0]!.length, what);
  for (let c = 0; c < want.length; c++) {
    for (let i = 0; i < n; i++) {
      const got = reader.columns[c]![i]!, exp = want[c]![i]!;
      if (!Object.is(got, exp)) assert.unreachable(`${what}: column ${c}[${i}] ${got} != ${exp}`);
    }
  }
}

test("read() gives a frame's times and band as decodeColumns and anomalyBandOf do, bit for bit", () => {
  const rng = new Prng(SEED), reader = new AnomalyColumnsReader();
  for (const n of [0, 1, 10, 33, 500, 2000]) {
    const f = frame(rng, n), bytes = encodeAnomalyColumns(f, META);
    assert.is(reader.read(bytes), n, `n ${n} (seed ${SEED})`);
    const { lower, upper } = anomalyBandOf({ expected: f.expected, spread: f.spread })!;
    const want = [f.t, f.value, f.expected, lower, upper];
    for (let c = 0; c < want.length; c++) {
      assert.equal(
        Array.from(reader.columns[c]!.subarray(0, n)),
        Array.from(want[c]!),
        `column ${c}, n ${n} (seed ${SEED})`,
      );
    }
  }
});

test("read() takes the band as its edges (before issue 33), no value column, seq, corr and cause, unaligned bytes", () => {
  const rng = new Prng(SEED), reader = new AnomalyColumnsReader();
  const f = frame(rng, 12);
  const edges = anomalyEdgesBytes(encodeAnomalyColumns(f, META))!;
  const { score, expected, spread } = f;
  const noValue = encodeColumns(
    { channel: f.channel, seq0: f.seq0, t: f.t, columns: { score, expected, spread } },
    { ...META, seq: 7, corr: "c-1", cause: "x:9" },
  );
  const shifted = new Uint8Array(edges.length + 3).subarray(3);
  shifted.set(edges);
  for (const [what, bytes] of [["edges", edges], ["no value", noValue], ["unaligned", shifted]]) {
    assert.is(reader.read(bytes as Uint8Array), 12, what as string);
    assertReadsAsGeneric(reader, bytes as Uint8Array, what as string);
  }
  // No value column: the value drawn is the expected one.
  reader.read(noValue);
  assert.equal(Array.from(reader.columns[1]!.subarray(0, 12)), Array.from(f.expected));
});

test("read() leaves to the general way what it refuses: a short column, a bad channel, no band", () => {
  const rng = new Prng(SEED), reader = new AnomalyColumnsReader();
  const f = frame(rng, 3);
  const bin = (c: Float64Array) => new Uint8Array(c.buffer, c.byteOffset, c.byteLength).slice();
  const message = (columns: Record<string, Uint8Array>, channel = "cpu-7") =>
    encodeValue({
      v: 1,
      ...META,
      type: "columns",
      body: { channel, seq0: 0, t: bin(f.t), columns },
    });
  const whole = { expected: bin(f.expected), spread: bin(f.spread) };
  assert.is(reader.read(message(whole)), 3, "the whole frame reads");
  const bytes = encodeAnomalyColumns(f, META);
  const cases: Array<[string, Uint8Array]> = [
    ["short column", message({ ...whole, spread: bin(f.spread.subarray(0, 2)) })],
    ["bad channel", message(whole, "a.b")],
    ["no band", message({ expected: bin(f.expected) })],
    ["unknown column", message({ ...whole, other: bin(f.value) })],
    ["trailing byte", Uint8Array.from([...bytes, 0])],
    ["cut short", bytes.subarray(0, bytes.length - 1)],
  ];
  for (const [what, b] of cases) {
    assert.is(reader.read(b), NOT_READ, what);
    assertReadsAsGeneric(reader, b, what);
  }
  assert.match(String(generic(cases[0]![1])), /Column "spread" has 2 values for 3 times/);
});

test("read() never reads a damaged message otherwise than decodeColumns and anomalyBandOf do", () => {
  const rng = new Prng(SEED), reader = new AnomalyColumnsReader();
  let read = 0, refused = 0;
  for (let k = 0; k < 3000; k++) {
    const f = frame(rng, 1 + rng.int(12));
    const meta = rng.chance(0.5) ? { ...META, seq: rng.int(1000) } : META;
    const bytes = Array.from(encodeAnomalyColumns(f, meta));
    // One to three changes: a byte set, removed or added anywhere.
    for (let m = 1 + rng.int(3); m > 0; m--) {
      const at = rng.int(bytes.length), op = rng.int(3), byte = rng.int(256);
      if (op === 0) bytes[at] = byte;
      else if (op === 1) bytes.splice(at, 1);
      else bytes.splice(at, 0, byte);
    }
    const damaged = Uint8Array.from(bytes);
    assertReadsAsGeneric(reader, damaged, `damage ${k} (seed ${SEED})`);
    if (reader.read(damaged) >= 0) read++;
    else refused++;
  }
  // Both sides were seen: a changed value still reads, a broken layout does not.
  assert.ok(read > 300 && refused > 300, `read ${read}, refused ${refused} (seed ${SEED})`);
});

test.run();
