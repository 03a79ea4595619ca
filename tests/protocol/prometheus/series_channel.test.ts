import { suite } from "uvu";
import * as assert from "uvu/assert";
import { channelUnit, isValidName } from "../../../protocol/mod.ts";
import { type Label, labelSetHash, seriesChannel } from "../../../protocol/prometheus/mod.ts";

const test = suite("series channel");

const L = (o: Record<string, string>): Label[] =>
  Object.entries(o).map(([name, value]) => ({ name, value }));

test("seriesChannel() is readable, ends with the metric name and keeps its unit", () => {
  const labels = L({
    instance: "127.0.0.1:9100",
    __name__: "node_memory_MemFree_bytes",
    job: "node",
  });
  const name = seriesChannel(labels);
  assert.is(name, "127_0_0_1_9100-node-node_memory_MemFree_bytes");
  assert.is(channelUnit(name), "B");
  assert.is(channelUnit(seriesChannel(L({ __name__: "http_requests_total" }))), "/s");
  assert.is(channelUnit(seriesChannel(L({ __name__: "go_gc_duration_seconds" }))), "s");
});

test("seriesChannel() is the same for the same labels in any order", () => {
  const a = L({ __name__: "up", job: "api", instance: "h1" });
  assert.is(seriesChannel(a), seriesChannel([...a].reverse()));
});

test("a long name is cut and hashed, valid, and two long series stay apart", () => {
  const long = (v: string) =>
    L({ __name__: "node_filesystem_avail_bytes", mountpoint: "/very/".repeat(20) + v });
  const a = seriesChannel(long("a"));
  const b = seriesChannel(long("b"));
  assert.ok(isValidName(a), a);
  assert.ok(isValidName(b), b);
  assert.is.not(a, b);
  assert.ok(a.endsWith("-node_filesystem_avail_bytes"), a);
  const forced = seriesChannel(L({ __name__: "up" }), true);
  assert.match(forced, /^[0-9a-f]{8}-up$/);
});

test("a metric name of 63 characters and more keeps the whole hash: its series stay apart", () => {
  const metric = "apiserver_flowcontrol_priority_level_request_count_watermarks_bucket";
  const names = new Set<string>();
  for (const le of ["0.1", "0.5", "1", "+Inf"]) {
    for (const phase of ["executing", "waiting"]) {
      const labels = L({ __name__: metric, le, phase, job: "apiserver" });
      const name = seriesChannel(labels);
      assert.ok(isValidName(name), name);
      assert.is(name.length, 64);
      // The hash of the whole label set, then the metric name's end (its unit or suffix).
      const hash = labelSetHash(labels).toString(16).padStart(8, "0");
      assert.ok(name.startsWith(`${hash}-`), `${name} starts with ${hash}`);
      assert.ok(name.endsWith("_watermarks_bucket"), name);
      names.add(name);
    }
  }
  assert.is(names.size, 8);
  // With no other labels, the name is the hash and as much of the metric as fits.
  const only = seriesChannel(L({ __name__: "x".repeat(100) }));
  assert.match(only, /^[0-9a-f]{8}-x{55}$/);
});

test.run();
