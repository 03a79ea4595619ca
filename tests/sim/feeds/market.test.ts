import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ConfigError, isValidName } from "../../../protocol/mod.ts";
import { createMarketFeed, marketSymbols } from "../../../sim/feeds/market.ts";
import { collect, feedBytes, mean, sameBytes, type Series } from "./_collect.ts";

const test = suite("market");

function logReturns(s: Series): Float64Array {
  const r = new Float64Array(s.v.length - 1);
  for (let k = 1; k < s.v.length; k++) r[k - 1] = Math.log(s.v[k]! / s.v[k - 1]!);
  return r;
}

/** Average pairwise correlation of the columns of `returns` over the ticks where `use` is set. */
function averageCorrelation(returns: Float64Array[], use: Uint8Array): number {
  const n = returns.length;
  const m = new Float64Array(n);
  let count = 0;
  for (let k = 0; k < use.length; k++) {
    if (!use[k]) continue;
    count++;
    for (let i = 0; i < n; i++) m[i] = m[i]! + returns[i]![k]!;
  }
  for (let i = 0; i < n; i++) m[i] = m[i]! / count;
  const cov = (i: number, j: number) => {
    let s = 0;
    for (let k = 0; k < use.length; k++) {
      if (use[k]) s += (returns[i]![k]! - m[i]!) * (returns[j]![k]! - m[j]!);
    }
    return s;
  };
  const sd = Array.from({ length: n }, (_, i) => Math.sqrt(cov(i, i)));
  let sum = 0;
  let pairs = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      sum += cov(i, j) / (sd[i]! * sd[j]!);
      pairs++;
    }
  }
  return sum / pairs;
}

test("createMarketFeed() gives the same bytes for the same seed and others for another seed", () => {
  const a = feedBytes(createMarketFeed({ seed: 7, symbols: 5, batch: 200 }), 5);
  const b = feedBytes(createMarketFeed({ seed: 7, symbols: 5, batch: 200 }), 5);
  const c = feedBytes(createMarketFeed({ seed: 8, symbols: 5, batch: 200 }), 5);
  assert.ok(a.byteLength > 5 * 10 * 200 * 16, `${a.byteLength} bytes`);
  assert.ok(sameBytes(a, b), "same seed, different bytes");
  assert.not.ok(sameBytes(a, c), "another seed, same bytes");
  const bars1 = feedBytes(createMarketFeed({ seed: 7, symbols: 3, mode: "bars", batch: 50 }), 3);
  const bars2 = feedBytes(createMarketFeed({ seed: 7, symbols: 3, mode: "bars", batch: 50 }), 3);
  assert.ok(sameBytes(bars1, bars2), "bars: same seed, different bytes");
});

test("createMarketFeed() names price, bar and volume channels per symbol, all valid", () => {
  assert.equal(marketSymbols(3), ["SYM001", "SYM002", "SYM003"]);
  assert.is(marketSymbols(12345)[0], "SYM00001");
  const ticks = createMarketFeed({ symbols: 2 });
  assert.equal(ticks.channels, ["SYM001", "SYM001_vol", "SYM002", "SYM002_vol"]);
  const bars = createMarketFeed({ symbols: 1, mode: "bars" });
  assert.equal(bars.channels, ["SYM001", "SYM001_open", "SYM001_high", "SYM001_low", "SYM001_vol"]);
  const bare = createMarketFeed({ symbols: 3, volume: false });
  assert.equal(bare.channels, ["SYM001", "SYM002", "SYM003"]);
  assert.ok(createMarketFeed({ symbols: 500 }).channels.every((c) => isValidName(c)));
});

test("market frames hold batch samples per channel on one time grid, seq0 consecutive", () => {
  const feed = createMarketFeed({ symbols: 4, batch: 64, intervalUs: 250_000, startUs: 1e15 });
  const series = collect(feed, 4);
  for (const [channel, s] of series) {
    assert.is(s.t.length, 256, channel);
    assert.is(s.t[0], 1e15);
    assert.is(s.t[255], 1e15 + 255 * 250_000);
    assert.ok(s.v.every((x) => x > 0), `${channel} has a non-positive value`);
  }
  const vol = series.get("SYM001_vol")!.v;
  assert.ok(vol.every((x) => Number.isInteger(x) && x >= 1), "volumes are whole and >= 1");
  assert.is(feed.truth().samples, 256);
  assert.is(feed.truth().endUs, 1e15 + 255 * 250_000);
});

test("stressed regimes have a higher average pairwise correlation of returns than calm ones", () => {
  const feed = createMarketFeed({ seed: 11, symbols: 16, batch: 1000, volume: false });
  const series = collect(feed, 30);
  const truth = feed.truth();
  const channels = [...series.keys()];
  const times = series.get(channels[0]!)!.t;
  const returns = channels.map((c) => logReturns(series.get(c)!));
  const ticks = returns[0]!.length;
  // Return k is from tick k to k+1: it belongs to the regime of tick k+1. Leave out crashes and jumps.
  const calm = new Uint8Array(ticks);
  const stressed = new Uint8Array(ticks);
  for (const r of truth.regimes) {
    for (let k = 0; k < ticks; k++) {
      const t = times[k + 1]!;
      if (t >= r.start && (t < r.end || r === truth.regimes.at(-1))) {
        (r.name === "stressed" ? stressed : calm)[k] = 1;
      }
    }
  }
  for (const a of truth.anomalies) {
    if (a.kind === "volume_burst") continue;
    for (let k = Math.max(0, a.index - 1); k < Math.min(ticks, a.index + 6); k++) {
      calm[k] = 0;
      stressed[k] = 0;
    }
  }
  const nCalm = calm.reduce((s, x) => s + x, 0);
  const nStressed = stressed.reduce((s, x) => s + x, 0);
  assert.ok(nCalm > 2000 && nStressed > 2000, `calm ${nCalm}, stressed ${nStressed} ticks`);
  assert.ok(truth.regimes.some((r) => r.name === "stressed"));
  const cCalm = averageCorrelation(returns, calm);
  const cStressed = averageCorrelation(returns, stressed);
  assert.ok(cStressed > cCalm + 0.15, `calm ${cCalm.toFixed(3)}, stressed ${cStressed.toFixed(3)}`);
});

test("regimes tile the generated time without gaps, alternating calm and stressed", () => {
  const feed = createMarketFeed({ seed: 4, symbols: 2, batch: 1000, calmMeanTicks: 500 });
  collect(feed, 5);
  const { regimes, startUs, endUs } = feed.truth();
  assert.ok(regimes.length >= 3, `${regimes.length} regimes`);
  assert.is(regimes[0]!.start, startUs);
  assert.is(regimes[0]!.name, "calm");
  assert.is(regimes.at(-1)!.end, endUs);
  for (let i = 1; i < regimes.length; i++) {
    assert.is(regimes[i]!.start, regimes[i - 1]!.end);
    assert.is.not(regimes[i]!.name, regimes[i - 1]!.name);
  }
});

test("a labelled crash drops every symbol's price level by about its labelled magnitude", () => {
  const feed = createMarketFeed({ seed: 5, symbols: 6, batch: 1000, crashRate: 3e-4 });
  const series = collect(feed, 10);
  const crashes = feed.truth().changePoints.filter((c) => c.kind === "crash");
  assert.ok(crashes.length >= 6, `${crashes.length} crash labels`);
  let checked = 0;
  for (const c of crashes) {
    const v = series.get(c.channel)!.v;
    if (c.index < 10 || c.index + 15 > v.length) continue;
    assert.is(series.get(c.channel)!.t[c.index], c.time);
    const before = mean(v, c.index - 10, c.index);
    const after = mean(v, c.index + 5, c.index + 15);
    const ratio = (after - before) / c.magnitude!;
    assert.ok(c.magnitude! < 0, `magnitude ${c.magnitude}`);
    assert.ok(ratio > 0.6 && ratio < 1.4, `${c.channel}@${c.index}: ratio ${ratio}`);
    checked++;
  }
  assert.ok(checked >= 6, `${checked} crashes checked`);
  const windows = feed.truth().anomalies.filter((a) => a.kind === "crash");
  assert.is(windows.length, crashes.length);
  for (const w of windows) assert.ok(w.start < w.onset && w.onset < w.end);
});

test("over a long feed with frequent crashes prices stay near their starting level", () => {
  // troupe up's demo rate: a crash every ~5,000 ticks, each 6-18% down and never taken back.
  const lowest = (reversionTicks: number) => {
    const feed = createMarketFeed({
      seed: 1,
      symbols: 4,
      batch: 1000,
      volume: false,
      crashRate: 2e-4,
      reversionTicks,
    });
    const start = new Map<string, number>();
    let low = Infinity;
    for (let s = 0; s < 300; s++) {
      for (const f of feed.next()) {
        if (!start.has(f.channel)) start.set(f.channel, f.v[0]!);
        for (const v of f.v) low = Math.min(low, v / start.get(f.channel)!);
      }
    }
    return low;
  };
  const pulled = lowest(5_000); // the default
  assert.ok(pulled > 0.1, `lowest price ${pulled} of its start over 300,000 ticks`);
  const unpulled = lowest(1e12);
  assert.ok(unpulled < 1e-6, `without the pull: lowest ${unpulled} of its start`);
});

test("labelled jumps are far larger moves than ordinary returns", () => {
  const feed = createMarketFeed({
    seed: 9,
    symbols: 10,
    batch: 1000,
    jumpRate: 1e-3,
    crashRate: 0,
  });
  const series = collect(feed, 5);
  const jumps = feed.truth().anomalies.filter((a) => a.kind === "jump");
  assert.ok(jumps.length >= 20, `${jumps.length} jumps`);
  const atJump: number[] = [];
  const all: number[] = [];
  for (const [channel, s] of series) {
    if (channel.endsWith("_vol")) continue;
    const r = logReturns(s);
    for (const x of r) all.push(Math.abs(x));
    for (const j of jumps) {
      if (j.channel === channel && j.index > 0) atJump.push(Math.abs(r[j.index - 1]!));
    }
  }
  const median = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1]!;
  assert.ok(median(atJump) > 5 * median(all), `jump ${median(atJump)}, all ${median(all)}`);
});

test("volumes are several times higher inside labelled bursts", () => {
  const feed = createMarketFeed({ seed: 2, symbols: 8, batch: 1000, crashRate: 0 });
  const series = collect(feed, 8);
  const bursts = feed.truth().anomalies.filter((a) => a.kind === "volume_burst");
  assert.ok(bursts.length >= 5, `${bursts.length} bursts`);
  assert.ok(bursts.every((b) => b.channel.endsWith("_vol")));
  const pad = 20 * 1_000_000;
  let inside = 0, nInside = 0, outside = 0, nOutside = 0;
  for (const [channel, s] of series) {
    if (!channel.endsWith("_vol")) continue;
    const mine = bursts.filter((b) => b.channel === channel);
    for (let k = 0; k < s.v.length; k++) {
      const t = s.t[k]!;
      if (mine.some((b) => t >= b.onset && t <= b.end - pad)) {
        inside += s.v[k]!;
        nInside++;
      } else if (!mine.some((b) => t >= b.start && t <= b.end)) {
        outside += s.v[k]!;
        nOutside++;
      }
    }
  }
  assert.ok(
    inside / nInside > 2.5 * (outside / nOutside),
    `${inside / nInside} vs ${outside / nOutside}`,
  );
});

test("bars aggregate exactly the ticks of the same seed", () => {
  const ticks = collect(createMarketFeed({ seed: 3, symbols: 2, batch: 100 }), 1);
  const bars = collect(
    createMarketFeed({ seed: 3, symbols: 2, batch: 10, mode: "bars", ticksPerBar: 10 }),
    1,
  );
  for (const sym of ["SYM001", "SYM002"]) {
    const p = ticks.get(sym)!.v;
    const vol = ticks.get(`${sym}_vol`)!.v;
    for (let b = 0; b < 10; b++) {
      const slice = p.subarray(10 * b, 10 * b + 10);
      assert.is(bars.get(`${sym}_open`)!.v[b], slice[0]);
      assert.is(bars.get(sym)!.v[b], slice[9]);
      assert.is(bars.get(`${sym}_high`)!.v[b], Math.max(...slice));
      assert.is(bars.get(`${sym}_low`)!.v[b], Math.min(...slice));
      assert.is(
        bars.get(`${sym}_vol`)!.v[b],
        vol.subarray(10 * b, 10 * b + 10).reduce((s, x) => s + x),
      );
    }
  }
  assert.is(bars.get("SYM001")!.t[1]! - bars.get("SYM001")!.t[0]!, 60_000_000);
});

test("market truth is plain JSON and names the options that reproduce it", () => {
  const feed = createMarketFeed({ seed: 12, symbols: 3, batch: 500, crashRate: 1e-3 });
  collect(feed, 4);
  const truth = feed.truth();
  assert.equal(JSON.parse(JSON.stringify(truth)), truth);
  assert.is(truth.options.seed, 12);
  assert.is(truth.options.symbols, 3);
  const again = createMarketFeed(truth.options);
  collect(again, 4);
  assert.equal(again.truth(), truth);
});

test("createMarketFeed() rejects bad options, naming the option and the value", () => {
  const rejects = (options: Record<string, unknown>, field: string, text: string) => {
    try {
      createMarketFeed(options);
    } catch (err) {
      assert.instance(err, ConfigError);
      assert.is((err as ConfigError).field, field);
      assert.match((err as Error).message, text);
      return;
    }
    assert.unreachable(`accepted ${JSON.stringify(options)}`);
  };
  rejects({ symbols: 0 }, "symbols", ">= 1, got 0");
  rejects({ batch: 1.5 }, "batch", "integer, got 1.5");
  rejects({ mode: "candles" }, "mode", '"candles"');
  rejects({ symbol: 3 }, "symbol", 'Unknown option "symbol"');
  rejects({ symbols: 3, sectors: 4 }, "sectors", "got 4");
  rejects({ intervalUs: 0 }, "intervalUs", "> 0, got 0");
  rejects({ reversionTicks: -1 }, "reversionTicks", "> 0, got -1");
});

test.run();
