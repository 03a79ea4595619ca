import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  findingsOf,
  formatFinding,
  formatIncident,
  lineTime,
  severityAtLeast,
  VIEW_WORDS,
} from "../../collab/mod.ts";
import {
  ANOMALY_VIEWS,
  encodeColumns,
  encodeEnvelope,
  encodeEventEnvelope,
  encodeValue,
  type Incident,
  outSubject,
} from "../../protocol/mod.ts";

const test = suite("findings");
const TS = 1_800_000_000_000_000;
const meta = (type: string) => ({ id: `x-${type}`, type, src: "test", ts: TS });

test("findingsOf() reads an anomaly event: value, expected, band, and its score's 1-5 severity", () => {
  const bytes = encodeEventEnvelope(meta("anomaly"), {
    type: "anomaly",
    ts: TS,
    channel: "BTC",
    score: 0.93,
    value: 105,
    expected: 100,
    lower: 98,
    upper: 102,
  });
  const [f, ...rest] = findingsOf("troupe.out.anomaly.BTC", bytes, 0);
  assert.is(rest.length, 0);
  assert.is(f!.kind, "anomaly");
  assert.is(f!.channel, "BTC");
  assert.is(f!.severity, 5);
  assert.is(f!.ts_us, TS);
  assert.match(f!.what, "value 105, expected 100, band 98..102, above the band");
  assert.is(f!.strength, "score 0.93");
  assert.is(f!.detail.expected, 100);
  assert.match(
    formatFinding(f!),
    /^2027-01-15 08:00:00\.000 {2}anomaly {3}BTC +incident: .* \[severity 5, score 0\.93\]$/,
  );
});

test("findingsOf() writes a metrics channel's values with its unit, a market symbol's bare", () => {
  const anomaly = (channel: string) =>
    findingsOf(
      outSubject("anomaly", channel),
      encodeEventEnvelope(meta("anomaly"), {
        type: "anomaly",
        ts: TS,
        channel,
        score: 0.93,
        value: 412,
        expected: 120,
        lower: 80,
        upper: 160,
      }),
      0,
    )[0]!;
  assert.match(
    formatFinding(anomaly("api-latency_ms")),
    "incident: value 412 ms, expected 120 ms, band 80..160 ms, above the band  [severity 5",
  );
  assert.match(anomaly("web-cpu").what, "value 412%, expected 120%, band 80..160%,");
  assert.match(anomaly("SYM001").what, "value 412, expected 120, band 80..160,");
  const [c] = findingsOf(
    outSubject("collapse", "db-latency_ms"),
    encodeEventEnvelope(meta("collapse"), {
      type: "collapse",
      ts: TS,
      channel: "db-latency_ms",
      change_ts: TS,
      change_index: 0,
      delay_samples: 0,
      mean_before: 20,
      mean_after: 30,
      level_before: 20,
      level_after: 30,
      spread_before: 2,
      spread_after: 3,
      direction: "up",
      severity: 4,
    }),
    0,
  );
  assert.match(c!.what, "regime change up: level 20 ms -> 30 ms (+50.0%), spread 2 ms -> 3 ms,");
});

test("findingsOf() says a value is outside its band only when it is", () => {
  const at = (value: number, score: number) =>
    findingsOf(
      "troupe.out.anomaly.X",
      encodeEventEnvelope(meta("anomaly"), {
        type: "anomaly",
        ts: TS,
        channel: "X",
        score,
        value,
        expected: 412.19,
        lower: 396.95,
        upper: 427.43,
      }),
      0,
    )[0]!;
  const inside = at(418.74, 0.55);
  assert.not.match(inside.what, /outside|above|below/);
  assert.match(inside.what, "inside the band (scored by another view");
  assert.is(inside.severity, 1);
  assert.match(at(390, 0.75).what, "below the band");
  assert.is(at(390, 0.75).severity, 3);
  assert.match(at(430, 0.65).what, "above the band");
});

test("findingsOf() names the view that scored the sample, in words, inside the band and out", () => {
  const at = (value: number, view: string) =>
    findingsOf(
      "troupe.out.anomaly.api-latency_ms",
      encodeEventEnvelope(meta("anomaly"), {
        type: "anomaly",
        ts: TS,
        channel: "api-latency_ms",
        score: 0.8,
        value,
        expected: 120,
        lower: 80,
        upper: 160,
        view,
      }),
      0,
    )[0]!;
  const missingPeak = at(100, "time_of_day");
  assert.match(
    missingPeak.what,
    /band 80\.\.160 ms, inside the band: a time-of-day pattern this hour has not shown$/,
  );
  assert.not.match(missingPeak.what, "another view");
  assert.is(missingPeak.detail.view, "time_of_day");
  assert.match(
    at(412, "jump").what,
    "above the band: a jump larger than this channel usually makes",
  );
  assert.match(at(412, "range").what, "above the band: beyond the range this channel has shown");
  assert.match(at(120, "flat_run").what, "inside the band: a flat run: the value stuck");
  assert.match(at(40, "shift").what, "below the band: a shift of level from what this hour");
  for (const view of ANOMALY_VIEWS) {
    assert.match(at(100, view).what, `inside the band: ${VIEW_WORDS[view]}`);
  }
  // An event with a view it does not know is not a finding (the decoder refuses it, by name).
  assert.equal(
    findingsOf(
      "troupe.out.anomaly.X",
      encodeEventEnvelope(meta("anomaly"), {
        type: "anomaly",
        ts: TS,
        channel: "X",
        score: 0.8,
        value: 1,
        expected: 1,
        lower: 0,
        upper: 2,
        view: "vibes",
      }),
      0,
    ),
    [],
  );
});

test("findingsOf() reads collapse change points and coherence regime changes, severities 1-5, one field called severity", () => {
  const collapse = encodeEventEnvelope(meta("collapse"), {
    type: "collapse",
    ts: TS,
    channel: "ETH",
    changeTs: TS - 5_000_000,
    changeIndex: 10,
    delaySamples: 5,
    meanBefore: 1,
    meanAfter: 3,
    spreadBefore: 1,
    spreadAfter: 1,
    direction: "up",
    severity: 2,
  });
  const [c] = findingsOf("troupe.out.collapse.ETH", collapse, 0);
  assert.is(c!.kind, "collapse");
  // A format-1 event (camelCase) older than the levels: its regimes' means stand in for them.
  assert.match(c!.what, "regime change up: level 1 -> 3 (+200.0%)");
  assert.is(c!.severity, 3); // 2 spreads
  const crash = encodeEventEnvelope(meta("collapse"), {
    type: "collapse",
    ts: TS,
    channel: "SYM001",
    changeTs: TS - 40_000,
    changeIndex: 7849,
    delaySamples: 4,
    meanBefore: 120.65,
    meanAfter: 139.84,
    spreadBefore: 3,
    spreadAfter: 2,
    levelBefore: 151.2,
    levelAfter: 139.84,
    direction: "down",
    severity: 4.3,
  });
  const [k] = findingsOf("troupe.out.collapse.SYM001", crash, 0);
  assert.match(k!.what, "regime change down: level 151.2 -> 139.84 (-7.5%)");
  assert.is(c!.strength, "2.0 spreads");
  assert.is(c!.detail.shift_spreads, 2);
  assert.not.ok("severity" in c!.detail, "one meaning per word: detail has no other severity");
  const coherence = encodeEventEnvelope(meta("coherence"), {
    type: "coherence",
    ts: TS,
    group: "all",
    state: "coherent",
    from: "normal",
    ratio: 0.84,
    shift: 1.5,
    topChannels: [{ channel: "A", loading: 0.6 }, { channel: "B", loading: 0.5 }],
  });
  const [h] = findingsOf("troupe.out.coherence.all", coherence, 0);
  assert.is(h!.channel, "all");
  assert.match(h!.what, "normal -> coherent, absorption ratio 0.84, top A 0.60, B 0.50");
  assert.is(h!.severity, 2); // a shift of 1.5 sd
});

test("findingsOf() reads scan results (one per symbol), dead letters, stopped and restarted actors", () => {
  const results = encodeValue([
    { seq: 1, symbol: "AAA", rank: 2.5, chunk: 0 },
    { seq: 2, symbol: "BBB", rank: null, chunk: 0 },
  ]);
  const hits = findingsOf("troupe.scan.s1.results", results, 42);
  assert.equal(hits.map((f) => [f.kind, f.channel, f.strength, f.severity, f.ts_us]), [
    ["scan", "AAA", "rank 2.5", null, 42],
    ["scan", "BBB", "matched", null, 42],
  ]);
  const dead = encodeEnvelope({
    ...meta("dead_letter"),
    body: {
      subject: "troupe.feed.m.X",
      reason: "decode",
      error: "bad t",
      raw: new Uint8Array([1]),
    },
  });
  const [d] = findingsOf("troupe.dlq.decode", dead, 0);
  assert.equal([d!.kind, d!.channel, d!.severity], ["dlq", "decode", 2]);
  assert.match(d!.what, "dead letter from troupe.feed.m.X: bad t");
  const stopped = encodeEnvelope({
    ...meta("actor_stopped"),
    body: { stream: "anomaly/X", error: "boom" },
  });
  assert.equal(
    findingsOf("troupe.sys.actor.stopped", stopped, 0).map((f) => [f.kind, f.channel, f.severity]),
    [["actor", "anomaly/X", 5]],
  );
  const restarted = encodeEnvelope({
    ...meta("actor_restarted"),
    body: { stream: "collapse/Y", error: "kernel bug", failures: 2, delay_ms: 200 },
  });
  const [r] = findingsOf("troupe.sys.actor.restarted", restarted, 0);
  assert.equal([r!.kind, r!.channel, r!.strength, r!.severity], [
    "actor",
    "collapse/Y",
    "restarted",
    3,
  ]);
  assert.is(r!.what, "actor restarted after failure 2 (backoff 200 ms): kernel bug");
});

test("findingsOf() finds nothing in data (columns frames, stats) or in bytes it cannot read", () => {
  const columns = encodeColumns(
    {
      channel: "BTC",
      seq0: 0,
      t: new Float64Array([1]),
      columns: { score: new Float64Array([0.5]) },
    },
    { id: "c", src: "t", ts: 1 },
  );
  assert.equal(findingsOf("troupe.out.anomaly.BTC", columns, 0), []);
  const stats = encodeEventEnvelope(meta("stats"), {
    type: "stats",
    ts: TS,
    channel: "c",
    count: 1,
  });
  assert.equal(findingsOf("troupe.out.stats.c", stats, 0), []);
  assert.equal(findingsOf("troupe.out.anomaly.BTC", new Uint8Array([0xc1]), 0), []);
  assert.equal(findingsOf("troupe.scan.s.results", new Uint8Array([0xc1]), 0), []);
});

test("findingsOf() shows no scan finding from a malformed batch of scan results", () => {
  // Read by field before the batch had a decoder, these showed as a symbol called `undefined`,
  // result `undefined`, or a number's rank as a symbol.
  const ok = { seq: 1, symbol: "AAA", rank: 2.5, chunk: 0 };
  for (const bad of [[{ seq: 1 }], [{ ...ok, symbol: 7 }], [ok, { ...ok, seq: 3 }], [{}]]) {
    assert.equal(
      findingsOf("troupe.scan.s1.results", encodeValue(bad), 0),
      [],
      JSON.stringify(bad),
    );
  }
  const [f] = findingsOf("troupe.scan.s1.results", encodeValue([ok]), 5);
  assert.equal(f!.detail, { type: "scan_result", scan: "s1", ...ok });
});

test("lineTime() gives the date always, or with nowMs the time of day alone on that day", () => {
  const ms = TS / 1000;
  assert.is(lineTime(TS), "2027-01-15 08:00:00.000");
  assert.is(lineTime(TS, { nowMs: ms + 3_600_000 }), "08:00:00.000");
  assert.is(lineTime(TS, { nowMs: ms + 86_400_000 }), "2027-01-15 08:00:00.000");
  const [f] = findingsOf(
    "troupe.out.anomaly.BTC",
    encodeEventEnvelope(meta("anomaly"), {
      channel: "BTC",
      score: 0.5,
      value: 1,
      expected: 1,
      lower: 0,
      upper: 2,
    }),
    0,
  );
  assert.is(formatFinding(f!, { nowMs: ms }), formatFinding(f!).slice("2027-01-15 ".length));
});

test("severityAtLeast() passes a finding at or over the bar, and one with no severity", () => {
  assert.equal([1, 2, 3, null].map((s) => severityAtLeast(s, 2)), [false, true, true, true]);
});

test("formatIncident() marks what the page adds: its own silence, and more marks after", () => {
  const i: Incident = {
    id: "anomaly-1-A",
    kind: "anomaly",
    state: "firing",
    fired: true,
    silenced: false,
    members: [{ channel: "A", first_us: TS, last_us: TS, findings: 1, peak_severity: 4 }],
    first_us: TS,
    last_us: TS,
    first_finding: "a",
    last_finding: "a",
    findings: 1,
    peak_severity: 4,
    links: ["collapse-1-A"],
  };
  const bare = "2027-01-15 08:00:00.000  firing   anomaly   1 channel: A  " +
    "[severity 4, 1 finding]  anomaly-1-A";
  assert.is(formatIncident(i, TS), `${bare}  (linked collapse-1-A)`);
  assert.is(
    formatIncident(i, TS, { silenced: true, marks: ["acked by bo"], nowMs: TS / 1000 }),
    `${bare.slice(11)}  (silenced; linked collapse-1-A; acked by bo)`,
  );
});

test.run();
