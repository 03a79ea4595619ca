import { suite } from "uvu";
import * as assert from "uvu/assert";
import { barsKernel, type BarsState } from "../../../actors/bars/mod.ts";
import { CHANGES_KEPT_MAX, heldBarsSource } from "../../../actors/scan/mod.ts";

const test = suite("heldBarsSource");

const T0 = 1_699_999_980_000_000; // a whole minute, µs
const CONFIG = { bar_sizes: ["1m"], history_bars: 10, close_grace_ms: 0 };

/** A bars state fed samples at the given seconds after T0. */
function fed(key: string, seconds: number[], values: number[]): BarsState {
  const s = barsKernel.init(CONFIG, key);
  barsKernel.step(s, {
    channel: key,
    seq0: 0,
    t: new Float64Array(seconds.map((x) => T0 + x * 1e6)),
    v: new Float64Array(values),
  });
  return s;
}

test("a symbol's bars come from its bars actor; volume from <sym>_vol where it has the bar, else 0", () => {
  const states = new Map<string, BarsState>([
    // Prices in minutes 0, 1, 2 and 3 (the bar of minute 3 is still open).
    ["AAA", fed("AAA", [1, 30, 61, 125, 130, 200], [10, 11, 12, 13, 9, 14])],
    // Traded sizes in minutes 0 and 2 only.
    ["AAA_vol", fed("AAA_vol", [1, 30, 125, 130, 200], [100, 50, 7, 8, 1])],
    ["BBB", fed("BBB", [5, 65, 70], [1, 2, 3])],
  ]);
  const src = heldBarsSource({ channels: () => [...states.keys()], state: (c) => states.get(c) });
  assert.equal(src.symbols(), ["AAA", "BBB"]);
  const a = src.bars("AAA", "1m")!;
  assert.equal(Array.from(a.t), [T0, T0 + 60e6, T0 + 120e6]);
  assert.equal(Array.from(a.open), [10, 12, 13]);
  assert.equal(Array.from(a.high), [11, 12, 13]);
  assert.equal(Array.from(a.low), [10, 12, 9]);
  assert.equal(Array.from(a.close), [11, 12, 9]);
  assert.equal(Array.from(a.volume), [150, 0, 15]);
  // Without a volume channel: the tick count.
  assert.equal(Array.from(src.bars("BBB", "1m")!.volume), [1]);
  assert.is(src.bars("CCC", "1m"), undefined);
  assert.is(src.bars("AAA", "5m"), undefined);
  assert.is(src.bars("AAA", "bogus"), undefined);
});

test("with a version, the symbol list and the bars read in place are kept while it holds, and read afresh once it moves", () => {
  const states = new Map<string, BarsState>([
    ["AAA", fed("AAA", [1, 61, 125], [10, 12, 13])],
    ["AAA_vol", fed("AAA_vol", [1, 61], [100, 50])],
    ["BBB", fed("BBB", [5, 65, 70], [1, 2, 3])],
  ]);
  let version = 1, listed = 0, looked = 0;
  const src = heldBarsSource({
    channels: () => (listed++, [...states.keys()]),
    state: (c) => (looked++, states.get(c)),
    version: () => version,
  });
  const list = src.symbols();
  assert.equal(list, ["AAA", "BBB"]);
  assert.is(src.symbols(), list, "the same list while the version holds");
  assert.is(listed, 1);
  const b = src.bars("BBB", "1m")!;
  assert.equal(Array.from(b.close), [1]);
  const lookups = looked;
  assert.is(src.bars("BBB", "1m"), b, "the same columns, without a lookup");
  assert.is(looked, lookups);
  // A volume join is a copy into reused buffers: never kept.
  assert.equal(Array.from(src.bars("AAA", "1m")!.volume), [100, 0]);
  src.bars("AAA", "1m");
  assert.ok(looked > lookups + 2, "AAA looked up each time");
  // A bar closes: the version moves, and what was kept is read again.
  barsKernel.step(states.get("BBB")!, {
    channel: "BBB",
    seq0: 3,
    t: new Float64Array([T0 + 130e6]),
    v: new Float64Array([4]),
  });
  version++;
  assert.equal(Array.from(src.bars("BBB", "1m")!.close), [1, 3]);
  src.symbols();
  assert.is(listed, 2);
});

test("a symbol's mark moves when a bar of it or of its volume channel closes, and holds otherwise", () => {
  const states = new Map<string, BarsState>([
    ["AAA", fed("AAA", [1, 61, 125], [10, 12, 13])],
    ["AAA_vol", fed("AAA_vol", [1, 61], [100, 50])],
    ["BBB", fed("BBB", [5], [1])],
  ]);
  const src = heldBarsSource({ channels: () => [...states.keys()], state: (c) => states.get(c) });
  const step = (key: string, seq0: number, second: number) =>
    barsKernel.step(states.get(key)!, {
      channel: key,
      seq0,
      t: new Float64Array([T0 + second * 1e6]),
      v: new Float64Array([1]),
    });
  const a0 = src.mark!("AAA", "1m");
  // Each channel's end of the last bar closed plus the bars it holds: AAA's and AAA_vol's.
  assert.is(a0, (T0 + 120e6 + 2) + (T0 + 60e6 + 1));
  assert.is(src.mark!("BBB", "1m"), 0, "no bar closed yet");
  assert.is(src.mark!("CCC", "1m"), -1);
  assert.is(src.mark!("AAA", "5m"), -1);
  step("AAA", 3, 130); // same minute: the open bar grows, nothing closes
  assert.is(src.mark!("AAA", "1m"), a0);
  step("AAA_vol", 2, 190); // closes the volume channel's minute 1
  const a1 = src.mark!("AAA", "1m");
  assert.ok(a1 > a0, "the volume channel's bar moves the symbol's mark");
  step("AAA", 4, 190); // closes AAA's minute 2
  assert.ok(src.mark!("AAA", "1m") > a1);
  step("BBB", 1, 70);
  assert.is(src.mark!("BBB", "1m"), T0 + 60e6 + 1);
});

test("with a change feed, the source says which symbols changed, keeps its listing until a new channel changes, and drops kept columns of changed symbols only", () => {
  const states = new Map<string, BarsState>([
    ["AAA", fed("AAA", [1, 61, 125], [10, 12, 13])],
    ["AAA_vol", fed("AAA_vol", [1, 61], [100, 50])],
    ["BBB", fed("BBB", [5, 65, 70], [1, 2, 3])],
    ["CCC", fed("CCC", [5, 65, 70], [7, 8, 9])],
  ]);
  let tell: (channel: string) => void = () => {};
  let listed = 0, looked = 0, stopped = false;
  const src = heldBarsSource({
    channels: () => (listed++, [...states.keys()]),
    state: (c) => (looked++, states.get(c)),
    watch: (changed) => ((tell = changed), () => void (stopped = true)),
  });
  const list = src.symbols();
  assert.equal(list, ["AAA", "BBB", "CCC"]);
  const v0 = src.version!();
  const c0 = src.bars("CCC", "1m")!;
  assert.equal(Array.from(src.bars("BBB", "1m")!.close), [1]);
  // BBB closes a bar: the version moves, BBB is named, the listing and CCC's columns are kept.
  barsKernel.step(states.get("BBB")!, {
    channel: "BBB",
    seq0: 3,
    t: new Float64Array([T0 + 130e6]),
    v: new Float64Array([4]),
  });
  tell("BBB");
  const v1 = src.version!();
  assert.ok(v1 !== v0, "the version moved");
  assert.equal(src.changedSince!(v0), ["BBB"]);
  assert.equal(src.changedSince!(v1), []);
  assert.is(src.symbols(), list, "the same listing: no new channel");
  assert.is(listed, 1);
  const lookups = looked;
  assert.is(src.bars("CCC", "1m"), c0, "CCC's columns kept, without a lookup");
  assert.is(looked, lookups);
  assert.equal(Array.from(src.bars("BBB", "1m")!.close), [1, 3], "BBB read afresh");
  // A volume channel's change is its symbol's.
  tell("AAA_vol");
  assert.equal(src.changedSince!(v1), ["AAA"]);
  // A new channel: listed again.
  states.set("DDD", fed("DDD", [5, 65], [1, 2]));
  tell("DDD");
  assert.equal(src.changedSince!(v1), ["AAA", "DDD"]);
  assert.equal(src.symbols(), ["AAA", "BBB", "CCC", "DDD"]);
  assert.is(listed, 2);
  // Changes further back than the source keeps: not known.
  for (let i = 0; i < CHANGES_KEPT_MAX; i++) tell("CCC");
  assert.is(src.changedSince!(v1), undefined);
  assert.equal(src.changedSince!(src.version!() - 3), ["CCC", "CCC", "CCC"]);
  src.close!();
  assert.ok(stopped, "close stops the feed");
});

test.run();
