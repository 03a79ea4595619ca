import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  COLLAPSE_FORMAT1_NAMES,
  type CollapseBody,
  collapseOf,
  currentEventBytes,
  decodeEnvelope,
  encodeCollapse,
  encodeEnvelope,
  ProtocolError,
} from "../../../protocol/mod.ts";

const test = suite("collapse event");

const META = {
  id: "f9:collapse:cpu-7:0",
  src: "collapse/cpu-7",
  ts: 1763900000500000,
  cause: "f9",
};
const BODY: CollapseBody = {
  channel: "cpu-7",
  change_ts: 1763900000400000,
  change_index: 1200,
  delay_samples: 7,
  mean_before: 41.5,
  mean_after: 73.25,
  level_before: 42,
  level_after: 74,
  spread_before: 2.5,
  spread_after: 3.125,
  direction: "up",
  severity: 12.9,
};

/** The same body as a host wrote it before issue 34 (format 1, camelCase). */
function format1(b: CollapseBody): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(b)) {
    out[COLLAPSE_FORMAT1_NAMES[k as keyof CollapseBody] ?? k] = v;
  }
  return out;
}

test("encodeCollapse() and collapseOf() round-trip every field, snake_case on the wire", () => {
  const env = decodeEnvelope(encodeCollapse(META, BODY));
  assert.equal(Object.keys(env.body as object), Object.keys(BODY));
  assert.equal(collapseOf(env), BODY);
});

test("collapseOf() reads a format-1 body (camelCase, before issue 34)", () => {
  const old = format1(BODY);
  assert.ok("changeTs" in old && "spreadAfter" in old);
  const env = decodeEnvelope(encodeEnvelope({ ...META, type: "collapse", body: old }));
  assert.equal(collapseOf(env), BODY);
});

test("currentEventBytes() turns a format-1 event into the bytes encodeCollapse gives", () => {
  const oldBytes = encodeEnvelope({ ...META, type: "collapse", body: format1(BODY) });
  assert.equal(currentEventBytes(oldBytes), encodeCollapse(META, BODY));
  assert.is(currentEventBytes(encodeCollapse(META, BODY)), undefined);
});

test("collapseOf() names the field and value of a bad body, in the format's own names", () => {
  const bad = decodeEnvelope(encodeCollapse(META, { ...BODY, change_index: -1 }));
  const err = errorOf(() => collapseOf(bad));
  assert.is(err.field, "change_index");
  assert.is(
    err.message,
    'Cannot decode collapse event: field "change_index" must be a non-negative integer, got -1',
  );
  const old = decodeEnvelope(encodeEnvelope({
    ...META,
    type: "collapse",
    body: { ...format1(BODY), meanAfter: null },
  }));
  assert.is(errorOf(() => collapseOf(old)).field, "meanAfter");
  const sideways = decodeEnvelope(encodeEnvelope({
    ...META,
    type: "collapse",
    body: { ...BODY, direction: "sideways" },
  }));
  assert.match(errorOf(() => collapseOf(sideways)).message, /"direction" must be one of up, down/);
});

function errorOf(f: () => unknown): ProtocolError {
  try {
    f();
  } catch (err) {
    if (err instanceof ProtocolError) return err;
    throw err;
  }
  throw new Error("expected a ProtocolError");
}

test.run();
