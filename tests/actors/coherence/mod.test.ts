import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  coherenceActor,
  coherenceColumns,
  type CoherenceConfig,
  coherenceFrameEvent,
  coherenceKernel,
  type CoherenceState,
} from "../../../actors/coherence/mod.ts";
import { ActorInstance, type Output } from "../../../actors/runtime/instances/actor_instance.ts";
import {
  ConfigError,
  decodeColumns,
  decodeEnvelope,
  encodeEnvelope,
  encodeFrame,
  type InputRecord,
  type SampleFrame,
} from "../../../protocol/mod.ts";
import { BAR_US, factorFeed, T0 } from "./_support.ts";

const test = suite("coherence actor");

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.instance(err, ConfigError);
    return err as ConfigError;
  }
  throw new Error("expected a ConfigError");
}

test("parseConfig() applies fields over a base and names the path of anything wrong", () => {
  const base = coherenceActor.defaultConfig;
  assert.equal(coherenceActor.parseConfig({}, base, "ctl.coherence"), base);
  const c = coherenceActor.parseConfig(
    { half_life_bars: 120, groups: { eq: ["eq_*", "SPY"] } },
    base,
    "x",
  );
  assert.is(c.half_life_bars, 120);
  assert.equal(c.groups, { eq: ["eq_*", "SPY"] });
  assert.is(c.bar_us, base.bar_us);
  const cases: [unknown, string, string][] = [
    [{ half_life: 5 }, "actors.coherence.half_life", "Unknown field"],
    [{ bar_us: 0 }, "actors.coherence.bar_us", ">= 1"],
    [{ top_n: 1.5 }, "actors.coherence.top_n", "integer"],
    [{ tolerance: "1e-6" }, "actors.coherence.tolerance", "finite number"],
    [{ groups: [] }, "actors.coherence.groups", "must be an object"],
    [{ groups: { "a.b": ["x"] } }, "actors.coherence.groups.a.b", "invalid"],
    [{ groups: { g: [] } }, "actors.coherence.groups.g", "non-empty array"],
    [{ groups: { g: ["ok", "bad name"] } }, "actors.coherence.groups.g[1]", '"bad name"'],
    [{ groups: { g: ["a*b"] } }, "actors.coherence.groups.g[0]", "prefix ending"],
    [{ coherent_exit: 2.5 }, "actors.coherence.coherent_enter", "coherent_exit"],
    [{ fragmented_exit: -2 }, "actors.coherence.fragmented_exit", "fragmented_enter"],
    [{ shift_short_half_life_bars: 500 }, "actors.coherence.shift_short_half_life_bars", "<="],
  ];
  for (const [raw, field, text] of cases) {
    const err = configError(() => coherenceActor.parseConfig(raw, base, "actors.coherence"));
    assert.is(err.field, field, err.message);
    assert.ok(err.message.includes(text), err.message);
  }
  configError(() => coherenceActor.parseConfig("groups", base, "a"));
});

test("route() puts every channel in group all by default, else in each group that lists it", () => {
  const base = coherenceActor.defaultConfig;
  assert.equal(coherenceActor.route("BTC-USD", base), ["all"]);
  const c = coherenceActor.parseConfig(
    { groups: { equities: ["eq_*", "SPY"], us: ["SPY", "eq_AAPL"], everything: ["*"] } },
    base,
    "",
  );
  assert.equal(coherenceActor.route("SPY", c), ["equities", "us", "everything"]);
  assert.equal(coherenceActor.route("eq_MSFT", c), ["equities", "everything"]);
  assert.equal(coherenceActor.route("eq_AAPL", c), ["equities", "us", "everything"]);
  assert.equal(coherenceActor.route("fx_EUR", c), ["everything"]);
  const only = coherenceActor.parseConfig({ groups: { g: ["a"] } }, base, "");
  assert.equal(coherenceActor.route("b", only), []);
});

test("frameEvent() and columns() give nothing for a frame that closed no bar, columns the bars otherwise", () => {
  const config = coherenceActor.parseConfig(
    { lag_bars_max: 1, warmup_bars: 0 },
    coherenceActor.defaultConfig,
    "",
  );
  const s = coherenceKernel.init(config, "all");
  const f = (channel: string, bar: number, v: number): SampleFrame => ({
    channel,
    seq0: bar,
    t: new Float64Array([T0 + bar * BAR_US]),
    v: new Float64Array([v]),
  });
  let frame = f("a", 0, 10);
  let r = coherenceKernel.step(s, frame);
  assert.is(coherenceFrameEvent(r, frame), undefined);
  assert.is(coherenceColumns(r, frame, "all"), undefined);
  coherenceKernel.step(s, f("b", 0, 20));
  coherenceKernel.step(s, f("a", 1, 11));
  frame = f("b", 1, 19);
  coherenceKernel.step(s, frame);
  coherenceKernel.step(s, f("a", 2, 12));
  frame = f("b", 2, 20);
  r = coherenceKernel.step(s, frame);
  assert.is(r.steps, 1);
  // The first shift is 0: the bar changes no phase, so the machine has nothing to do.
  assert.is(coherenceFrameEvent(r, frame), undefined);
  assert.equal(r.changes, []);
  const last = r.last!;
  assert.is(last.ts, T0 + BAR_US);
  assert.is(last.ratio, r.ratio[0]);
  assert.is(last.channels, 2);
  assert.is(last.top, 1);
  assert.is(last.ready, true);
  assert.equal(r.topChannels.map((l) => l.channel).sort(), ["a", "b"]);
  const cols = coherenceColumns(r, frame, "all")!;
  assert.is(cols.channel, "all");
  assert.is(cols.seq0, 0);
  assert.equal(Array.from(cols.t), [T0 + BAR_US]);
  assert.equal(Object.keys(cols.columns), ["ratio", "shift"]);
  assert.ok(cols.columns.ratio![0]! > 0.5 && cols.columns.ratio![0]! <= 1);
});

/** Frames of `per` bars per channel, channels in turn: a calm, a stressed, then a calm market. */
function marketRecords(n: number, bars: number, per: number): InputRecord[] {
  const feed = factorFeed(n, 31, 4);
  const prices: number[][] = [];
  for (let bar = 0; bar < bars; bar++) {
    const stressed = bar >= 300 && bar < 400;
    prices.push(Array.from(feed.next(stressed ? 0.03 : 0.002)));
  }
  const records: InputRecord[] = [];
  for (let start = 0; start < bars; start += per) {
    const idx = Array.from({ length: Math.min(per, bars - start) }, (_, i) => start + i);
    for (const [c, channel] of feed.names.entries()) {
      const frame = {
        channel,
        seq0: start,
        t: new Float64Array(idx.map((bar) => T0 + bar * BAR_US)),
        v: new Float64Array(idx.map((bar) => prices[bar]![c]!)),
      };
      const k = records.length;
      const payload = encodeFrame(frame, { id: `in-${k}`, src: "test" });
      records.push({ kind: "frame", srcPos: k + 1, subject: `troupe.feed.m.${channel}`, payload });
    }
  }
  return records;
}

function ctlRecord(body: unknown, k: number): InputRecord {
  const payload = encodeEnvelope({ id: `ctl-${k}`, type: "config", src: "test", ts: T0, body });
  return { kind: "ctl", srcPos: k + 1, subject: "troupe.ctl.coherence", payload };
}

function publish(outputs: Output[], log: string[]) {
  for (const o of outputs) {
    const env = decodeEnvelope(o.data);
    if (env.type === "columns") {
      const { frame } = decodeColumns(o.data);
      log.push(`${o.id} ${frame.seq0} ${Array.from(frame.columns.ratio!).join(",")}`);
    } else log.push(`${o.id} ${env.type} ${env.ts} ${JSON.stringify(env.body)}`);
  }
}

test("under the host's ActorInstance, a stress turns the group coherent, and a restore replays exactly", () => {
  const config: CoherenceConfig = coherenceActor.parseConfig(
    {
      lag_bars_max: 12,
      half_life_bars: 20,
      shift_short_half_life_bars: 5,
      shift_long_half_life_bars: 100,
      warmup_bars: 150,
      top_channels: 3,
      coherent_enter: 1,
      fragmented_enter: -1,
    },
    coherenceActor.defaultConfig,
    "",
  );
  const records = marketRecords(12, 600, 1);
  // From an entry level of 1, the ctl raise to 2 still enters; the assertions below check that
  // the new threshold was the one applied. (Since issue 29's baseline, which no longer learns a
  // pending episode, the shift rises past 1 and 1.2 in the same bar here, so 1.2 delayed nothing;
  // since the sd starts from the ratio's predicted noise, 1 and 1.3 too.)
  records.splice(30, 0, ctlRecord({ coherent_enter: 2 }, 999));
  const whole: string[] = [];
  const a = ActorInstance.create(coherenceActor, "all", config);
  records.forEach((r, k) => publish(a.apply(r, k + 1), whole));
  const events = whole.filter((line) => line.includes(" coherence "));
  const bodies = events.map((line) => JSON.parse(line.slice(line.indexOf("{"))));
  assert.ok(bodies.length >= 2, `${bodies.length} coherence events`);
  const first = bodies[0];
  assert.is(first.from, "normal");
  assert.is(first.state, "coherent");
  assert.is(first.group, "all");
  assert.ok(first.shift >= 2, `entered at shift ${first.shift} (threshold set to 2)`);
  const ts = Number(events[0]!.split(" ")[2]);
  assert.ok(ts >= T0 + 300 * BAR_US && ts < T0 + 400 * BAR_US, "during the stress");
  // Without the ctl record the group turns coherent earlier, at the entry level of 1.
  const plain: string[] = [];
  const d = ActorInstance.create(coherenceActor, "all", config);
  records.filter((r) => r.kind === "frame").forEach((r, k) => publish(d.apply(r, k + 1), plain));
  d.stop();
  const early = plain.find((line) => line.includes(" coherence "))!;
  assert.ok(Number(early.split(" ")[2]) < ts, "the ctl threshold delayed the change");
  assert.is(first.top_channels.length, 3);
  assert.ok(first.top_channels.every((l: { channel: string }) => /^ch\d{3}$/.test(l.channel)));
  // The baseline held during the episode: its end is a return to normal, not a fragmented group.
  assert.equal(bodies.slice(1).map((b) => `${b.from}>${b.state}`), ["coherent>normal"]);
  // Per-bar columns: one ratio per closed bar, numbered without gaps.
  const seqs = whole.filter((line) => !line.includes(" coherence ")).map((l) => l.split(" "));
  let next = 0;
  for (const [, seq0, values] of seqs) {
    assert.is(Number(seq0), next);
    next += values!.split(",").length;
  }
  assert.ok(next >= 590, `${next} bars`);
  // The kernel's phase is the machine's state; describeState names the group's fields.
  const described = coherenceActor.describeState!(a.kernelState as CoherenceState);
  assert.is(described.phase, a.machineState);
  assert.is((described.channels as string[]).length, 12);
  assert.is((described.counters as Record<string, number>).updates, next);
  assert.is(described.ratio, Number(seqs.at(-1)![2]!.split(",").at(-1)));
  for (const cut of [25, 3100]) {
    const parts: string[] = [];
    const b = ActorInstance.create(coherenceActor, "all", config);
    records.slice(0, cut).forEach((r, k) => publish(b.apply(r, k + 1), parts));
    const snap = b.snapshot();
    b.stop();
    const c = ActorInstance.restore(coherenceActor, "all", snap);
    records.slice(cut).forEach((r, k) => publish(c.apply(r, cut + k + 1), parts));
    c.stop();
    assert.equal(parts, whole, `restore after input ${cut}`);
  }
  a.stop();
});

test.run();
