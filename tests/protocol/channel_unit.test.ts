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

test("channelUnit() reads a Prometheus metric's base unit, and a counter's as a rate of it", () => {
  const units = Object.fromEntries(
    [
      "node-127_0_0_1_9100-node_memory_MemAvailable_bytes",
      "node-127_0_0_1_9100-node_network_receive_bytes_total",
      "0-node-127_0_0_1_9100-node_cpu_seconds_total",
      "node-127_0_0_1_9100-node_filesystem_avail_ratio",
      "api-http_requests_total",
      "node-127_0_0_1_9100-node_load1",
      "node-127_0_0_1_9100-node_network_info",
      "node-127_0_0_1_9100-node_hwmon_temp_celsius",
      "node_power_supply_power_watts",
    ].map((c) => [c.slice(c.lastIndexOf("-") + 1), channelUnit(c)]),
  );
  assert.equal(units, {
    node_memory_MemAvailable_bytes: "B",
    node_network_receive_bytes_total: "B/s",
    node_cpu_seconds_total: "s/s",
    node_filesystem_avail_ratio: "ratio",
    http_requests_total: "/s",
    node_load1: "",
    node_network_info: "",
    node_hwmon_temp_celsius: "°C",
    node_power_supply_power_watts: "W",
  });
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
