import { suite } from "uvu";
import * as assert from "uvu/assert";
import { Encoder } from "@msgpack/msgpack";
import { freezeEncoded, writeValue } from "../../protocol/_value_writer.ts";
import { encodeEnvelope, encodeEventEnvelope, encodeValue } from "../../protocol/mod.ts";
import { Prng } from "../../sim/prng/mod.ts";

const test = suite("value_writer");
const reference = new Encoder({ ignoreUndefined: true });

/**
 * Fails at the first byte where two encodings differ. (uvu's deep equality over Array.from copies
 * took minutes here: some seeded values are megabytes.)
 */
function sameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  const n = Math.min(actual.length, expected.length);
  let i = 0;
  while (i < n && actual[i] === expected[i]) i++;
  if (i === n && actual.length === expected.length) return;
  assert.unreachable(
    `${what}: the bytes differ at offset ${i} of ${expected.length} ` +
      `(${actual[i]} against ${expected[i]}; ${actual.length} bytes written)`,
  );
}

function randomValue(rng: Prng, depth: number): unknown {
  switch (rng.int(depth > 1 ? 9 : 12)) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2: {
      const widths = [30, 100, 200, 1e3, 7e4, 1e5, 1e9, 5e9, 2 ** 40, 2 ** 53];
      const x = rng.int(widths[rng.int(widths.length)]!);
      return rng.chance(0.4) ? -x : x;
    }
    case 3:
      return [rng.normal() * 1e6, NaN, Infinity, -Infinity, -0, 2 ** 60, 0.5][rng.int(7)];
    case 4:
      return "x".repeat([0, 5, 31, 32, 255, 256, 70_000][rng.int(7)]!);
    case 5:
      // Short, and long enough to be encoded natively (32 characters and more), its bytes
      // outnumbering its characters across a header's width.
      return "é€😀".repeat([rng.int(40), 256, 300, 20_000][rng.int(4)]!);
    case 6: {
      const b = new Uint8Array([0, 10, 255, 256, 70_000][rng.int(5)]!);
      for (let i = 0; i < b.length; i++) b[i] = rng.int(256);
      return b;
    }
    case 7:
      return new Float64Array(rng.int(40)).map(() => rng.normal());
    case 8:
      return undefined;
    case 9:
      return Array.from(
        { length: [0, 3, 15, 16, 40][rng.int(5)]! },
        () => randomValue(rng, depth + 1),
      );
    default: {
      const m: Record<string, unknown> = {};
      const n = [0, 3, 15, 16, 20][rng.int(5)]!;
      for (let i = 0; i < n; i++) {
        m[`f${rng.int(50)}${"é".repeat(rng.int(2))}`] = randomValue(rng, depth + 1);
      }
      return m;
    }
  }
}

test("writeValue() writes exactly the bytes @msgpack/msgpack writes (seeded values)", () => {
  const seed = 20261121;
  const rng = new Prng(seed);
  for (let i = 0; i < 2000; i++) {
    const value = randomValue(rng, 0);
    const mine = writeValue(value);
    assert.ok(mine, `seed ${seed}, value ${i} was given back`);
    sameBytes(mine, reference.encode(value), `seed ${seed}, value ${i}`);
  }
});

test("writeValue() gives back what only the general encoder knows", () => {
  assert.is(writeValue(new Date(0)), undefined);
  assert.is(writeValue({ a: [1, new Map()] }), undefined);
  assert.is(writeValue(10n), undefined);
  // The general encoder then handles (or rejects) it as before.
  assert.instance(encodeValue(new Date(0)), Uint8Array);
});

test("writeValue() returns a fresh array each time: later writes do not change earlier bytes", () => {
  const a = writeValue({ id: "a", x: 1 })!;
  const copy = Array.from(a);
  writeValue({ id: "b", x: 2, long: "y".repeat(10_000) });
  assert.equal(Array.from(a), copy);
});

test("encodeEnvelope() leaves out fields that are undefined, like the general encoder", () => {
  const bytes = encodeEnvelope({
    id: "i",
    type: "t",
    src: "s",
    ts: 5,
    body: { a: 1, b: undefined },
  });
  const expected = reference.encode({ v: 1, id: "i", type: "t", src: "s", ts: 5, body: { a: 1 } });
  assert.equal(Array.from(bytes), Array.from(expected));
});

test("encodeEnvelope() writes the same bytes as the general encoder, every optional field", () => {
  const rng = new Prng(11);
  for (let i = 0; i < 300; i++) {
    const init = {
      id: `id-${i}`,
      type: rng.chance(0.5) ? "stats" : "ünïcode",
      src: "stats/a",
      ts: rng.int(2 ** 52),
      seq: rng.chance(0.5) ? rng.int(1000) : undefined,
      corr: rng.chance(0.5) ? `c${i}` : undefined,
      cause: rng.chance(0.5) ? `in-${i}` : undefined,
      body: randomValue(rng, 0),
    };
    const { seq, corr, cause, ...rest } = init;
    const map: Record<string, unknown> = { v: 1, ...rest };
    if (seq !== undefined) map.seq = seq;
    if (corr !== undefined) map.corr = corr;
    if (cause !== undefined) map.cause = cause;
    const bytes = encodeEnvelope(init as Parameters<typeof encodeEnvelope>[0]);
    sameBytes(bytes, reference.encode(map), `value ${i}`);
  }
});

test("encodeEventEnvelope() equals encodeEnvelope() with the event less type and ts as body", () => {
  const rng = new Prng(12);
  for (let i = 0; i < 300; i++) {
    const event: Record<string, unknown> = { type: "collapse", ts: 5 };
    const n = rng.int(14);
    for (let k = 0; k < n; k++) event[`f${rng.int(20)}`] = randomValue(rng, 1);
    if (rng.chance(0.3)) event.gone = undefined;
    const { type: _t, ts: _ts, ...body } = event;
    const meta = { id: `e${i}`, type: "collapse", src: "collapse/a", ts: 5, cause: "in" };
    sameBytes(encodeEventEnvelope(meta, event), encodeEnvelope({ ...meta, body }), `event ${i}`);
  }
  // A body only the general encoder handles takes the general path, with the same result.
  const dated = { type: "x", ts: 1, when: new Date(0) };
  const { type: _t, ts: _ts, ...body } = dated;
  const meta = { id: "d", type: "x", src: "s", ts: 1 };
  assert.equal(
    Array.from(encodeEventEnvelope(meta, dated)),
    Array.from(reference.encode({ v: 1, ...meta, body })),
  );
});

test("a value frozen with its encoding is written as the same bytes, wherever it is met", () => {
  const make = () => ({ threshold: 0.5, bar_sizes: ["1s", "1m"], nested: { on: true, n: 7 } });
  const kept = freezeEncoded(make());
  const plain = make();
  const encoder = new Encoder({ ignoreUndefined: true });
  for (const wrap of [(c: unknown) => c, (c: unknown) => ({ a: 1, config: c, b: [c, "x"] })]) {
    const expected = encoder.encode(wrap(plain));
    assert.equal(writeValue(wrap(kept)), new Uint8Array(expected));
  }
  assert.ok(
    Object.isFrozen(kept) && Object.isFrozen(kept.bar_sizes) && Object.isFrozen(kept.nested),
  );
  assert.throws(() => {
    (kept.nested as { n: number }).n = 8;
  }, "what is kept cannot change under its bytes");
  assert.equal(writeValue(kept), new Uint8Array(encoder.encode(plain)));
  // Copied, not written again: a field read only while its encoding was made.
  let reads = 0;
  const counted = freezeEncoded({
    get n() {
      return ++reads;
    },
  });
  const base = reads; // as read while it was frozen and encoded
  assert.equal(writeValue({ c: counted }), new Uint8Array(encoder.encode({ c: { n: base } })));
  assert.is(reads, base, "the kept bytes, not the field");
});

test.run();
