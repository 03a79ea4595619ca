import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  anomalyBandOf,
  AnomalyColumnsReader,
  anomalyEdgesBytes,
  decodeAnomalyColumns,
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

/** `message` with one to three changes: a byte set, removed or added anywhere. */
function damage(rng: Prng, message: Uint8Array): Uint8Array {
  const bytes = Array.from(message);
  for (let m = 1 + rng.int(3); m > 0; m--) {
    const at = rng.int(bytes.length), op = rng.int(3), byte = rng.int(256);
    if (op === 0) bytes[at] = byte;
    else if (op === 1) bytes.splice(at, 1);
    else bytes.splice(at, 0, byte);
  }
  return Uint8Array.from(bytes);
}

test("read() never reads a damaged message otherwise than decodeColumns and anomalyBandOf do", () => {
  const rng = new Prng(SEED), reader = new AnomalyColumnsReader();
  let read = 0, refused = 0;
  for (let k = 0; k < 3000; k++) {
    const f = frame(rng, 1 + rng.int(12));
    const meta = rng.chance(0.5) ? { ...META, seq: rng.int(1000) } : META;
    const damaged = damage(rng, encodeAnomalyColumns(f, meta));
    assertReadsAsGeneric(reader, damaged, `damage ${k} (seed ${SEED})`);
    if (reader.read(damaged) >= 0) read++;
    else refused++;
  }
  // Both sides were seen: a changed value still reads, a broken layout does not.
  assert.ok(read > 300 && refused > 300, `read ${read}, refused ${refused} (seed ${SEED})`);
});

/** The highest and last score `decodeAnomalyColumns` gives of `bytes`, or why it gives none. */
function scoresOf(bytes: Uint8Array): [number, number, number] | string {
  try {
    const { score } = decodeAnomalyColumns(bytes);
    let max = -Infinity;
    for (const s of score) if (s > max) max = s;
    return [score.length, max, score[score.length - 1] ?? NaN];
  } catch (e) {
    return (e as Error).message;
  }
}

/** Asserts readScores read `bytes` as decodeAnomalyColumns does, or left it to it. */
function assertScoresAsDecoded(reader: AnomalyColumnsReader, bytes: Uint8Array, what: string) {
  const want = scoresOf(bytes), out = new Float64Array([7, 7]);
  const n = reader.readScores(bytes, out);
  if (typeof want === "string") {
    assert.is(n, NOT_READ, `${what}: read what decodeAnomalyColumns refuses (${want})`);
    return;
  }
  if (n === NOT_READ) return;
  assert.is(n, want[0], what);
  if (n === 0) assert.equal(Array.from(out), [7, 7], `${what}: no sample, out untouched`);
  else assert.ok(Object.is(out[0], want[1]) && Object.is(out[1], want[2]), `${what}: ${out}`);
}

test("readScores() gives the highest and last score as decodeAnomalyColumns does, and leaves it the rest", () => {
  const rng = new Prng(SEED), reader = new AnomalyColumnsReader();
  for (const n of [0, 1, 10, 33, 2000]) {
    const f = frame(rng, n);
    if (n === 10) f.score.fill(NaN, 0, 4);
    if (n === 33) f.score[32] = NaN;
    const bytes = encodeAnomalyColumns(f, META);
    assert.is(reader.readScores(bytes, new Float64Array(2)), n, `n ${n}`);
    assertScoresAsDecoded(reader, bytes, `n ${n} (seed ${SEED})`);
  }
  // Every score NaN: the highest is -Infinity, the last NaN.
  const f = frame(rng, 3);
  f.score.fill(NaN);
  const out = new Float64Array(2);
  assert.is(reader.readScores(encodeAnomalyColumns(f, META), out), 3);
  assert.ok(out[0] === -Infinity && Number.isNaN(out[1]));
  // A frame without a column decodeAnomalyColumns requires, or with the band as its edges: left.
  const { score, expected, spread } = f;
  const noValue = encodeColumns(
    { channel: f.channel, seq0: f.seq0, t: f.t, columns: { score, expected, spread } },
    META,
  );
  const edges = anomalyEdgesBytes(encodeAnomalyColumns(frame(rng, 4), META))!;
  for (const [what, bytes] of [["no value", noValue], ["edges", edges]] as const) {
    assert.is(reader.readScores(bytes, out), NOT_READ, what);
    assertScoresAsDecoded(reader, bytes, what);
  }
  // The dashboard's columns are not touched by a read of scores.
  const g = frame(rng, 5);
  reader.read(encodeAnomalyColumns(g, META));
  reader.readScores(encodeAnomalyColumns(frame(rng, 9), META), out);
  assert.equal(Array.from(reader.columns[0]!.subarray(0, 5)), Array.from(g.t));
});

test("readScores() never reads a damaged message otherwise than decodeAnomalyColumns does", () => {
  const rng = new Prng(SEED + 1), reader = new AnomalyColumnsReader();
  let read = 0, refused = 0;
  for (let k = 0; k < 3000; k++) {
    const damaged = damage(rng, encodeAnomalyColumns(frame(rng, 1 + rng.int(12)), META));
    assertScoresAsDecoded(reader, damaged, `damage ${k} (seed ${SEED + 1})`);
    if (reader.readScores(damaged, new Float64Array(2)) >= 0) read++;
    else refused++;
  }
  assert.ok(read > 300 && refused > 300, `read ${read}, refused ${refused} (seed ${SEED + 1})`);
});

test.run();
