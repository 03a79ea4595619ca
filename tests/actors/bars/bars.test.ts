import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  barsActor,
  type BarsConfig,
  barSizeName,
  barsKernel,
  type HeldBars,
  heldCount,
  parseBarsConfig,
  readHeld,
  sizeIndex,
} from "../../../actors/bars/mod.ts";
import { ActorInstance } from "../../../actors/runtime/mod.ts";
import {
  ConfigError,
  decodeEnvelope,
  encodeEnvelope,
  encodeFrame,
  type SampleFrame,
} from "../../../protocol/mod.ts";
import { Prng } from "../../../sim/prng/mod.ts";

const test = suite("bars");

const T0 = 1_699_999_980_000_000; // µs, a whole minute

type InputRecord = Parameters<ActorInstance["apply"]>[0];
type Output = ReturnType<ActorInstance["apply"]>[number];
const CONFIG: BarsConfig = {
  bar_sizes: ["1s", "1m", "5m", "1h"],
  history_bars: 40,
  close_grace_ms: 500,
};

/** Irregular ticks: bursts, quiet stretches of minutes, equal times, over ~3 hours. */
function ticks(seed: number, n: number): { t: Float64Array; v: Float64Array } {
  const prng = new Prng(seed);
  const t = new Float64Array(n), v = new Float64Array(n);
  let now = T0 + 123_456, price = 100;
  for (let i = 0; i < n; i++) {
    const r = prng.next();
    now += r < 0.05
      ? 0
      : r < 0.97
      ? Math.floor(prng.exponential(1 / 400_000))
      : 90_000_000 + prng.int(400_000_000);
    price += prng.normal() * 0.1;
    t[i] = now;
    v[i] = Math.round(price * 100) / 100;
  }
  return { t, v };
}

/** The samples cut into frames of `size`. */
function framed(s: { t: Float64Array; v: Float64Array }, size: number): SampleFrame[] {
  const out: SampleFrame[] = [];
  for (let i = 0; i < s.t.length; i += size) {
    out.push({ channel: "AAPL", seq0: i, t: s.t.slice(i, i + size), v: s.v.slice(i, i + size) });
  }
  return out;
}

function frameRecord(f: SampleFrame, k: number): InputRecord {
  const payload = encodeFrame(f, { id: `in-${k}`, src: "test" });
  return { kind: "frame", srcPos: k + 1, subject: "troupe.feed.market.AAPL", payload };
}

function tickRecord(ts: number, k: number): InputRecord {
  const payload = encodeEnvelope({ id: `tick-${k}`, type: "tick", src: "test", ts, body: null });
  return { kind: "tick", srcPos: 0, subject: "troupe.sys.tick", payload };
}

/** The published bars' bodies, in order, less the ids (which follow the inputs' framing). */
function bodies(outputs: Output[]): string[] {
  return outputs.map((o) => {
    const env = decodeEnvelope(o.data);
    assert.is(env.type, "bar");
    assert.is(o.subject, "troupe.out.bars.AAPL");
    return `${env.ts} ${JSON.stringify(env.body)}`;
  });
}

/** Bars by direct grouping: for each size, every bucket with samples, in time order. */
function direct(s: { t: Float64Array; v: Float64Array }, sizeUs: number) {
  const bars = new Map<
    number,
    { open: number; high: number; low: number; close: number; count: number; sum: number }
  >();
  s.t.forEach((t, i) => {
    const start = Math.floor(t / sizeUs) * sizeUs, x = s.v[i]!;
    const b = bars.get(start);
    if (!b) bars.set(start, { open: x, high: x, low: x, close: x, count: 1, sum: x });
    else {
      b.high = Math.max(b.high, x);
      b.low = Math.min(b.low, x);
      b.close = x;
      b.count++;
      b.sum += x;
    }
  });
  return [...bars.entries()].map(([t, b]) => ({ t, ...b }));
}

function held(state: unknown, sizeUs: number): HeldBars & { n: number } {
  const s = state as Parameters<typeof readHeld>[0];
  const j = sizeIndex(s, sizeUs);
  const n = heldCount(s, j);
  const cols = () => new Float64Array(n);
  const out = {
    t: cols(),
    open: cols(),
    high: cols(),
    low: cols(),
    close: cols(),
    count: cols(),
    sum: cols(),
  };
  assert.is(readHeld(s, j, out), n);
  return { ...out, n };
}

test("closed bars equal a direct grouping of the samples, and the ring holds the last history_bars", () => {
  const s = ticks(1, 30_000);
  const inst = ActorInstance.create(barsActor, "AAPL", CONFIG);
  const published = framed(s, 500).flatMap((f, k) => bodies(inst.apply(frameRecord(f, k), k + 1)));
  for (const size of CONFIG.bar_sizes) {
    const us = size === "1s" ? 1e6 : size === "1m" ? 60e6 : size === "5m" ? 300e6 : 3600e6;
    const all = direct(s, us);
    const closed = all.slice(0, -1); // the last bar is still open
    assert.ok(closed.length > 5, `${size}: only ${closed.length} bars`);
    const mine = published.map((line) => JSON.parse(line.slice(line.indexOf(" ") + 1)))
      .filter((b) => b.bar === size);
    assert.is(mine.length, closed.length, `${size}: bars published`);
    mine.forEach((b, k) => {
      const want = closed[k]!;
      assert.equal(
        [b.t, b.open, b.high, b.low, b.close, b.count],
        [want.t, want.open, want.high, want.low, want.close, want.count],
        `${size} bar ${k}`,
      );
      assert.ok(Math.abs(b.sum - want.sum) <= 1e-9 * Math.abs(want.sum), `${size} bar ${k} sum`);
      assert.is(b.channel, "AAPL");
    });
    const h = held(inst.kernelState, us);
    const keep = closed.slice(-40);
    assert.is(h.n, keep.length, `${size}: bars held`);
    assert.equal(Array.from(h.t), keep.map((b) => b.t), `${size}: held starts, oldest first`);
    assert.equal(Array.from(h.close), keep.map((b) => b.close));
    assert.equal(Array.from(h.count), keep.map((b) => b.count));
  }
  inst.stop();
});

test("framing never changes the bars: frames of 1, 7, 100, 500 and 4096 samples publish the same", () => {
  for (const seed of [2, 3]) {
    const s = ticks(seed, 9000);
    let reference: string[] | undefined, referenceBytes: number[] | undefined;
    for (const size of [1, 7, 100, 500, 4096]) {
      const inst = ActorInstance.create(barsActor, "AAPL", CONFIG);
      const out = framed(s, size).flatMap((f, k) => bodies(inst.apply(frameRecord(f, k), k + 1)));
      const bytes = Array.from(barsKernel.save(inst.kernelState as never));
      inst.stop();
      if (!reference) {
        reference = out;
        referenceBytes = bytes;
        assert.ok(out.length > 100, `seed ${seed}: ${out.length} bars`);
        continue;
      }
      assert.equal(out, reference, `seed ${seed}, frames of ${size}`);
      assert.equal(bytes, referenceBytes, `seed ${seed}, frames of ${size}: kernel state`);
    }
  }
});

test("a tick past a bar's end and the grace closes a quiet channel's bar once; a later sample for it is late", () => {
  const inst = ActorInstance.create(barsActor, "AAPL", { ...CONFIG, bar_sizes: ["1m"] });
  const frame = (t: number[], v: number[], k: number) =>
    bodies(
      inst.apply(
        frameRecord(
          { channel: "AAPL", seq0: k, t: new Float64Array(t), v: new Float64Array(v) },
          k,
        ),
        k + 1,
      ),
    );
  assert.equal(frame([T0 + 1e6, T0 + 30e6], [10, 12], 0), []);
  // The bar ends at T0 + 60 s; the grace is 0.5 s.
  assert.equal(bodies(inst.apply(tickRecord(T0 + 60.4e6, 1), 2)), []);
  const closed = bodies(inst.apply(tickRecord(T0 + 60.5e6, 2), 3));
  assert.equal(closed, [
    `${T0 + 60e6} ${
      JSON.stringify({
        channel: "AAPL",
        bar: "1m",
        t: T0,
        open: 10,
        high: 12,
        low: 10,
        close: 12,
        count: 2,
        sum: 22,
      })
    }`,
  ]);
  assert.equal(bodies(inst.apply(tickRecord(T0 + 200e6, 3), 4)), [], "no second close");
  assert.equal(frame([T0 + 59e6], [99], 4), [], "a sample of the closed bar");
  assert.is((inst.kernelState as { closed: { late: number } }).closed.late, 1);
  assert.equal(
    frame([T0 + 61e6, T0 + 125e6], [13, 14], 5).length,
    1,
    "the next bar closes on data",
  );
  assert.equal(held(inst.kernelState, 60e6).close[1], 13);
  assert.is(inst.machineState, "live");
  inst.stop();
});

test("an instance emitting for its live machine (frames and ticks) gives the outputs and snapshots of one sending it every event", () => {
  const s = ticks(7, 9_000);
  // Frames of a few samples, a tick after every third frame at its last sample plus a second
  // and a half: past the grace of a 1 s bar, so most ticks close one, some close none.
  const records: InputRecord[] = [];
  framed(s, 4).forEach((f, k) => {
    records.push(frameRecord(f, k));
    if (k % 3 === 2) records.push(tickRecord(f.t[f.t.length - 1]! + 1.5e6, k));
  });
  const direct = ActorInstance.create(barsActor, "AAPL", CONFIG);
  const { frameEmits: _f, tickEmits: _t, ...viaMachineKind } = barsActor;
  const viaMachine = ActorInstance.create(viaMachineKind, "AAPL", CONFIG);
  let published = 0, tickBars = 0;
  records.forEach((r, k) => {
    const a = direct.apply(r, k + 1), b = viaMachine.apply(r, k + 1);
    assert.equal(a, b, `input ${k + 1} (${r.kind})`);
    published += a.length;
    if (r.kind === "tick") tickBars += a.length;
    if (k % 101 === 0) {
      const sa = direct.snapshot(), sb = viaMachine.snapshot();
      assert.equal(sa.machine, sb.machine, `machine snapshot at ${k + 1}`);
      assert.equal(Array.from(sa.kernel), Array.from(sb.kernel), `kernel snapshot at ${k + 1}`);
    }
  });
  assert.ok(published > 3_000, `bars published: ${published}`);
  assert.ok(tickBars > 300, `bars closed by ticks: ${tickBars}`);
  assert.is(direct.machineState, "live");
  direct.stop();
  viaMachine.stop();
});

test("tickEmits() leaves a waiting machine's state untouched, for tickEvent to do the tick", () => {
  const state = barsKernel.init(CONFIG, "AAPL");
  barsKernel.step(state, {
    channel: "AAPL",
    seq0: 0,
    t: new Float64Array([T0 + 10]),
    v: new Float64Array([5]),
  });
  const before = Array.from(barsKernel.save(state));
  const at = { key: "AAPL", machineState: "waiting" };
  assert.is(barsActor.tickEmits!(state, T0 + 5e6, at), undefined);
  assert.equal(Array.from(barsKernel.save(state)), before);
  const live = barsActor.tickEmits!(state, T0 + 5e6, { ...at, machineState: "live" })!;
  assert.equal(live.map((e) => (e as unknown as { bar: string }).bar), ["1s"]);
  assert.equal(barsActor.tickEmits!(state, T0 + 5e6, { ...at, machineState: "live" }), []);
});

test("save and load are exact: a restored instance publishes and holds what an uninterrupted one does", () => {
  const s = ticks(4, 12_000);
  const records = framed(s, 333).map(frameRecord);
  records.splice(20, 0, tickRecord(s.t[20 * 333]! + 400e6, 99));
  const whole = ActorInstance.create(barsActor, "AAPL", CONFIG);
  const want = records.flatMap((r, k) => bodies(whole.apply(r, k + 1)));
  const prng = new Prng(5);
  for (let round = 0; round < 4; round++) {
    const cut = 1 + prng.int(records.length - 2);
    const a = ActorInstance.create(barsActor, "AAPL", CONFIG);
    const got = records.slice(0, cut).flatMap((r, k) => bodies(a.apply(r, k + 1)));
    const snap = a.snapshot();
    a.stop();
    const b = ActorInstance.restore(barsActor, "AAPL", snap);
    assert.equal(
      Array.from(barsKernel.save(b.kernelState as never)),
      Array.from(snap.kernel),
      "load(save(x)) saves the same bytes",
    );
    got.push(...records.slice(cut).flatMap((r, k) => bodies(b.apply(r, cut + k + 1))));
    assert.equal(got, want, `cut at ${cut}`);
    assert.equal(
      Array.from(barsKernel.save(b.kernelState as never)),
      Array.from(barsKernel.save(whole.kernelState as never)),
      `cut at ${cut}: final state`,
    );
    b.stop();
  }
  whole.stop();
  assert.throws(
    () => barsKernel.load(new Uint8Array(12)),
    /Cannot load bars state: expected a multiple of 8 bytes/,
  );
  assert.throws(
    () =>
      barsKernel.load(
        new Uint8Array(barsKernel.save(barsKernel.init(CONFIG, "x")).subarray(0, 80)),
      ),
    /Cannot load bars state: truncated/,
  );
});

test("a configuration change keeps the bars of the sizes kept, the last history_bars of them", () => {
  const s = ticks(6, 20_000);
  const inst = ActorInstance.create(barsActor, "AAPL", CONFIG);
  framed(s, 1000).forEach((f, k) => inst.apply(frameRecord(f, k), k + 1));
  const before = held(inst.kernelState, 1e6);
  assert.is(before.n, 40);
  barsKernel.configure!(inst.kernelState as never, {
    ...CONFIG,
    bar_sizes: ["1s", "15m"],
    history_bars: 25,
  });
  const after = held(inst.kernelState, 1e6);
  assert.equal(Array.from(after.t), Array.from(before.t.subarray(15)));
  assert.is(heldCount(inst.kernelState as never, 1), 0);
  inst.stop();
});

test("bar sizes are named by their largest whole unit; a bad configuration names the field and value", () => {
  assert.equal([1e6, 60e6, 90e6, 300e6, 3600e6, 86_400e6, 7 * 86_400e6].map(barSizeName), [
    "1s",
    "1m",
    "90s",
    "5m",
    "1h",
    "1d",
    "7d",
  ]);
  const base = barsActor.defaultConfig;
  assert.equal(parseBarsConfig({ bar_sizes: ["90s", "2h"] }, base, "actors.bars").bar_sizes, [
    "90s",
    "2h",
  ]);
  const err = (raw: unknown) => {
    try {
      parseBarsConfig(raw, base, "actors.bars");
    } catch (e) {
      assert.instance(e, ConfigError);
      return (e as Error).message;
    }
    return "no error";
  };
  assert.match(
    err({ bar_sizes: ["1m", "1w"] }),
    /actors\.bars\.bar_sizes" holds "1w", which is not a bar size/,
  );
  assert.match(err({ bar_sizes: ["1m", "60s"] }), /names the size 60s twice/);
  assert.match(err({ bar_sizes: [] }), /must be a list of 1 to 16 bar sizes/);
  assert.match(err({ history_bars: 1 }), /"actors\.bars\.history_bars" must be >= 2, got 1/);
  assert.match(err({ history: 5 }), /Unknown field "actors\.bars\.history"/);
});

test.run();
