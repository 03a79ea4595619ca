import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  type DeadLetter,
  deadLetterBodyOf,
  decodeEnvelope,
  encodeDeadLetter,
  encodeEnvelope,
  ProtocolError,
} from "../../../protocol/mod.ts";

const test = suite("dead letter");

const META = { id: "h1:3", src: "h1", ts: 1763900000000000 };

test("encodeDeadLetter() and deadLetterBodyOf() round-trip, the optional fields too", () => {
  const bare: DeadLetter = {
    subject: "troupe.feed.market.BTC",
    reason: "decode",
    error: "not msgpack",
    raw: new Uint8Array([0xc1, 2, 3]),
  };
  assert.equal(deadLetterBodyOf(decodeEnvelope(encodeDeadLetter(META, bare))), bare);
  const full: DeadLetter = { ...bare, reason: "apply", field: "t", actor: "anomaly/BTC" };
  assert.equal(deadLetterBodyOf(decodeEnvelope(encodeDeadLetter(META, full))), full);
});

test("deadLetterBodyOf() refuses raw bytes sent as a string", () => {
  const env = decodeEnvelope(encodeEnvelope({
    ...META,
    type: "dead_letter",
    body: { subject: "s", reason: "decode", error: "e", raw: "abc" },
  }));
  assert.throws(
    () => deadLetterBodyOf(env),
    (e: unknown) =>
      e instanceof ProtocolError && e.field === "raw" && /must be bin, got "abc"/.test(e.message),
  );
});

test.run();
