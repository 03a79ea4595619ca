import { suite } from "uvu";
import * as assert from "uvu/assert";
import { throwsOn } from "../../_support/throws_on.ts";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../../../protocol/mod.ts";
import { createFeed, FEED_NAMES, parseFeedSpec } from "../../../sim/feeds/mod.ts";
import { feedBytes, sameBytes } from "./_collect.ts";

const test = suite("feeds/mod");
const dir = mkdtempSync(join(tmpdir(), "troupe-feeds-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function configError(fn: () => unknown, field: string, text: string): void {
  throwsOn(ConfigError, fn, field, text);
}

test("parseFeedSpec() reads market, metrics and csv:PATH", () => {
  assert.equal(parseFeedSpec("market"), { kind: "market" });
  assert.equal(parseFeedSpec("metrics"), { kind: "metrics" });
  assert.equal(parseFeedSpec("csv:data/a b.csv"), { kind: "csv", path: "data/a b.csv" });
  assert.equal(parseFeedSpec("csv:C:/x.csv"), { kind: "csv", path: "C:/x.csv" });
  assert.equal([...FEED_NAMES], ["market", "metrics", "csv:PATH"]);
});

test("parseFeedSpec() refuses an unknown feed, naming it and listing the known ones", () => {
  configError(
    () => parseFeedSpec("stocks"),
    "feed",
    'Unknown feed "stocks"; known feeds: market, metrics, csv:PATH',
  );
  configError(() => parseFeedSpec("Market"), "feed", '"Market"');
  configError(() => parseFeedSpec(""), "feed", 'Unknown feed ""');
  configError(() => parseFeedSpec("csv:"), "feed", 'Feed "csv:" needs a file');
  configError(() => parseFeedSpec("csv"), "feed", 'Feed "csv" needs a file');
});

test("createFeed() maps channels to symbols or series and passes the feed's own options", () => {
  const market = createFeed("market", { channels: 3, seed: 5, volume: false, batch: 7 });
  assert.equal(market.channels, ["SYM001", "SYM002", "SYM003"]);
  assert.is(market.batch, 7);
  assert.is(market.next()[0]!.t.length, 7);
  const metrics = createFeed("metrics", { channels: 2 });
  assert.equal(metrics.channels, ["api-cpu", "api-latency_ms"]);
  const a = feedBytes(createFeed("market", { channels: 2, seed: 9 }), 3);
  const b = feedBytes(createFeed({ kind: "market" }, { channels: 2, seed: 9 }), 3);
  assert.ok(sameBytes(a, b));
});

test("createFeed() opens csv:PATH, ignoring the seed and refusing channels", () => {
  const path = join(dir, "load.csv");
  writeFileSync(path, "timestamp,value\n2014-07-01 00:00:00,1\n2014-07-01 00:05:00,2\n");
  const feed = createFeed(`csv:${path}`, { seed: 3, batch: 10 });
  assert.equal(feed.channels, ["load"]);
  assert.equal(Array.from(feed.next()[0]!.v), [1, 2]);
  assert.equal(feed.next(), []);
  configError(() => createFeed(`csv:${path}`, { channels: 4 }), "channels", "from the file");
});

test("createFeed() refuses unknown or bad options, naming them", () => {
  configError(() => createFeed("market", { channels: 0 }), "symbols", "got 0");
  configError(
    () => createFeed("metrics", { rate: 5 }),
    "rate",
    'Unknown option "rate" for feed "metrics"',
  );
  configError(() => createFeed("nope", {}), "feed", '"nope"');
});

test.run();
