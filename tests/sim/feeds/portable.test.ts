/**
 * A feed's bytes for a seed are the same on every runtime, not only from run to run: the feeds
 * and the Prng use actors/math/portable_math.ts instead of Math.log/exp/cos, whose last bits differ
 * between JavaScript engines. The checksums below were computed once (the metrics feed's again when
 * its weekend dip took the one weekendness of actors/math/weekendness.ts); a runtime that gives
 * another one would generate another feed from the same seed.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { createMarketFeed } from "../../../sim/feeds/market.ts";
import { createMetricsFeed } from "../../../sim/feeds/metrics.ts";
import { Prng } from "../../../sim/prng/mod.ts";
import { feedBytes } from "./_collect.ts";

const test = suite("portable feeds");

function checksum(bytes: Uint8Array): number {
  let h = 0;
  for (let i = 0; i < bytes.length; i++) h = (Math.imul(h, 31) + bytes[i]!) | 0;
  return h;
}

test("the market feed of a seed has the same bytes on every runtime (ticks and bars)", () => {
  const ticks = feedBytes(createMarketFeed({ seed: 7, symbols: 5, batch: 200 }), 5);
  const bars = feedBytes(createMarketFeed({ seed: 7, symbols: 3, mode: "bars", batch: 50 }), 3);
  assert.equal([checksum(ticks), checksum(bars)], [-1507716594, -1298120746]);
});

test("the metrics feed of a seed has the same bytes on every runtime", () => {
  assert.is(checksum(feedBytes(createMetricsFeed({ seed: 7, batch: 200 }), 5)), 1279908385);
});

test("the Prng's normal, exponential and Poisson draws have the same bits on every runtime", () => {
  const rng = new Prng(42);
  const f = new Float64Array(1);
  const w = new Uint32Array(f.buffer);
  let h = 0;
  for (let i = 0; i < 10_000; i++) {
    for (const x of [rng.normal(), rng.exponential(2), rng.poisson(3), rng.studentT(3)]) {
      f[0] = x;
      h = (Math.imul(h, 31) + (w[0]! ^ w[1]!)) | 0;
    }
  }
  assert.is(h, -878213524);
});

test.run();
