import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  decodeEnvelope,
  encodeEnvelope,
  encodeStats,
  ProtocolError,
  type StatsBody,
  statsOf,
} from "../../../protocol/mod.ts";

const test = suite("stats event");

const META = { id: "f4:stats:cpu-1:0", src: "stats/cpu-1", ts: 1763900000250000, cause: "f4" };
const BODY: StatsBody = {
  channel: "cpu-1",
  count: 500,
  mean: 41.5,
  variance: 2.25,
  min: 37,
  max: 48.5,
  rate_per_s: 100,
};

test("encodeStats() and statsOf() round-trip every field", () => {
  assert.equal(statsOf(decodeEnvelope(encodeStats(META, BODY))), BODY);
});

test("statsOf() refuses a negative count, naming it", () => {
  const env = decodeEnvelope(
    encodeEnvelope({ ...META, type: "stats", body: { ...BODY, count: -3 } }),
  );
  assert.throws(
    () => statsOf(env),
    (e: unknown) => e instanceof ProtocolError && e.field === "count" && /got -3$/.test(e.message),
  );
});

test.run();
