import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  type ColumnsFrame,
  encodeColumns,
  encodeFramePlaced,
  encodeOutputColumns,
  outputId,
  ProtocolError,
} from "../../protocol/mod.ts";
import { Prng } from "../../sim/prng/mod.ts";

const test = suite("output columns from the input's bytes");

const SEED = 71;
const utf8 = new TextDecoder();

/** A channel of `n` name characters (1 to 64 of A-Z a-z 0-9 _ -). */
function channelOf(rng: Prng, n: number): string {
  const chars = "ABCxyz0189_-";
  let s = "";
  for (let i = 0; i < n; i++) s += chars[Math.floor(rng.next() * chars.length)];
  return s;
}

/** An input message as the feed edge writes it, and an output frame answering it. */
function inputAndOutput(rng: Prng, o: { channel: string; batchId: string; n: number }) {
  const t = new Float64Array(o.n), v = new Float64Array(o.n);
  for (let i = 0; i < o.n; i++) {
    t[i] = 1_700_000_000_000_000 + i * 15_000_000;
    v[i] = rng.next() * 100;
  }
  const id = `${o.batchId}/${o.channel}`;
  const written = encodeFramePlaced({ channel: o.channel, seq0: 0, t, v }, {
    id,
    src: "remote-write",
    ts: t[o.n - 1]!,
  });
  const columns: Record<string, Float64Array> = {};
  for (const name of ["score", "expected", "spread", "value"]) {
    columns[name] = Float64Array.from(v, (x) => x * rng.next());
  }
  const out: ColumnsFrame = { channel: o.channel, seq0: Math.floor(rng.next() * 1e6), t, columns };
  return { id, written, out };
}

test("the same bytes as encodeColumns, across the str headers' widths of id and source", () => {
  const rng = new Prng(SEED);
  let cases = 0;
  // Ids of 1 to 300 bytes around the fixstr/str8 (32) and str8/str16 (256) edges, some not ASCII.
  for (const batchLength of [1, 20, 24, 25, 26, 190, 200, 230, 240, 250, 280]) {
    for (const channelLength of [1, 5, 22, 23, 24, 25, 26, 31, 32, 64]) {
      for (const n of [1, 2, 7]) {
        for (const kind of ["anomaly", "collapse", "k"]) {
          const ascii = rng.next() < 0.5;
          const batchId = (ascii ? "b" : "é").repeat(batchLength);
          const channel = channelOf(rng, channelLength);
          const { id, written, out } = inputAndOutput(rng, { channel, batchId, n });
          assert.is(
            utf8.decode(written.bytes.subarray(written.idAt, written.idAt + written.idBytes)),
            id,
          );
          assert.is(
            utf8.decode(
              written.bytes.subarray(written.channelAt, written.channelAt + written.channelBytes),
            ),
            channel,
          );
          const expected = encodeColumns(out, {
            id: outputId(id, kind, channel, "c"),
            src: `${kind}/${channel}`,
            cause: id,
          });
          const got = encodeOutputColumns(kind, out, written.bytes, written);
          assert.equal(Array.from(got), Array.from(expected), `${kind} ${channel} ${batchId}`);
          cases++;
        }
      }
    }
  }
  assert.is(cases, 11 * 10 * 3 * 3);
});

test("a frame out of shape is refused as encodeColumns refuses it", () => {
  const rng = new Prng(SEED + 1);
  const { written, out } = inputAndOutput(rng, { channel: "cpu", batchId: "b1", n: 3 });
  out.columns.score = new Float64Array(2);
  assert.throws(
    () => encodeOutputColumns("anomaly", out, written.bytes, written),
    (err: unknown) => err instanceof ProtocolError && /has 2 values for 3 times/.test(String(err)),
  );
});

test.run();
