import { suite } from "uvu";
import * as assert from "uvu/assert";
import { parseScanRequest, ScanRequestError } from "../../../actors/scan/mod.ts";

const test = suite("parseScanRequest");

function error(body: unknown, limit?: number): ScanRequestError {
  try {
    parseScanRequest(body, limit === undefined ? undefined : { universe_max: limit });
  } catch (e) {
    assert.instance(e, ScanRequestError);
    return e as ScanRequestError;
  }
  throw new Error(`${JSON.stringify(body)} was accepted`);
}

test("a request with only criteria gets the defaults", () => {
  assert.equal(parseScanRequest({ criteria: "rsi(14) < 30" }), {
    criteria: "rsi(14) < 30",
    rank: null,
    order: "desc",
    bar: "1m",
    universe: null,
    max_signals: null,
    timeout_ms: null,
    priority: "bollinger(20, 2).bandwidth",
  });
  const full = parseScanRequest({
    criteria: "close > sma(20)",
    rank: "rsi(14)",
    order: "asc",
    bar: "5m",
    universe: ["AAPL", "MSFT", "AAPL"],
    max_signals: 10,
    timeout_ms: 500,
  });
  assert.equal(full.universe, ["AAPL", "MSFT"]);
  assert.is(parseScanRequest({ criteria: "close > 1", universe: "SYM*" }).universe, "SYM*");
});

test("a criteria or rank that does not compile is a 400 naming the field and the column", () => {
  const e = error({ criteria: "rsi(14 < 30" });
  assert.is(e.status, 400);
  assert.is(e.field, "criteria");
  assert.is(e.message, `Field "criteria": col 7: expected ')', got '<'`);
  assert.match(error({ criteria: "rsx(3) > 1" }).message, /col 1: unknown indicator 'rsx'/);
  const r = error({ criteria: "close > 1", rank: "close >" });
  assert.is(r.field, "rank");
  assert.match(r.message, /^Field "rank": col 8: expected/);
  assert.is(error({ criteria: "close > 1", priority: "foo" }).field, "priority");
});

test("a universe over the limit is a 413; other bad fields are 400 with the field and value", () => {
  const big = Array.from({ length: 11 }, (_, i) => `S${i}`);
  const e = error({ criteria: "close > 1", universe: big }, 10);
  assert.is(e.status, 413);
  assert.is(e.message, `Field "universe" lists 11 symbols; the limit is 10`);
  assert.is(error({}).message, `Field "criteria" is required`);
  assert.is(error({ criteria: 3 }).message, `Field "criteria" must be a string, got 3`);
  assert.is(
    error({ criteria: "close > 1", bar: "1w" }).message,
    `Field "bar" must be a bar size such as "1m", got "1w"`,
  );
  assert.is(error({ criteria: "close > 1", order: "up" }).field, "order");
  assert.is(
    error({ criteria: "close > 1", max_signals: 0 }).message,
    `Field "max_signals" must be a whole number from 1 to 1000000, got 0`,
  );
  assert.match(
    error({ criteria: "close > 1", universe: ["A.B"] }).message,
    /item 0 is not a symbol name/,
  );
  assert.match(
    error({ criteria: "close > 1", limit: 3 }).message,
    /^Unknown field "limit"; known fields: criteria, rank/,
  );
  assert.is(error([1]).status, 400);
});

test.run();
