/**
 * A recorded run's series scored again offline, through the anomaly kernel, the incident kernel
 * and the page budget as they are today (`troupe bench rescore`): each series is fed its history
 * read and live samples, its live findings (openings and restatements, as the actor publishes
 * them) go through the incident kernel at its default configuration in time order, and each
 * incident update is weighed as the alert sender weighs a group (the members' strongest findings
 * against the census). The series are taken as one node's: one group, as `bench pages`' one node
 * exporter is (one `instance` and `job`).
 */
import { anomalyActor, type AnomalyConfig, anomalyFrameEvent } from "../actors/anomaly/mod.ts";
import { changeBody } from "../actors/anomaly/mod.ts";
import {
  budgetSeverity,
  type Census,
  evidenceBits,
  findingBits,
  PAGE_SEVERITY_MIN,
} from "../actors/alerting/mod.ts";
import {
  defaultIncidentConfig,
  findingOfEvent,
  flushIncidents,
  incidentEventOf,
  type IncidentFinding,
  type IncidentUpdate,
  initIncidents,
  stepIncidents,
} from "../actors/incidents/mod.ts";
import { ANOMALY_TYPE } from "../protocol/mod.ts";
import type { RecordedFeeds } from "./_recorded_series.ts";

const DAY_S = 86_400;

/** One incident as the budget judged it over its updates. */
export interface RescoredIncident {
  id: string;
  /** When it first paged (ms; the update's last finding), or null. */
  pagedMs: number | null;
  /** Its first finding (ms). */
  firstMs: number;
  /** The most bits past the budget any update reached. */
  mostBits: number;
  /** Its members' channels at its strongest update. */
  members: string[];
}

/** What the rescored run gave. */
export interface Rescored {
  incidents: RescoredIncident[];
  /** Live findings, and how many of them restate an open one. */
  findings: number;
  restated: number;
  census: Census;
}

/** The anomaly findings of `feeds`' scored series in the live span, in time order. */
function liveFindings(
  feeds: RecordedFeeds,
  config: AnomalyConfig,
): { findings: IncidentFinding[]; restated: number } {
  const findings: IncidentFinding[] = [];
  let restated = 0;
  for (const channel of [...feeds.scored].sort()) {
    const s = feeds.series.get(channel);
    if (s === undefined) continue;
    const state = anomalyActor.kernel.init(config, channel);
    const frame = { channel, seq0: 0, t: s.tUs, v: s.v };
    const event = anomalyFrameEvent(anomalyActor.kernel.step(state, frame), frame, "normal");
    for (const c of event?.changes ?? []) {
      if (!c.open || c.ts < feeds.liveStartUs) continue;
      const body = changeBody(channel, c);
      if (c.restated === true) restated++;
      const head = { id: `${channel}:${c.ts}`, ts_us: c.ts };
      findings.push(findingOfEvent(head, incidentEventOf(ANOMALY_TYPE, body)));
    }
  }
  findings.sort((a, b) => a.ts_us - b.ts_us || (a.channel < b.channel ? -1 : 1));
  return { findings, restated };
}

/** The census of `feeds`' scored series over the live span: channels and samples a day. */
function liveCensus(feeds: RecordedFeeds): Census {
  let samples = 0;
  for (const channel of feeds.scored) {
    const s = feeds.series.get(channel);
    if (s === undefined) continue;
    for (const t of s.tUs) if (t >= feeds.liveStartUs) samples++;
  }
  const spanS = Math.max(1, (feeds.liveEndUs - feeds.liveStartUs) / 1e6);
  return { channels: feeds.scored.size, samples_per_day: Math.round(samples / spanS * DAY_S) };
}

/** `feeds` scored again, the anomaly kind at `config`: its incidents as the budget judges them. */
export function rescoreIncidents(
  feeds: RecordedFeeds,
  config: AnomalyConfig = anomalyActor.defaultConfig,
): Rescored {
  const { findings, restated } = liveFindings(feeds, config);
  const census = liveCensus(feeds);
  const windowS = defaultIncidentConfig.group_window_us / 1e6;
  const byId = new Map<string, RescoredIncident>();
  const weigh = (u: IncidentUpdate) => {
    const i = u.incident;
    const bits = i.members.flatMap((m) => findingBits(i.kind, m.peak) ?? []);
    const past = evidenceBits(bits, { census, pagesPerDay: 1, windowS });
    const seen = byId.get(i.id) ??
      { id: i.id, pagedMs: null, firstMs: i.first_us / 1000, mostBits: -Infinity, members: [] };
    byId.set(i.id, seen);
    if (seen.pagedMs === null && budgetSeverity(past) >= PAGE_SEVERITY_MIN) {
      seen.pagedMs = i.last_us / 1000;
    }
    if (past > seen.mostBits) {
      seen.mostBits = past;
      seen.members = i.members.map((m) => m.channel);
    }
  };
  const state = initIncidents(defaultIncidentConfig);
  for (const f of findings) stepIncidents(state, f).forEach(weigh);
  flushIncidents(state).forEach(weigh);
  return { incidents: [...byId.values()], findings: findings.length, restated, census };
}
