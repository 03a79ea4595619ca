/**
 * The page budget: its arithmetic (Bonferroni over the samples watched, the union bound over a
 * group's channels), its settings, and what it does with the real anomaly detector's findings on a
 * quiet synthetic feed of many channels over simulated days against a fault injected on one
 * instance: the quiet days page nothing, the fault pages, on its instance.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import {
  budgetBits,
  budgetSeverity,
  type Census,
  defaultPagingConfig,
  evidenceBits,
  findingBits,
  incidentAlerts,
  isContextKind,
  pageMeasure,
  pageThreshold,
  parsePagingConfig,
} from "../../../actors/alerting/mod.ts";
import { anomalyFrameEvent, defaultAnomalyConfig } from "../../../actors/anomaly/mod.ts";
import { anomalyKernel, stepAnomaly } from "../../../actors/anomaly/mod.ts";
import {
  defaultIncidentConfig,
  findingOfEvent,
  incidentEventOf,
  IncidentStage,
} from "../../../actors/incidents/mod.ts";
import {
  decodeIncident,
  findingKindOf,
  findingTailBits,
  type Incident,
} from "../../../protocol/mod.ts";
import { Prng } from "../../../sim/prng/mod.ts";

const test = suite("page budget");

test("budgetBits() and pageThreshold() are Bonferroni's bound over the samples watched a day", () => {
  // One node exporter's 529 series at a 5 s scrape, one page a day.
  const node: Census = { channels: 529, samples_per_day: 529 * 17_280 };
  assert.ok(Math.abs(budgetBits(node, 1) - Math.log2(529 * 17_280)) < 1e-9);
  assert.ok(Math.abs(pageThreshold(node, 1) - 1 / (529 * 17_280)) < 1e-18);
  // Ten pages a day: a tenth as rare.
  assert.ok(Math.abs(pageThreshold(node, 10) - 10 / (529 * 17_280)) < 1e-17);
  // The score one anomaly must reach alone: above 1 here (no single score can), 0.908 for one
  // series at 5 s.
  const anomaly = findingKindOf("anomaly")!.tail!;
  assert.ok(pageMeasure(anomaly, node, 1) > 1);
  const one = { channels: 1, samples_per_day: 17_280 };
  assert.is(Number(pageMeasure(anomaly, one, 1).toFixed(3)), 0.908);
  // Fewer samples than the budget: the threshold is 1 (everything pages), never above.
  assert.is(pageThreshold({ channels: 1, samples_per_day: 0.5 }, 1), 1);
});

test("findingTailBits() reads a kind's declared tail: a score q is 10q + 5 bits or its band's Chebyshev bound if more, uncapped, the outright range rule its band's alone; a change point states none", () => {
  const anomaly = findingKindOf("anomaly")!;
  const body = (score: number, view: string, value = 80, lower = 95, upper = 105) => ({
    channel: "c",
    score,
    value,
    expected: (lower + upper) / 2,
    lower,
    upper,
    view,
  });
  assert.is(findingTailBits(anomaly, body(0.5, "level")), 10);
  assert.is(findingTailBits(anomaly, body(1, "jump")), 15);
  assert.is(findingTailBits(anomaly, body(3, "jump")), 15, "the score is capped at 1");
  // 20 below a band of 3 sd of 10/6 each side: k = 12, P <= 1 / 144.
  assert.is(findingTailBits(anomaly, body(1, "range")), 2 * Math.log2(12));
  // Far past a narrow band: k = 900 / (1 / 3), not capped at what a score can state, whatever
  // the view; a band of no width states no bound.
  assert.is(findingTailBits(anomaly, body(1, "range", 1000, 99, 101)), 2 * Math.log2(2700));
  assert.is(findingTailBits(anomaly, body(0.6, "level", 1000, 99, 101)), 2 * Math.log2(2700));
  assert.is(findingTailBits(anomaly, body(0.6, "level", 1000, 100, 100)), 11);
  assert.is(findingTailBits(anomaly, body(1, "range", 1000, 100, 100)), 5);
  assert.is(findingTailBits(findingKindOf("collapse")!, { channel: "c", severity: 9 }), undefined);
  assert.is(findingBits("anomaly", { measure: 1, bits: 7 }), 7);
  assert.is(findingBits("anomaly", { measure: 1 }), undefined, "a peak from before bits");
});

test("evidenceBits() pays for the channels and samples that could have been chosen: one channel is the per-sample bound", () => {
  const census: Census = { channels: 40, samples_per_day: 40 * 1440 };
  const o = { census, pagesPerDay: 1, windowS: 60 };
  const base = budgetBits(census, 1);
  assert.ok(Math.abs(evidenceBits([15], o) - (15 - base)) < 1e-9);
  // Two channels: less log2 C(39, 1), one sample of the window each (1 a minute), less log2 2.
  assert.ok(Math.abs(evidenceBits([15, 14], o) - (29 - base - Math.log2(39) - 1)) < 1e-9);
  // A weak third member does not take away what the two strongest show, beyond log2 3 / 2.
  assert.ok(evidenceBits([15, 14, 5], o) >= evidenceBits([15, 14], o) - Math.log2(1.5) - 1e-9);
  assert.is(evidenceBits([], o), -Infinity);
});

test("budgetSeverity() is decades past the budget: warning, high, critical; below it info or low", () => {
  const decade = Math.log2(10);
  assert.equal(
    [-2 * decade, -0.5 * decade, 0, 0.99 * decade, 1.5 * decade, 2 * decade, 9 * decade].map(
      budgetSeverity,
    ),
    [1, 2, 3, 3, 4, 5, 5],
  );
});

test("parsePagingConfig() takes the defaults, and names a bad field and its value", () => {
  assert.equal(parsePagingConfig(undefined), defaultPagingConfig);
  assert.equal(parsePagingConfig({ pages_per_day: 2, group_by: ["cluster"] }).group_by, [
    "cluster",
  ]);
  const bad: Array<[unknown, string]> = [
    [{ pages_per_day: 0 }, 'Field "alerting.paging.pages_per_day" must be > 0, got 0'],
    [{ group_by: ["a-b"] }, 'Field "alerting.paging.group_by" must be a list of at most 16 names'],
    [{ below_budget: "page" }, "alerting.paging.below_budget"],
    [{ budgets: true }, "budgets"],
  ];
  for (const [raw, message] of bad) {
    try {
      parsePagingConfig(raw);
      assert.unreachable(`${JSON.stringify(raw)} was taken`);
    } catch (err) {
      assert.match((err as Error).message, message);
    }
  }
  assert.ok(isContextKind("collapse", defaultPagingConfig), "change points are context");
  assert.ok(isContextKind("coherence", defaultPagingConfig));
  assert.not.ok(isContextKind("anomaly", defaultPagingConfig));
  assert.not.ok(isContextKind("collapse", parsePagingConfig({ page_kinds: ["collapse"] })));
  assert.ok(isContextKind("anomaly", parsePagingConfig({ context_kinds: ["anomaly"] })));
});

test("incidentAlerts(): a kind the budget cannot judge pages by its own severity once fired; a context kind sends nothing", () => {
  const incident = (kind: string, peak?: { measure: number; bits: number }): Incident => ({
    id: `${kind}-1-c`,
    kind,
    state: "firing",
    fired: true,
    silenced: false,
    members: ["c", "d"].map((channel) => ({
      channel,
      first_us: 1,
      last_us: 2,
      findings: 1,
      peak_severity: 2,
      ...(peak ? { peak } : {}),
    })),
    first_us: 1,
    last_us: 2,
    first_finding: "f1",
    last_finding: "f2",
    findings: 2,
    peak_severity: 2,
    links: [],
  });
  const census: Census = { channels: 1000, samples_per_day: 1e9 };
  const alerts = (i: Incident, paging: Record<string, unknown>) =>
    incidentAlerts(i, {
      dashboardUrl: "",
      session: "main",
      paging: parsePagingConfig(paging),
      census,
      windowS: 60,
    }).map((a) => [a.key, a.page, a.alert.labels.severity]);
  assert.equal(alerts(incident("collapse"), {}), [], "context by default");
  assert.equal(alerts(incident("collapse"), { page_kinds: ["collapse"] }), [
    ["collapse-1-c", true, "low"],
  ]);
  const weak = incident("anomaly", { measure: 0.5, bits: 10 });
  assert.equal(alerts(weak, {}), [], "far below the budget: not sent");
  assert.equal(alerts(weak, { below_budget: "info" }), [["anomaly-1-c", false, "info"]]);
  assert.equal(alerts(weak, { budget: false }), [["anomaly-1-c", true, "low"]]);
  assert.equal(
    alerts(incident("anomaly"), {}),
    [["anomaly-1-c", true, "low"]],
    "no peaks: its own",
  );
});

test("incidentAlerts(): a counter's rate is never expected below 0; a gauge's band is as stated", () => {
  const member = (channel: string, lower: number, upper: number) => ({
    channel,
    first_us: 1,
    last_us: 2,
    findings: 1,
    peak_severity: 4,
    peak: { measure: 1, bits: 16, value: 0.8, expected: 0.01, lower, upper },
  });
  const incident: Incident = {
    id: "anomaly-1-c",
    kind: "anomaly",
    state: "firing",
    fired: true,
    silenced: false,
    members: [
      member("cpu", -0.02, 0.04),
      member("temp", -0.02, 0.04),
      member("busy", -0.09, -0.01),
    ],
    first_us: 1,
    last_us: 2,
    first_finding: "f1",
    last_finding: "f2",
    findings: 3,
    peak_severity: 4,
    links: [],
  };
  const labels: Record<string, Record<string, string>> = {
    cpu: { __name__: "node_cpu_seconds_total", instance: "n1", job: "node" },
    temp: { __name__: "node_hwmon_temp_celsius", instance: "n1", job: "node" },
    busy: { __name__: "node_disk_io_time_seconds_total", instance: "n1", job: "node" },
  };
  const [alert] = incidentAlerts(incident, {
    dashboardUrl: "",
    session: "main",
    paging: parsePagingConfig({ below_budget: "info" }),
    census: { channels: 3, samples_per_day: 3 * 17_280 },
    windowS: 60,
    sourceLabels: (c) => labels[c],
  });
  const lines = alert!.alert.annotations.description!.split("\n");
  assert.match(lines.find((l) => l.startsWith("cpu:"))!, /expected 0 to 0\.04 /);
  assert.match(lines.find((l) => l.startsWith("temp:"))!, /expected -0\.02 to 0\.04 /);
  assert.match(lines.find((l) => l.startsWith("busy:"))!, /expected 0 to 0 /);
});

const MINUTE_US = 60_000_000;
const T0 = Date.UTC(2026, 0, 5) * 1000;
const INSTANCES = ["n1", "n2", "n3", "n4"];
const METRICS = ["cpu", "load", "mem", "disk", "net", "ctx", "procs", "fs", "iops", "temp"];
const LABELS = new Map<string, Record<string, string>>();
for (const instance of INSTANCES) {
  for (const metric of METRICS) {
    LABELS.set(`${instance}-${metric}`, { instance, job: "node", __name__: metric });
  }
}

/**
 * 40 channels (4 instances × 10 series) sampled once a minute for `days`, each a daily cycle with
 * noise; from `faultAt` for 30 minutes n2's cpu, load, procs and ctx step up by 30 sd.
 */
function feed(days: number, seed: number, faultAt?: number): { incidents: Incident[] } {
  const prng = new Prng(seed);
  const n = days * 1440;
  const stage = new IncidentStage({
    config: defaultIncidentConfig,
    publish: (_s, data) => {
      const { incident } = decodeIncident(data);
      byId.set(incident.id, incident);
    },
  });
  const byId = new Map<string, Incident>();
  const findings = [];
  for (const channel of LABELS.keys()) {
    const st = anomalyKernel.init(defaultAnomalyConfig, channel);
    const t = new Float64Array(n), v = new Float64Array(n);
    const level = 50 + prng.uniform(0, 50), amp = prng.uniform(0, 10);
    const faulty = faultAt !== undefined && channel.startsWith("n2-") &&
      /-(cpu|load|procs|ctx)$/.test(channel);
    for (let i = 0; i < n; i++) {
      t[i] = T0 + i * MINUTE_US;
      v[i] = level + amp * Math.sin((2 * Math.PI * i) / 1440) + prng.normal();
      if (faulty && i >= faultAt! && i < faultAt! + 30) v[i]! += 30;
    }
    const frame = { channel, seq0: 0, t, v };
    const event = anomalyFrameEvent(stepAnomaly(st, frame), frame);
    for (const c of event?.changes ?? []) {
      if (!c.open) continue;
      const body = { channel, ...c };
      delete (body as { open?: boolean }).open;
      delete (body as { ts?: number }).ts;
      findings.push(
        findingOfEvent({ id: `${channel}:${c.ts}`, ts_us: c.ts }, incidentEventOf("anomaly", body)),
      );
    }
  }
  findings.sort((a, b) => a.ts_us - b.ts_us || (a.id < b.id ? -1 : 1));
  for (const f of findings) stage.takeFinding(f);
  stage.flush(T0 + n * MINUTE_US + 3_600_000_000);
  return { incidents: [...byId.values()] };
}

function pages(incidents: Incident[], census: Census) {
  return incidents.filter((i) => i.fired).flatMap((i) =>
    incidentAlerts(i, {
      dashboardUrl: "",
      session: "main",
      paging: defaultPagingConfig,
      census,
      windowS: defaultIncidentConfig.group_window_us / 1e6,
      sourceLabels: (c) => LABELS.get(c),
    }).filter((a) => a.page).map((a) => ({ ...a, incident: i }))
  );
}

test("the real detector on 40 quiet channels over 4 simulated days pages nothing; a fault on one instance pages, on that instance", () => {
  const days = 4, seed = 68;
  const census: Census = { channels: LABELS.size, samples_per_day: LABELS.size * 1440 };
  const quiet = feed(days, seed);
  const fired = quiet.incidents.filter((i) => i.fired).length;
  assert.ok(fired > 10, `seed ${seed}: the quiet feed's findings fire incidents (${fired})`);
  assert.equal(pages(quiet.incidents, census).map((p) => p.key), [], `seed ${seed}: no page`);

  const faultAt = 3 * 1440 + 600;
  const faulty = feed(days, seed, faultAt);
  const paged = pages(faulty.incidents, census);
  assert.ok(paged.length >= 1, `seed ${seed}: the fault paged`);
  const from = T0 + faultAt * MINUTE_US;
  for (const p of paged) {
    assert.ok(
      p.incident.first_us >= from && p.incident.first_us <= from + 30 * MINUTE_US,
      `seed ${seed}: the page is in the fault's window`,
    );
    assert.is(p.alert.labels.instance, "n2");
    assert.is(p.alert.labels.job, "node");
    assert.is(p.alert.labels.page, "true");
    assert.match(p.alert.annotations.description!, /n2-(cpu|load|procs|ctx): value \d/);
  }
});

test.run();
