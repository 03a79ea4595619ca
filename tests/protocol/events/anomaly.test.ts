import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  ANOMALY_VIEWS,
  type AnomalyBody,
  anomalyOf,
  anomalyViewlessBytes,
  currentEventBytes,
  decodeEnvelope,
  encodeAnomaly,
  encodeEnvelope,
  encodeEventEnvelope,
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

test("the view round-trips, last on the wire, every one of them", () => {
  for (const view of ANOMALY_VIEWS) {
    const bytes = encodeAnomaly(META, { ...BODY, view });
    const env = decodeEnvelope(bytes);
    assert.equal(anomalyOf(env), { ...BODY, view });
    assert.equal(Object.keys(env.body as object).slice(-2), ["upper", "view"]);
  }
});

test("an event from before the view decodes without one, and is written again to its own bytes", () => {
  // As a host published it then: the same fields in the same order, no view.
  const old = encodeEventEnvelope({ ...META, type: "anomaly" }, {
    type: "anomaly",
    ts: META.ts,
    ...BODY,
  });
  const body = anomalyOf(decodeEnvelope(old));
  assert.equal(body, BODY);
  assert.ok(!("view" in body), "no view key at all, not an undefined one");
  assert.equal(encodeAnomaly(META, body), old);
  // Today's event without its view is that event; neither is in an older renamed format.
  assert.equal(anomalyViewlessBytes(encodeAnomaly(META, { ...BODY, view: "jump" })), old);
  assert.is(anomalyViewlessBytes(old), undefined);
  assert.is(currentEventBytes(old), undefined);
});

test("anomalyOf() names the field and the value of a bad view", () => {
  for (const view of ["time of day", 2, null, "TIME_OF_DAY"]) {
    const bad = decodeEnvelope(
      encodeEnvelope({ ...META, type: "anomaly", body: { ...BODY, view } }),
    );
    const err = errorOf(() => anomalyOf(bad));
    assert.is(err.field, "view");
    assert.is(err.value, view);
    assert.match(err.message, 'Cannot decode anomaly event: field "view" must be one of level, ');
  }
});

test("a restatement is marked `restated`, last on the wire; false reads as no mark, a non-boolean is refused", () => {
  const bytes = encodeAnomaly(META, { ...BODY, view: "level", restated: true });
  const env = decodeEnvelope(bytes);
  assert.equal(anomalyOf(env), { ...BODY, view: "level", restated: true });
  assert.equal(Object.keys(env.body as object).slice(-2), ["view", "restated"]);
  // An opening carries no mark at all: its bytes are those of an event from before restatements.
  assert.ok(!("restated" in anomalyOf(decodeEnvelope(encodeAnomaly(META, BODY)))));
  const unmarked = decodeEnvelope(
    encodeEnvelope({ ...META, type: "anomaly", body: { ...BODY, restated: false } }),
  );
  assert.ok(!("restated" in anomalyOf(unmarked)));
  const bad = decodeEnvelope(
    encodeEnvelope({ ...META, type: "anomaly", body: { ...BODY, restated: "yes" } }),
  );
  const err = errorOf(() => anomalyOf(bad));
  assert.is(err.field, "restated");
  assert.is(
    err.message,
    'Cannot decode anomaly event: field "restated" must be a boolean, got "yes"',
  );
});

test.run();
