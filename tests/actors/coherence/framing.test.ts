/**
 * Issue 12's property for the coherence actor: the same samples of a group, each channel's framed
 * 1, 7, 100, 500 or 4,096 at a time (channels in turn), give the same per-bar columns and the same
 * `coherence` events through the host's ActorInstance (envelope ids apart). The lag is set past a
 * frame's span, as the kernel asks of feeds that send frames of many bars in turn.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { coherenceActor, type CoherenceConfig } from "../../../actors/coherence/mod.ts";
import { ActorInstance } from "../../../actors/runtime/mod.ts";
import {
  decodeColumns,
  decodeEnvelope,
  encodeFrame,
  type InputRecord,
} from "../../../protocol/mod.ts";
import { Prng } from "../../../sim/prng/mod.ts";
import { BAR_US, factorFeed, T0 } from "./_support.ts";

const test = suite("coherence framing");

const PER_BAR = 4;
const BARS = 3000;
const SIZES = [1, 7, 100, 500, 4096];

/** Per channel, `PER_BAR` samples a bar: a calm, a stressed, then a calm market. */
function market(n: number): { names: string[]; t: Float64Array; v: Float64Array[] } {
  const feed = factorFeed(n, 41, 3);
  const jitter = new Prng(42);
  const t = new Float64Array(BARS * PER_BAR);
  const v = feed.names.map(() => new Float64Array(BARS * PER_BAR));
  for (let bar = 0; bar < BARS; bar++) {
    const stressed = bar >= 1200 && bar < 1400;
    const prices = feed.next(stressed ? 0.03 : 0.002);
    for (let j = 0; j < PER_BAR; j++) {
      const i = bar * PER_BAR + j;
      t[i] = T0 + bar * BAR_US + j * (BAR_US / PER_BAR);
      for (let c = 0; c < n; c++) v[c]![i] = prices[c]! * (1 + 0.0005 * jitter.normal());
    }
  }
  return { names: feed.names, t, v };
}

interface Outputs {
  t: number[];
  ratio: number[];
  shift: number[];
  events: string[];
}

function runFramed(size: number, config: CoherenceConfig): Outputs {
  const { names, t, v } = market(5);
  const actor = ActorInstance.create(coherenceActor, "all", config);
  const out: Outputs = { t: [], ratio: [], shift: [], events: [] };
  let k = 0;
  for (let i = 0; i < t.length; i += size) {
    const end = Math.min(t.length, i + size);
    names.forEach((channel, c) => {
      const frame = { channel, seq0: i, t: t.subarray(i, end), v: v[c]!.subarray(i, end) };
      const payload = encodeFrame(frame, { id: `in-${k}`, src: "test" });
      const subject = `troupe.feed.m.${channel}`;
      const record: InputRecord = { kind: "frame", srcPos: ++k, subject, payload };
      for (const o of actor.apply(record, k)) {
        const env = decodeEnvelope(o.data);
        if (env.type === "columns") {
          const cols = decodeColumns(o.data).frame;
          out.t.push(...cols.t);
          out.ratio.push(...cols.columns.ratio!);
          out.shift.push(...cols.columns.shift!);
        } else out.events.push(`${env.type} ${env.ts} ${JSON.stringify(env.body)}`);
      }
    });
  }
  actor.stop();
  return out;
}

test("frames of 1, 7, 100, 500 and 4,096 give the same per-bar columns and events", () => {
  const config = coherenceActor.parseConfig(
    {
      lag_bars_max: 4096 / PER_BAR + 2,
      half_life_bars: 20,
      shift_short_half_life_bars: 5,
      shift_long_half_life_bars: 100,
      warmup_bars: 150,
      top_channels: 3,
      // Low entry levels, so that the stress makes many changes for the framings to agree on.
      coherent_enter: 1,
      fragmented_enter: -1,
    },
    coherenceActor.defaultConfig,
    "",
  );
  const reference = runFramed(4096, config);
  assert.ok(reference.t.length > 1500, `${reference.t.length} bars`);
  // Frames of 4,096 samples span 1,024 bars, so most frames hold several changes.
  assert.ok(reference.events.length >= 6, reference.events.join("\n"));
  const during = (e: string) => {
    const ts = Number(e.split(" ")[1]);
    return ts >= T0 + 1200 * BAR_US && ts < T0 + 1400 * BAR_US;
  };
  assert.ok(
    reference.events.some((e) => during(e) && e.includes('"state":"coherent"')),
    "the stress turns the group coherent",
  );
  for (const size of SIZES.slice(0, -1)) {
    const framed = runFramed(size, config);
    assert.equal(framed.t, reference.t, `frames of ${size}: bar times`);
    assert.equal(framed.ratio, reference.ratio, `frames of ${size}: ratio`);
    assert.equal(framed.shift, reference.shift, `frames of ${size}: shift`);
    assert.equal(framed.events, reference.events, `frames of ${size}: events`);
  }
});

test.run();
