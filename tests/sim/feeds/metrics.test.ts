import { suite } from "uvu";
import * as assert from "uvu/assert";
import { ConfigError, isValidName } from "../../../protocol/mod.ts";
import { createMetricsFeed, metricChannels } from "../../../sim/feeds/metrics.ts";
import { collect, feedBytes, mean, sameBytes } from "./_collect.ts";

const test = suite("metrics");
const MINUTE_US = 60_000_000;

test("createMetricsFeed() gives the same bytes for the same seed and others for another seed", () => {
  const a = feedBytes(createMetricsFeed({ seed: 21, series: 6, batch: 500 }), 6);
  const b = feedBytes(createMetricsFeed({ seed: 21, series: 6, batch: 500 }), 6);
  const c = feedBytes(createMetricsFeed({ seed: 22, series: 6, batch: 500 }), 6);
  assert.ok(a.byteLength > 6 * 6 * 500 * 16, `${a.byteLength} bytes`);
  assert.ok(sameBytes(a, b), "same seed, different bytes");
  assert.not.ok(sameBytes(a, c), "another seed, same bytes");
});

test("metricChannels() names services and metrics, all valid channel names", () => {
  assert.equal(metricChannels(7), [
    "api-cpu",
    "api-latency_ms",
    "api-requests",
    "api-errors",
    "api-memory",
    "web-cpu",
    "web-latency_ms",
  ]);
  const many = metricChannels(100);
  assert.is(many[40], "api2-cpu");
  assert.is(new Set(many).size, 100);
  assert.ok(many.every((c) => isValidName(c)));
});

test("metrics have a daily cycle peaking in the afternoon and a weekend dip", () => {
  // 2024-01-01 is a Monday; four weeks of minutes, anomalies off.
  const feed = createMetricsFeed({ seed: 5, series: 5, batch: 1440, anomalies: false });
  const requests = collect(feed, 28).get("api-requests")!;
  let at03 = 0, at15 = 0, weekday = 0, nWeekday = 0, weekend = 0, nWeekend = 0;
  for (let i = 0; i < requests.v.length; i++) {
    const minuteOfDay = i % 1440;
    const day = Math.floor(i / 1440) % 7; // 0 = Monday
    if (minuteOfDay === 3 * 60) at03 += requests.v[i]!;
    if (minuteOfDay === 15 * 60) at15 += requests.v[i]!;
    if (day >= 5) {
      weekend += requests.v[i]!;
      nWeekend++;
    } else if (day >= 1 && day <= 3) {
      weekday += requests.v[i]!;
      nWeekday++;
    }
  }
  assert.ok(at15 > 1.5 * at03, `15:00 ${at15 / 28}, 03:00 ${at03 / 28}`);
  assert.ok(
    weekend / nWeekend < 0.9 * (weekday / nWeekday),
    `${weekend / nWeekend} vs ${weekday / nWeekday}`,
  );
  assert.is(requests.t[1]! - requests.t[0]!, MINUTE_US);
  assert.equal(feed.truth().anomalies, []);
});

test("the weekend dip ramps out smoothly across the week's start (Monday 00:00 UTC)", () => {
  // Noise, trend and anomalies off: what is left is the daily cycle and the weekend dip, whose
  // ramp down runs Sunday 23:00 to Monday 01:00. It once stopped halfway at the week's wrap, a
  // step of half the dip every Monday at midnight that no label named.
  const feed = createMetricsFeed({
    seed: 5,
    series: 5,
    batch: 1440,
    anomalies: false,
    noise: 0,
    trend: 0,
  });
  const requests = collect(feed, 14).get("api-requests")!;
  let largest = 0, at = 0;
  for (let i = 1; i < requests.v.length; i++) {
    const step = Math.abs(requests.v[i]! - requests.v[i - 1]!) / requests.v[i - 1]!;
    if (step > largest) [largest, at] = [step, i];
  }
  // The daily cycle moves a minute by well under 1%; the old step was 10-25% of the level.
  assert.ok(largest < 0.01, `a step of ${(largest * 100).toFixed(1)}% at minute ${at}`);
});

test("with noise, seasonality and trend off, a series leaves its labelled level only inside labelled anomalies", () => {
  const pad = 50;
  const feed = createMetricsFeed({
    seed: 8,
    series: 10,
    batch: 1000,
    noise: 0,
    seasonality: 0,
    trend: 0,
    anomalyEverySamples: 800,
    windowSamples: pad,
  });
  const series = collect(feed, 20);
  const truth = feed.truth();
  const kinds = new Set(truth.anomalies.map((a) => a.kind));
  assert.equal([...kinds].sort(), ["drift", "flatline", "level_shift", "spike"]);
  let checkedInside = 0;
  for (const [channel, s] of series) {
    const mine = truth.anomalies.filter((a) => a.channel === channel);
    const changes = truth.changePoints.filter((c) => c.channel === channel);
    assert.ok(mine.length >= 10, `${channel}: ${mine.length} anomalies`);
    const counts = channel.endsWith("requests") || channel.endsWith("errors");
    const affected = new Uint8Array(s.v.length);
    for (const a of mine) {
      const last = a.index + (a.end - a.start) / MINUTE_US - 2 * pad; // its last affected sample
      for (let i = a.index; i <= last && i < s.v.length; i++) affected[i] = 1;
      assert.is(a.onset, s.t[a.index]);
      assert.is(a.start, s.t[a.index - pad]);
    }
    let level = s.v[0]!; // the warm-up has no anomaly
    for (let i = 0; i < s.v.length; i++) {
      for (const c of changes) {
        // A level shift moves the level at its index; a drift once its ramp is over.
        const a = mine.find((x) => x.index === c.index)!;
        const done = c.kind === "drift"
          ? a.index + (a.end - a.start) / MINUTE_US - 2 * pad
          : c.index;
        if (i === done) level += c.magnitude!;
      }
      if (affected[i]) {
        checkedInside++;
        continue;
      }
      // Counts are rounded: the level read from the first sample is off by up to a half, and so is each.
      const tolerance = counts ? 1 : 1e-6 * Math.abs(level);
      if (Math.abs(s.v[i]! - level) > tolerance) {
        assert.unreachable(`${channel}[${i}] = ${s.v[i]}, labelled level ${level}`);
      }
    }
  }
  assert.ok(checkedInside > 1000);
});

test("with the daily and weekend swing, the data outside anomalies is the curve plus the labelled shifts: nothing clips", () => {
  // Four weeks of 20 series without noise, with anomalies and without (the same curves): outside
  // the anomalies they differ by the labelled shifts so far. A shift under the nightly trough
  // would clip at 0 (a ceiling, at 100%), and the data would then differ from its label.
  const options = { series: 20, batch: 1440, noise: 0, anomalyEverySamples: 1000 };
  for (const seed of [1, 2]) {
    const feed = createMetricsFeed({ ...options, seed });
    const on = collect(feed, 28);
    const off = collect(createMetricsFeed({ ...options, seed, anomalies: false }), 28);
    const truth = feed.truth();
    let checked = 0, shifts = 0;
    for (const [channel, s] of on) {
      const plain = off.get(channel)!.v;
      const mine = truth.anomalies.filter((a) => a.channel === channel);
      const affected = new Uint8Array(s.v.length);
      const shiftAt = new Float64Array(s.v.length);
      for (const a of mine) {
        const last = a.index + (a.end - a.start) / MINUTE_US - 2 * (a.onset - a.start) / MINUTE_US;
        for (let i = a.index; i <= last && i < s.v.length; i++) affected[i] = 1;
        const c = truth.changePoints.find((x) => x.channel === channel && x.index === a.index);
        // A level shift moves the level at its index; a drift once its ramp is over.
        const done = c?.kind === "drift" ? last + 1 : a.index;
        if (c && done < s.v.length) shiftAt[done] = c.magnitude!;
      }
      const counts = channel.endsWith("requests") || channel.endsWith("errors");
      let offset = 0;
      for (let i = 0; i < s.v.length; i++) {
        offset += shiftAt[i]!;
        if (shiftAt[i]) shifts++;
        if (affected[i]) continue;
        checked++;
        const tolerance = counts ? 1 : 1e-9 * Math.abs(plain[i]!) + 1e-9;
        if (Math.abs(s.v[i]! - plain[i]! - offset) > tolerance) {
          assert.unreachable(
            `seed ${seed}, ${channel}[${i}] = ${s.v[i]}: the curve ${
              plain[i]
            } plus the labelled shifts ${offset}`,
          );
        }
      }
    }
    assert.ok(
      shifts > 200 && checked > 500_000,
      `seed ${seed}: ${shifts} shifts, ${checked} samples`,
    );
  }
});

test("labelled anomalies are in the data: spikes stand out, flat-lines are flat, shifts move the mean", () => {
  const pad = 50;
  const feed = createMetricsFeed({
    seed: 13,
    series: 10,
    batch: 2000,
    windowSamples: pad,
    seasonality: 0,
    trend: 0,
  });
  const series = collect(feed, 12);
  const truth = feed.truth();
  const seen = { spike: 0, flatline: 0, level_shift: 0 };
  for (const a of truth.anomalies) {
    const s = series.get(a.channel)!;
    const last = a.index + (a.end - a.start) / MINUTE_US - 2 * pad;
    if (last + 300 >= s.v.length) continue;
    if (a.kind === "spike") {
      const before = mean(s.v, a.index - 40, a.index - 1);
      let sd = 0;
      for (let i = a.index - 40; i < a.index - 1; i++) sd += (s.v[i]! - before) ** 2;
      sd = Math.sqrt(sd / 39);
      const z = Math.abs(s.v[a.index]! - before) / Math.max(sd, 1e-9);
      assert.ok(z > 3, `${a.channel} spike at ${a.index}: z ${z}`);
      seen.spike++;
    } else if (a.kind === "flatline") {
      for (let i = a.index; i <= last; i++) {
        assert.is(s.v[i], s.v[a.index - 1], `${a.channel}[${i}]`);
      }
      seen.flatline++;
    } else if (a.kind === "level_shift") {
      const c = truth.changePoints.find((x) => x.channel === a.channel && x.index === a.index)!;
      assert.is(c.kind, "level_shift");
      // Compare the stretches between this anomaly's neighbours, up to 200 samples each side.
      const mine = truth.anomalies.filter((x) => x.channel === a.channel);
      const k = mine.indexOf(a);
      const prev = mine[k - 1];
      const next = mine[k + 1];
      const from = Math.max(
        a.index - 200,
        prev ? prev.index + (prev.end - prev.start) / MINUTE_US : 0,
      );
      const to = Math.min(a.index + 200, next ? next.index : s.v.length);
      if (a.index - from < 50 || to - a.index < 50) continue;
      const before = mean(s.v, from, a.index);
      const after = mean(s.v, a.index, to);
      const ratio = (after - before) / c.magnitude!;
      assert.ok(ratio > 0.7 && ratio < 1.3, `${a.channel} shift at ${a.index}: ratio ${ratio}`);
      seen.level_shift++;
    }
  }
  assert.ok(seen.spike >= 5 && seen.flatline >= 5 && seen.level_shift >= 5, JSON.stringify(seen));
});

test("an errors channel's changes move its count rate: its noise is Poisson at the level it is at, and it comes back down", () => {
  // No season, no trend: between its anomalies an errors channel is Poisson at its base rate plus
  // the labelled shifts so far. Its variance follows that level (it once stayed at the base
  // rate's while shifts, which only went up, added a constant to the counts).
  const pad = 50;
  const feed = createMetricsFeed({
    seed: 3,
    series: 20,
    batch: 2000,
    windowSamples: pad,
    seasonality: 0,
    trend: 0,
    anomalyEverySamples: 1500,
  });
  const series = collect(feed, 20);
  const truth = feed.truth();
  let stretches = 0, down = 0;
  for (const channel of feed.channels.filter((c) => c.endsWith("errors"))) {
    const v = series.get(channel)!.v;
    const mine = truth.anomalies.filter((a) => a.channel === channel);
    down += truth.changePoints.filter((c) => c.channel === channel && c.magnitude! < 0).length;
    for (let k = 0; k + 1 < mine.length; k++) {
      const from = mine[k]!.index + (mine[k]!.end - mine[k]!.start) / MINUTE_US;
      const to = mine[k + 1]!.index - pad;
      if (to - from < 400) continue;
      const m = mean(v, from, to);
      let ss = 0;
      for (let i = from; i < to; i++) ss += (v[i]! - m) ** 2;
      const variance = ss / (to - from - 1);
      if (m < 3) continue;
      stretches++;
      // Poisson: the variance is the mean (within sampling error over 400+ counts).
      const ratio = variance / m;
      assert.ok(
        ratio > 0.7 && ratio < 1.4,
        `${channel} ${from}-${to}: mean ${m}, variance ${variance}`,
      );
    }
  }
  assert.ok(stretches >= 20, `${stretches} stretches`);
  assert.ok(down >= 5, `${down} lasting changes down`);
});

test("anomalies keep out of the warm-up and never overlap within a channel", () => {
  const feed = createMetricsFeed({
    seed: 3,
    series: 5,
    batch: 1000,
    warmupSamples: 700,
    anomalyEverySamples: 300,
  });
  collect(feed, 20);
  const truth = feed.truth();
  for (const channel of feed.channels) {
    const mine = truth.anomalies.filter((a) => a.channel === channel);
    assert.ok(mine.length >= 10, `${channel}: ${mine.length}`);
    assert.ok(mine[0]!.index >= 700, `${channel} first anomaly at ${mine[0]!.index}`);
    for (let i = 1; i < mine.length; i++) assert.ok(mine[i]!.start > mine[i - 1]!.end);
  }
  assert.equal(JSON.parse(JSON.stringify(truth)), truth);
});

test("anomalyKinds restricts the injected kinds", () => {
  const feed = createMetricsFeed({ seed: 4, series: 3, batch: 1000, anomalyKinds: ["spike"] });
  collect(feed, 10);
  const truth = feed.truth();
  assert.ok(truth.anomalies.length >= 5);
  assert.ok(truth.anomalies.every((a) => a.kind === "spike"));
  assert.equal(truth.changePoints, []);
});

test("createMetricsFeed() rejects bad options, naming the option and the value", () => {
  const rejects = (options: Record<string, unknown>, field: string, text: string) => {
    try {
      createMetricsFeed(options);
    } catch (err) {
      assert.instance(err, ConfigError);
      assert.is((err as ConfigError).field, field);
      assert.match((err as Error).message, text);
      return;
    }
    assert.unreachable(`accepted ${JSON.stringify(options)}`);
  };
  rejects({ series: 0 }, "series", ">= 1, got 0");
  rejects({ anomalyKinds: ["spike", "wobble"] }, "anomalyKinds", "wobble");
  rejects({ anomalyKinds: [] }, "anomalyKinds", "non-empty");
  rejects({ noise: -1 }, "noise", ">= 0, got -1");
  rejects({ seed: "x" }, "seed", '"x"');
  rejects({ anomalyEverySamples: 0 }, "anomalyEverySamples", "> 0");
});

test.run();
