/**
 * `troupe bench pages`'s rows and report lines from the alerts the webhooks logged, the faults and
 * the findings counted. Each row's baseline is the issue's bar where it has one (0 pages in the
 * quiet; every fault paged, within 60 s, with `instance` and `job`). The lines name each page's
 * series and, for each fault not paged, the strongest group of its window that Alertmanager got
 * below the budget (its `budget_bits`, how far short of paging it fell), or that none came.
 */
import { type BenchRow, row } from "./_bench.ts";
import type { LoggedAlert } from "./_alert_log.ts";
import {
  type DeliveredPage,
  type FaultWindow,
  type PageScore,
  scorePages,
} from "./_pages_score.ts";

/** The bar on a page's delay, s. */
export const PAGE_DELAY_BAR_S = 60;
/** Nodes the bench watches. */
const NODES = 1;

/** What the report needs besides the alerts and faults. */
export interface PagesReportOptions {
  bench: string;
  liveStartMs: number;
  liveEndMs: number;
  graceMs: number;
  /** Findings dated in the live span, by kind; and those of the history read. */
  findings: ReadonlyMap<string, number>;
  historyFindings: number;
}

/** The rows, and the lines that explain them. */
export interface PagesReport {
  rows: BenchRow[];
  lines: string[];
  score: PageScore;
}

/** Whether an alert is a page as the pager gets it: firing, past the budget, routed as a page. */
export function isPage(a: LoggedAlert): boolean {
  return a.route === "page" && a.status === "firing" && a.labels.page === "true";
}

/** The series an alert names: its metric (one series), or its channels. */
export function seriesNamed(
  a: { labels: Record<string, string>; annotations: Record<string, string> },
): string {
  return a.labels.metric ?? a.annotations.channels ?? a.labels.channel ?? "?";
}

/** Scores the run and makes its rows and lines. */
export function pagesReport(
  alerts: readonly LoggedAlert[],
  faults: readonly FaultWindow[],
  o: PagesReportOptions,
): PagesReport {
  const pages = alerts.filter(isPage);
  const findings = [...o.findings.values()].reduce((a, b) => a + b, 0);
  const score = scorePages(pages, faults, {
    liveStartMs: o.liveStartMs,
    liveEndMs: o.liveEndMs,
    graceMs: o.graceMs,
    nodes: NODES,
    findings,
  });
  const figure = (
    metric: string,
    unit: string,
    value: number,
    bar: number | null,
    better: "higher" | "lower",
  ) =>
    row({
      bench: o.bench,
      metric,
      unit,
      troupe: value,
      baseline: bar,
      better,
      reference: bar === null ? "-" : "the issue's bar",
    });
  const rows = [
    figure("pages_per_node_hour", "pages/h", score.pagesPerNodeHour, 0, "lower"),
    figure("pages_in_quiet", "pages", score.quietPages.length, 0, "lower"),
    figure("faults_paged", "faults", score.faultsPaged, faults.length, "higher"),
    figure("page_delay_s_p50", "s", score.delayS50, PAGE_DELAY_BAR_S, "lower"),
    figure("page_delay_s_max", "s", score.delayMaxS, PAGE_DELAY_BAR_S, "lower"),
    figure(
      "page_delay_s_after_load_max",
      "s",
      score.delayAfterWholeMaxS,
      PAGE_DELAY_BAR_S,
      "lower",
    ),
    figure("pages_with_instance_label", "share", score.withInstanceShare, 1, "higher"),
    figure("findings_per_node_hour", "findings/h", score.findingsPerNodeHour, null, "lower"),
  ];
  return { rows, lines: reportLines(alerts, faults, score, o), score };
}

function reportLines(
  alerts: readonly LoggedAlert[],
  faults: readonly FaultWindow[],
  score: PageScore,
  o: PagesReportOptions,
): string[] {
  const liveS = (o.liveEndMs - o.liveStartMs) / 1000;
  const byKind = [...o.findings].map(([k, n]) => `${k} ${n}`).join(", ") || "none";
  const pages = new Set(alerts.filter(isPage).map((a) => a.fingerprint)).size;
  const info = alerts.filter((a) => a.route === "info" && a.status === "firing");
  const lines = [
    `live ${liveS.toFixed(0)} s, of it quiet ${(score.quietHours * 3600).toFixed(0)} s (less ` +
    `each fault and its ${o.graceMs / 1000} s grace); ${pages} pages, ` +
    `${score.quietPages.length} of them in the quiet; ` +
    `${new Set(info.map((a) => a.fingerprint)).size} groups below the budget (info route); ` +
    `findings ${byKind}, and ${o.historyFindings} on the history read`,
  ];
  const faultOf = (p: DeliveredPage) =>
    score.faults.find((f) => f.pages.some((q) => q.fingerprint === p.fingerprint))?.name;
  const firstPages = new Map<string, LoggedAlert>();
  for (const a of alerts.filter(isPage)) {
    if (!firstPages.has(a.fingerprint)) firstPages.set(a.fingerprint, a);
  }
  for (const a of firstPages.values()) {
    lines.push(
      `page at +${((a.receivedMs - o.liveStartMs) / 1000).toFixed(0)} s ` +
        `(${faultOf(a) ?? "in the quiet"}): ${a.labels.severity ?? "?"}, budget_bits ` +
        `${a.annotations.budget_bits ?? "?"}, instance ${a.labels.instance ?? "-"} job ` +
        `${a.labels.job ?? "-"}; series ${seriesNamed(a)}`,
    );
  }
  for (const f of score.faults) {
    const w = faults.find((x) => x.name === f.name)!;
    if (f.delayS !== null) {
      // A load whole within a second (a spinner's start) is not worth saying.
      const built = w.wholeMs !== undefined && w.wholeMs - w.startMs >= 1000
        ? `, ${f.delayAfterWholeS!.toFixed(1)} s after its load was whole ` +
          `(${((w.wholeMs - w.startMs) / 1000).toFixed(1)} s in)`
        : "";
      lines.push(
        `fault ${f.name}: paged after ${f.delayS.toFixed(1)} s${built} (${f.pages.length} pages)`,
      );
      continue;
    }
    lines.push(`fault ${f.name}: not paged; ${shortOf(info, w, o.graceMs)}`);
  }
  return lines;
}

/** For a fault not paged: the strongest group of its window below the budget, or that none came. */
function shortOf(info: readonly LoggedAlert[], w: FaultWindow, graceMs: number): string {
  const mine = info.filter((a) => a.receivedMs >= w.startMs && a.receivedMs <= w.endMs + graceMs);
  if (mine.length === 0) {
    return "no group of its window reached Alertmanager, below the budget either";
  }
  const bits = (a: LoggedAlert) => Number(a.annotations.budget_bits ?? -Infinity);
  const best = mine.reduce((b, a) => (bits(a) > bits(b) ? a : b));
  return `${mine.length} alerts below the budget in its window; the strongest ` +
    `${best.annotations.budget_bits ?? "?"} bits (short of it when negative), severity ` +
    `${best.labels.severity ?? "?"}: ${(best.annotations.description ?? "").slice(0, 300)}`;
}
