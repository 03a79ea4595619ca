import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  type AnomalyBody,
  anomalyOf,
  decodeEnvelope,
  encodeAnomaly,
  encodeEnvelope,
  ProtocolError,
} from "../../../protocol/mod.ts";

const test = suite("anomaly event");

function errorOf(f: () => unknown): ProtocolError {
  try {
    f();
  } catch (err) {
    if (err instanceof ProtocolError) return err;
    throw err;
  }
  throw new Error("expected a ProtocolError");
}

const META = { id: "f1:anomaly:BTC:0", src: "anomaly/BTC", ts: 1763900000123456, cause: "f1" };
const BODY: AnomalyBody = {
  channel: "BTC",
  score: 0.97,
  value: 101.5,
  expected: 100,
  lower: 99.2,
  upper: 100.8,
};

test("encodeAnomaly() and anomalyOf() round-trip every field", () => {
  const env = decodeEnvelope(encodeAnomaly(META, BODY));
  assert.is(env.type, "anomaly");
  assert.is(env.ts, META.ts);
  assert.equal(anomalyOf(env), BODY);
});

test("anomalyOf() names the field and the value of a bad body", () => {
  const bad = decodeEnvelope(encodeEnvelope({
    ...META,
    type: "anomaly",
    body: { ...BODY, score: "high" },
  }));
  const err = errorOf(() => anomalyOf(bad));
  assert.is(err.field, "score");
  assert.is(err.value, "high");
  assert.is(err.message, 'Cannot decode anomaly event: field "score" must be a number, got "high"');
});

test("anomalyOf() refuses a missing channel and another type", () => {
  const noChannel = { ...BODY } as Partial<AnomalyBody>;
  delete noChannel.channel;
  const env = decodeEnvelope(encodeEnvelope({ ...META, type: "anomaly", body: noChannel }));
  assert.throws(() => anomalyOf(env), /field "channel" must be a name .*got undefined/);
  const other = decodeEnvelope(encodeEnvelope({ ...META, type: "collapse", body: BODY }));
  assert.throws(() => anomalyOf(other), /field "type" must be "anomaly", got "collapse"/);
});

test.run();
