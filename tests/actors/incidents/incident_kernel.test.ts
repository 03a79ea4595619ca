import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  defaultIncidentConfig,
  encodeIncidentUpdate,
  findingOfEvent,
  flushIncidents,
  type IncidentFinding,
  type IncidentUpdate,
  initIncidents,
  legacyIncidentConfig,
  recordedIncidentBase,
  stepIncidents,
} from "../../../actors/incidents/mod.ts";
import { Prng } from "../../../sim/prng/mod.ts";

const test = suite("incident_kernel");

const T0 = 1_763_900_000_000_000;
const CHANNELS = ["SYM001", "SYM002", "SYM003", "SYM004", "SYM005", "SYM006", "SYM007", "SYM008"];

/** A market-wide crash: an anomaly on each of 8 channels within 1.1 s. */
function crash(at: number, severity = 5): IncidentFinding[] {
  return CHANNELS.map((channel, i) => ({
    id: `in${i}:anomaly:${channel}:0`,
    kind: "anomaly" as const,
    channel,
    ts_us: at + i * 150_000,
    severity,
  }));
}

function run(findings: IncidentFinding[], config = defaultIncidentConfig): IncidentUpdate[] {
  const s = initIncidents(config);
  const out: IncidentUpdate[] = [];
  for (const f of findings) out.push(...stepIncidents(s, f));
  out.push(...flushIncidents(s, Math.max(...findings.map((f) => f.ts_us)) + 3_600_000_000));
  return out;
}

function lastOf(updates: IncidentUpdate[]) {
  const byId = new Map<string, IncidentUpdate["incident"]>();
  for (const u of updates) byId.set(u.incident.id, u.incident);
  return [...byId.values()];
}

test("a crash over 8 channels is one incident with 8 members that fires, then resolves", () => {
  const updates = run(crash(T0));
  const incidents = lastOf(updates);
  assert.is(incidents.length, 1);
  const i = incidents[0]!;
  assert.is(i.id, `anomaly-${T0}-SYM001`);
  assert.equal(i.members.map((m) => m.channel), CHANNELS);
  assert.is(i.findings, 8);
  assert.is(i.peak_severity, 5);
  assert.is(i.state, "resolved");
  assert.ok(i.fired);
  const states = updates.map((u) => u.incident.state);
  assert.ok(states.indexOf("pending") < states.indexOf("firing"));
  assert.ok(states.indexOf("firing") < states.indexOf("resolved"));
  const firing = updates.find((u) => u.incident.state === "firing")!;
  assert.ok(firing.ts_us >= T0 + defaultIncidentConfig.for_us, "fires after its for duration");
});

test("the same findings arriving in any order within the reorder bound give the same bytes", () => {
  const findings = [...crash(T0), ...crash(T0 + 120_000_000, 3)];
  const bytes = (us: IncidentUpdate[]) => us.map((u) => encodeIncidentUpdate(u).data);
  const want = bytes(run(findings));
  const seed = 29;
  const prng = new Prng(seed);
  for (let round = 0; round < 20; round++) {
    // Swap neighbours less than the reorder bound apart: arrival order as instances interleave.
    const shuffled = [...findings];
    for (let i = 0; i < shuffled.length * 3; i++) {
      const k = Math.floor(prng.next() * (shuffled.length - 1));
      const a = shuffled[k]!, b = shuffled[k + 1]!;
      if (Math.abs(a.ts_us - b.ts_us) < defaultIncidentConfig.reorder_us) {
        shuffled[k] = b;
        shuffled[k + 1] = a;
      }
    }
    assert.equal(bytes(run(shuffled)), want, `seed ${seed}, round ${round}`);
  }
});

test("a lone low-severity finding stays pending and resolves without firing", () => {
  const incidents = lastOf(run([{
    id: "x:anomaly:SYM001:0",
    kind: "anomaly",
    channel: "SYM001",
    ts_us: T0,
    severity: 1,
  }]));
  assert.is(incidents.length, 1);
  assert.is(incidents[0]!.state, "resolved");
  assert.is(incidents[0]!.fired, false);
});

test("an anomaly and a collapse on one channel at the same moment are linked both ways", () => {
  const findings: IncidentFinding[] = [
    ...crash(T0),
    {
      id: "c:collapse:SYM003:0",
      kind: "collapse",
      channel: "SYM003",
      ts_us: T0 + 900_000,
      severity: 4,
    },
    {
      id: "c:collapse:SYM009:0",
      kind: "collapse",
      channel: "OTHER",
      ts_us: T0 + 2 * defaultIncidentConfig.group_window_us, // an incident of its own
      severity: 4,
    },
  ];
  const incidents = lastOf(run(findings));
  const anomaly = incidents.find((i) => i.kind === "anomaly")!;
  const collapse = incidents.find((i) =>
    i.id.startsWith("collapse") && i.members[0]!.channel === "SYM003"
  )!;
  assert.equal(anomaly.links, [collapse.id]);
  assert.equal(collapse.links, [anomaly.id]);
  const lone = incidents.find((i) => i.members[0]!.channel === "OTHER")!;
  assert.equal(lone.links, []);
});

test("a jump's collapse, confirmed 7 s after its change, links to the jump's anomaly", () => {
  // troupe bench incidents' market: a jump's collapse is confirmed 6-7 ticks (s) after its change
  // began; measured from its confirmation, it was an incident of its own, one too many per jump.
  const anomaly: IncidentFinding = {
    id: "a:anomaly:SYM003:0",
    kind: "anomaly",
    channel: "SYM003",
    ts_us: T0 + 1_000_000,
    severity: 4,
  };
  const collapse: IncidentFinding = {
    id: "c:collapse:SYM003:0",
    kind: "collapse",
    channel: "SYM003",
    ts_us: T0 + 8_000_000,
    at_us: T0,
    severity: 3,
  };
  const incidents = lastOf(run([anomaly, collapse]));
  assert.is(incidents.length, 2);
  const [a, c] = [incidents.find((i) => i.kind === "anomaly")!, incidents[1]!];
  assert.equal(a.links, [c.id]);
  assert.equal(c.links, [a.id]);
  // Without its moment, the collapse is 7 s from the anomaly: beyond the 5 s link window.
  const confirmed: IncidentFinding = { ...anomaly, id: collapse.id, kind: "collapse" };
  confirmed.ts_us = collapse.ts_us;
  const apart = lastOf(run([anomaly, confirmed]));
  assert.ok(apart.every((i) => i.links.length === 0));
});

test("findingOfEvent() takes a collapse's moment from its change_ts", () => {
  const head = { id: "c", channel: "SYM001", ts_us: T0 + 7_000_000 };
  const collapse = {
    channel: "SYM001",
    change_ts: T0,
    change_index: 70,
    delay_samples: 7,
    mean_before: 1,
    mean_after: 2,
    level_before: 1,
    level_after: 2,
    spread_before: 0.5,
    spread_after: 0.5,
    direction: "up" as const,
    severity: 3,
  };
  const f = findingOfEvent(head, { kind: "collapse", body: collapse });
  assert.is(f.at_us, T0);
  assert.is(f.severity, 3);
  const anomaly = { channel: "SYM001", score: 0.9, value: 3, expected: 1, lower: 0, upper: 2 };
  assert.is(findingOfEvent(head, { kind: "anomaly", body: anomaly }).at_us, undefined);
});

test("a crash's collapses, confirmed over 8 s, are one incident: grouped by their change time", () => {
  const collapses: IncidentFinding[] = CHANNELS.map((channel, i) => ({
    id: `c${i}:collapse:${channel}:0`,
    kind: "collapse" as const,
    channel,
    ts_us: T0 + 2_000_000 + i * 1_000_000,
    at_us: T0 + i * 50_000,
    severity: 4,
  }));
  const incidents = lastOf(run(collapses));
  assert.is(incidents.length, 1, incidents.map((i) => i.id).join(", "));
  assert.is(incidents[0]!.members.length, 8);
});

test("a late finding is grouped by its own time: the earliest moves first_us, one far earlier opens its own", () => {
  // Frames of 100 one-second ticks (troupe bench incidents) hand one channel's finding over after
  // another's 44 s later: it joined that incident whatever its time, and the incident's span, from
  // the later finding, missed the jump the late one was about.
  const f = (channel: string, ts_us: number): IncidentFinding => ({
    id: `a:anomaly:${channel}:${ts_us}`,
    kind: "anomaly",
    channel,
    ts_us,
    severity: 5,
  });
  const grouped = lastOf(run([f("SYM004", T0 + 44_000_000), f("SYM007", T0 + 41_000_000)]));
  assert.is(grouped.length, 1);
  assert.is(grouped[0]!.first_us, T0 + 41_000_000);
  // 64 s earlier: beyond the grouping window (a minute) either side of the incident's first.
  const apart = lastOf(run([f("SYM004", T0 + 64_000_000), f("SYM007", T0)]));
  assert.equal(apart.map((i) => [i.id, i.first_us]).sort(), [
    [`anomaly-${T0}-SYM007`, T0],
    [`anomaly-${T0 + 64_000_000}-SYM004`, T0 + 64_000_000],
  ]);
});

test("findings past the grouping window open a new incident, a member's repeat too, linked", () => {
  const late: IncidentFinding = {
    id: "late:anomaly:SYM009:0",
    kind: "anomaly",
    channel: "SYM009",
    ts_us: T0 + defaultIncidentConfig.group_window_us + 1,
    severity: 5,
  };
  // SYM001 again 40 s after the crash (within the window) holds the crash's incident open 30 s.
  const again: IncidentFinding = { ...crash(T0)[0]!, id: "again", ts_us: T0 + 40_000_000 };
  const repeat: IncidentFinding = { ...late, id: "rep:anomaly:SYM001:0", channel: "SYM001" };
  const incidents = lastOf(run([...crash(T0), again, late, repeat]));
  assert.is(incidents.length, 2);
  assert.is(incidents[0]!.members.length, 8);
  assert.is(incidents[0]!.members[0]!.findings, 2);
  assert.equal(incidents[1]!.members.map((m) => m.channel), ["SYM001", "SYM009"]);
  // SYM001's repeat continues the crash's incident: the two are linked both ways.
  assert.equal(incidents[0]!.links, [incidents[1]!.id]);
  assert.equal(incidents[1]!.links, [incidents[0]!.id]);
  // Under the rule before issue 29 (a recording's header without member_joins), it joined its own.
  const after = T0 + legacyIncidentConfig.group_window_us + 1;
  const legacy = lastOf(
    run(
      [...crash(T0), { ...late, ts_us: after }, { ...repeat, ts_us: after }],
      legacyIncidentConfig,
    ),
  );
  assert.is(legacy.length, 2);
  assert.is(legacy[0]!.members[0]!.findings, 2);
  assert.equal(legacy[1]!.members.map((m) => m.channel), ["SYM009"]);
});

test("a coherence group's return to normal opens no incident; it joins its group's open one", () => {
  const coherence = (id: string, ts_us: number, opens?: boolean): IncidentFinding => ({
    id,
    kind: "coherence",
    channel: "all",
    ts_us,
    severity: 2,
    ...(opens === undefined ? {} : { opens }),
  });
  const alone = lastOf(run([coherence("n", T0, false)]));
  assert.equal(alone, []);
  const episode = lastOf(run([coherence("c", T0), coherence("n", T0 + 600_000_000, false)]));
  assert.is(episode.length, 1, "the return came after the episode resolved: none for it");
  assert.is(episode[0]!.findings, 1);
  const quick = lastOf(run([coherence("c", T0), coherence("n", T0 + 10_000_000, false)]));
  assert.is(quick.length, 1);
  assert.is(quick[0]!.findings, 2);
});

test("a coherent group's incident stays open until its return to normal, and a spell inside is one", () => {
  // Issue 29: a group coherent for longer than hold_us resolved its incident 30 s after it turned
  // coherent; a second stressed spell that began before the group returned to normal had no
  // incident at all (no new finding), and the return was passed over.
  const body = (state: "coherent" | "normal", from: "coherent" | "normal") => ({
    group: "all",
    state,
    from,
    ratio: 0.8,
    shift: state === "coherent" ? 2.5 : 0.3,
    top_channels: [],
  });
  const coherent = findingOfEvent({ id: "c", channel: "all", ts_us: T0 }, {
    kind: "coherence",
    body: body("coherent", "normal"),
  });
  const back = findingOfEvent({ id: "n", channel: "all", ts_us: T0 + 600_000_000 }, {
    kind: "coherence",
    body: body("normal", "coherent"),
  });
  assert.is(coherent.ongoing, true);
  assert.is(back.ongoing, undefined);
  const updates = run([coherent, back]);
  const incidents = lastOf(updates);
  assert.is(incidents.length, 1);
  const i = incidents[0]!;
  assert.is(i.findings, 2, "the return to normal joined the episode's incident");
  assert.is(i.first_us, T0);
  assert.is(i.last_us, T0 + 600_000_000);
  assert.is(i.state, "resolved");
  const resolved = updates.find((u) => u.incident.state === "resolved")!;
  assert.is(resolved.ts_us, T0 + 600_000_000 + defaultIncidentConfig.hold_us);
  // A return that never comes (the feed stopped): the episode holds it episode_hold_max_us.
  const alone = run([coherent]).find((u) => u.incident.state === "resolved")!;
  assert.is(alone.ts_us, T0 + defaultIncidentConfig.episode_hold_max_us);
});

test("each member keeps its strongest finding's peak; a legacy stage and a recording without member_peaks carry none", () => {
  const peaked = (score: number, ts_us: number, value: number): IncidentFinding => ({
    id: `p${ts_us}`,
    kind: "anomaly",
    channel: "SYM001",
    ts_us,
    severity: 5,
    peak: { measure: score, value, expected: 100, lower: 95, upper: 105 },
  });
  const findings = [
    peaked(0.9, T0, 300),
    peaked(0.97, T0 + 1_000_000, 900),
    peaked(0.95, T0 + 2e6, 5),
  ];
  const last = lastOf(run(findings));
  assert.equal(last[0]!.members[0]!.peak, {
    measure: 0.97,
    value: 900,
    expected: 100,
    lower: 95,
    upper: 105,
  });
  assert.is(lastOf(run(findings, legacyIncidentConfig))[0]!.members[0]!.peak, undefined);
  const recorded = { ...defaultIncidentConfig } as Record<string, unknown>;
  delete recorded.member_peaks;
  assert.is(recordedIncidentBase(recorded).member_peaks, false);
  assert.is(recordedIncidentBase(defaultIncidentConfig).member_peaks, true);
});

test.run();
