import { suite } from "uvu";
import * as assert from "uvu/assert";
import { unitFor } from "../../collab/mod.ts";

const test = suite("session units");

test("unitFor() takes a channel's own entry, else its narrowest matching pattern, else none", () => {
  const units = new Map([
    ["*", "count"],
    ["api-*", "ms"],
    ["*-latency", "s"],
    ["api-latency", "µs"],
    ["SYM*", "USD"],
  ]);
  assert.is(unitFor(units, "api-latency"), "µs", "its name wins");
  assert.is(unitFor(units, "api-errors"), "ms", "api-* (4) over * (0)");
  assert.is(unitFor(units, "web-latency"), "s", "*-latency (8) over *");
  assert.is(unitFor(units, "SYM001"), "USD");
  assert.is(unitFor(units, "BTC"), "count");
  assert.is(unitFor(new Map([["SYM*", "USD"]]), "BTC"), undefined);
});

test("unitFor() breaks a tie between patterns by key, whatever order the map holds them in", () => {
  const a = new Map([["ab*", "x"], ["*bc", "y"]]);
  const b = new Map([["*bc", "y"], ["ab*", "x"]]);
  assert.is(unitFor(a, "abc"), "y");
  assert.is(unitFor(b, "abc"), "y");
});

test.run();
