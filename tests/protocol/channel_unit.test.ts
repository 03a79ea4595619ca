import { suite } from "uvu";
import * as assert from "uvu/assert";
import { channelUnit, withUnit } from "../../protocol/mod.ts";
import { metricChannels } from "../../sim/feeds/metrics.ts";

const test = suite("channel unit");

test("channelUnit() gives each of the metrics feed's channels the unit of its metric", () => {
  const units = Object.fromEntries(metricChannels(12).map((c) => [c, channelUnit(c)]));
  assert.equal(units, {
    "api-cpu": "%",
    "api-latency_ms": "ms",
    "api-requests": "req",
    "api-errors": "errors",
    "api-memory": "%",
    "web-cpu": "%",
    "web-latency_ms": "ms",
    "web-requests": "req",
    "web-errors": "errors",
    "web-memory": "%",
    "db-cpu": "%",
    "db-latency_ms": "ms",
  });
});

test("channelUnit() reads a unit written last after `_` in any channel's name", () => {
  assert.is(channelUnit("disk_latency_us"), "µs");
  assert.is(channelUnit("queue_depth_count"), "count");
  assert.is(channelUnit("heap_bytes"), "B");
  assert.is(channelUnit("eu-west-gc_pause_ms"), "ms");
});

test("channelUnit() gives no unit to a market symbol or a name that ends in no known unit", () => {
  for (const c of ["SYM001", "BTC", "nyc_taxi", "ec2_cpu_utilization_5f5533", "X_S", "toString"]) {
    assert.is(channelUnit(c), "", c);
  }
  assert.is(channelUnit("constructor_ms"), "ms");
  assert.is(channelUnit("a-constructor"), "");
});

test("withUnit() writes a percentage against its value and any other unit after a space", () => {
  assert.is(withUnit("37.5", "%"), "37.5%");
  assert.is(withUnit("412", "ms"), "412 ms");
  assert.is(withUnit("1.5", ""), "1.5");
});

test.run();
