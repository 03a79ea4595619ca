import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  type BarBody,
  barOf,
  decodeEnvelope,
  encodeBar,
  encodeEnvelope,
  ProtocolError,
} from "../../../protocol/mod.ts";

const test = suite("bar event");

const META = { id: "f2:bars:BTC:0", src: "bars/BTC", ts: 1763900060000000, cause: "f2" };
const BODY: BarBody = {
  channel: "BTC",
  bar: "1m",
  t: 1763900000000000,
  open: 100,
  high: 103.5,
  low: 99.25,
  close: 101,
  count: 60,
  sum: 6050.5,
};

test("encodeBar() and barOf() round-trip every field", () => {
  assert.equal(barOf(decodeEnvelope(encodeBar(META, BODY))), BODY);
});

test("barOf() refuses a bar whose start is not an integer time", () => {
  const env = decodeEnvelope(encodeEnvelope({ ...META, type: "bar", body: { ...BODY, t: 1.5 } }));
  assert.throws(
    () => barOf(env),
    (e: unknown) =>
      e instanceof ProtocolError && e.field === "t" &&
      e.message === 'Cannot decode bar event: field "t" must be an integer, got 1.5',
  );
});

test.run();
