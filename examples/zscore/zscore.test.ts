/**
 * The zscore example's tests, written as a user writes them with troupe's test kit: it finds an
 * injected spike, and it passes the kit's checks (save and load, framing, purity).
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ConfigError, sampleRandom } from "troupe";
import {
  checkFraming,
  checkPure,
  checkSaveLoad,
  framesOf,
  runKind,
  type Series,
} from "troupe/testing";
import { zscore } from "./zscore.ts";

const test = suite("example zscore");

const T0 = 1_700_000_000_000_000;
const SPIKE_AT = 700;

/** Gaussian-ish noise around 100 (seeded by the channel), with a spike of +30 at SPIKE_AT. */
function series(channel: string, n = 1000): Series {
  const t = new Float64Array(n), v = new Float64Array(n);
  const key = channel.length * 7919;
  for (let i = 0; i < n; i++) {
    t[i] = T0 + i * 1_000_000;
    const u = sampleRandom(key, i) + sampleRandom(key, i, 1) + sampleRandom(key, i, 2) - 1.5;
    v[i] = 100 + 2 * u + (i === SPIKE_AT ? 30 : 0);
  }
  return { channel, t, v };
}

test("it finds the injected spike once, at its sample, with a z column per sample", () => {
  const steps = runKind(zscore, framesOf([series("cpu")], 100));
  const events = steps.flatMap((s) => s.outputs).filter((o) => o.type === "zscore_spike");
  assert.is(events.length, 1);
  assert.is(events[0]!.subject, "troupe.finding.zscore_spike.cpu", "a finding, on its own subject");
  const columns = steps.flatMap((s) => s.outputs).filter((o) => o.type === undefined);
  assert.is(columns.length, 10, "one columns frame per input frame");
});

test("it passes the kit: save and load, framing, purity", () => {
  const s = [series("cpu"), series("memory")];
  const r = checkSaveLoad(zscore, framesOf(s, 37));
  assert.ok(r.outputs > 0);
  assert.is(checkFraming(zscore, s).findings, 2);
  checkPure(zscore, framesOf(s, 64));
});

test("its configuration is checked, naming the field", () => {
  try {
    zscore.parseConfig({ threshold: -1 }, zscore.defaultConfig, "actors.zscore");
    assert.unreachable();
  } catch (err) {
    assert.instance(err, ConfigError);
    assert.is((err as ConfigError).field, "actors.zscore.threshold");
  }
});

test.run();
