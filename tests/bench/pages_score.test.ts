import { suite } from "uvu";
import * as assert from "uvu/assert";
import { type DeliveredPage, type FaultWindow, scorePages } from "../../bench/_pages_score.ts";
import { isPage, PAGE_DELAY_BAR_S, pagesReport } from "../../bench/_pages_rows.ts";
import type { LoggedAlert } from "../../bench/_alert_log.ts";

const test = suite("bench pages scoring");
const S = 1000;
const T0 = 1_800_000_000_000;
const NODE = { instance: "127.0.0.1:9100", job: "node" };

function page(
  fingerprint: string,
  atS: number,
  labels: Record<string, string> = NODE,
): DeliveredPage {
  return { fingerprint, receivedMs: T0 + atS * S, labels };
}

/** Two faults of 60 s, at +300 s and +600 s; the live span 0 to 1200 s. */
const FAULTS: FaultWindow[] = [
  { name: "cpu", startMs: T0 + 300 * S, endMs: T0 + 360 * S },
  { name: "gauge", startMs: T0 + 600 * S, endMs: T0 + 660 * S },
];
const OPTIONS = {
  liveStartMs: T0,
  liveEndMs: T0 + 1200 * S,
  graceMs: 60 * S,
  nodes: 1,
  findings: 40,
};

test("scorePages() gives a page to the fault whose window and grace hold it, else quiet", () => {
  const s = scorePages(
    [
      page("a", 100), // quiet
      page("b", 312), // cpu, 12 s in
      page("c", 410), // cpu's grace ends at 420: still cpu's
      page("d", 421), // quiet
      page("e", 900), // quiet
    ],
    FAULTS,
    OPTIONS,
  );
  assert.equal(s.faults.map((f) => [f.name, f.delayS, f.pages.length]), [
    ["cpu", 12, 2],
    ["gauge", null, 0],
  ]);
  assert.equal(s.quietPages.map((p) => p.fingerprint), ["a", "d", "e"]);
  // 1200 s live less 2 x (60 s fault + 60 s grace): 960 s of quiet.
  assert.equal(s.quietHours, 960 / 3600);
  assert.equal(s.pagesPerNodeHour, 3 / (960 / 3600));
  assert.equal(s.faultsPaged, 1);
  assert.equal(s.delayS50, 12);
  assert.equal(s.delayMaxS, 12);
  // 40 findings over 1200 s of one node: 120 an hour.
  assert.equal(s.findingsPerNodeHour, 120);
});

test("scorePages() times a page from the fault's load whole too, 0 for one before it", () => {
  // The balloon fills for 100 s: a page 110 s in is 10 s after it was whole.
  const memory = {
    name: "memory",
    startMs: T0 + 300 * S,
    endMs: T0 + 460 * S,
    wholeMs: T0 + 400 * S,
  };
  const gauge = {
    name: "gauge",
    startMs: T0 + 600 * S,
    endMs: T0 + 660 * S,
    wholeMs: T0 + 610 * S,
  };
  const s = scorePages([page("m", 410), page("g", 605)], [memory, gauge], OPTIONS);
  assert.equal(s.faults.map((f) => [f.name, f.delayS, f.delayAfterWholeS]), [
    ["memory", 110, 10],
    ["gauge", 5, 0],
  ]);
  assert.is(s.delayMaxS, 110);
  assert.is(s.delayAfterWholeMaxS, 10);
  // Without wholeMs a fault's load is whole at its start.
  const plain = scorePages([page("b", 312)], FAULTS, OPTIONS);
  assert.equal(plain.faults.map((f) => f.delayAfterWholeS), [12, null]);
  assert.ok(Number.isNaN(scorePages([], FAULTS, OPTIONS).delayAfterWholeMaxS));
  const report = pagesReport([alert({ atS: 410 })], [memory], {
    bench: "pages",
    liveStartMs: OPTIONS.liveStartMs,
    liveEndMs: OPTIONS.liveEndMs,
    graceMs: OPTIONS.graceMs,
    findings: new Map(),
    historyFindings: 0,
  });
  assert.match(
    report.lines.join("\n"),
    /fault memory: paged after 110\.0 s, 10\.0 s after its load was whole \(100\.0 s in\)/,
  );
});

test("scorePages() counts an alert delivered again once, at its first delivery", () => {
  const s = scorePages([page("b", 500), page("b", 330), page("b", 620)], FAULTS, OPTIONS);
  assert.equal(s.faults[0]!.delayS, 30);
  assert.equal(s.faults[1]!.delayS, null);
  assert.equal(s.quietPages.length, 0);
});

test("scorePages() takes overlapping fault windows once and clips them to the live span", () => {
  const faults: FaultWindow[] = [
    { name: "x", startMs: T0 - 100 * S, endMs: T0 + 50 * S },
    { name: "y", startMs: T0 + 80 * S, endMs: T0 + 200 * S },
  ];
  const s = scorePages([], faults, { ...OPTIONS, liveEndMs: T0 + 1000 * S });
  // Windows with grace: [-100, 110] and [80, 260]: live 0 to 260 s taken, 740 s of quiet.
  assert.equal(s.quietHours, 740 / 3600);
  assert.equal(s.pagesPerNodeHour, 0);
  assert.ok(Number.isNaN(s.delayS50));
  assert.ok(Number.isNaN(s.withInstanceShare));
});

test("scorePages() gives the share of pages carrying both instance and job", () => {
  const s = scorePages(
    [
      page("a", 100),
      page("b", 200, { job: "node" }),
      page("c", 300, { instance: "x", job: "" }),
      page("d", 400),
    ],
    FAULTS,
    OPTIONS,
  );
  assert.equal(s.withInstanceShare, 0.5);
});

function alert(over: Partial<LoggedAlert> & { atS: number }): LoggedAlert {
  const { atS, ...rest } = over;
  return {
    status: "firing",
    labels: { alertname: "TroupeAnomaly", page: "true", severity: "high", ...NODE },
    annotations: { budget_bits: "3.2" },
    startsAt: new Date(T0 + atS * S).toISOString(),
    endsAt: "0001-01-01T00:00:00Z",
    generatorURL: "",
    fingerprint: `fp-${atS}`,
    route: "page",
    receivedMs: T0 + atS * S,
    ...rest,
  };
}

test("isPage() takes firing alerts past the budget on the pager route only", () => {
  assert.ok(isPage(alert({ atS: 1 })));
  assert.not.ok(isPage(alert({ atS: 1, status: "resolved" })));
  assert.not.ok(isPage(alert({ atS: 1, route: "info" })));
  assert.not.ok(isPage(alert({ atS: 1, labels: { ...NODE, page: "false" } })));
});

test("pagesReport() makes rows against the bars and says how short an unpaged fault fell", () => {
  const below = (atS: number, bits: string, description: string) =>
    alert({
      atS,
      route: "info",
      labels: { page: "false", severity: "low", ...NODE },
      annotations: { budget_bits: bits, description },
    });
  const report = pagesReport(
    [
      alert({
        atS: 100,
        labels: { page: "true", severity: "high", metric: "node_load1", ...NODE },
      }),
      alert({ atS: 330, annotations: { channels: "a, b" } }),
      alert({ atS: 340, status: "resolved" }),
      below(610, "-4.5", "bench_pages_gauge: value 1000"),
      below(620, "-1.5", "bench_pages_gauge: value 1000 expected 99 to 101"),
      below(1000, "9", "not in the gauge's window"),
    ],
    FAULTS,
    {
      bench: "pages",
      liveStartMs: OPTIONS.liveStartMs,
      liveEndMs: OPTIONS.liveEndMs,
      graceMs: OPTIONS.graceMs,
      findings: new Map([["anomaly", 30], ["collapse", 10]]),
      historyFindings: 7,
    },
  );
  const rows = Object.fromEntries(report.rows.map((r) => [r.metric, [r.troupe, r.baseline]]));
  assert.equal(rows, {
    pages_per_node_hour: [1 / (960 / 3600), 0],
    pages_in_quiet: [1, 0],
    faults_paged: [1, 2],
    page_delay_s_p50: [30, PAGE_DELAY_BAR_S],
    page_delay_s_max: [30, PAGE_DELAY_BAR_S],
    page_delay_s_after_load_max: [30, PAGE_DELAY_BAR_S],
    pages_with_instance_label: [1, 1],
    findings_per_node_hour: [120, null],
  });
  const text = report.lines.join("\n");
  assert.match(text, /page at \+100 s \(in the quiet\): high, .*series node_load1/);
  assert.match(text, /page at \+330 s \(cpu\): .*series a, b/);
  assert.match(text, /fault cpu: paged after 30\.0 s/);
  assert.match(
    text,
    /fault gauge: not paged; 2 alerts below the budget in its window; the strongest -1\.5 bits/,
  );
  assert.match(text, /fault gauge: .*expected 99 to 101/);
  assert.not.match(text, /fault gauge: .*not in the gauge's window/);
  assert.match(text, /findings anomaly 30, collapse 10, and 7 on the history read/);
});

test.run();
