/**
 * The scores back out: each watched channel's highest anomaly score since the last scrape, with the
 * source series' labels, and its open incidents, read from the anomaly detectors' outputs
 * (`troupe.out.anomaly.<channel>`) and the incident stage's updates
 * (`troupe.out.incident.anomaly`), for the receiver's `/metrics`. The highest, not the latest: a
 * score of 1 between two scrapes would otherwise read as whatever the sample at scrape time scored,
 * and a rule on it never fire. A message is read as it comes, in place (`readScores`), and only its
 * channel's highest and last score kept: two numbers a channel. Its bytes kept until the scrape
 * would be read no fewer times (each once either way) and hold a message a channel's sample (a
 * view that keeps the socket's read alive) until a scrape that may never come.
 */
import {
  AnomalyColumnsReader,
  type Bus,
  type BusSubscription,
  decodeAnomalyColumns,
  decodeIncident,
  NOT_READ,
  SCORE_INCIDENT_SUBJECT,
  SCORE_OUTPUT_PATTERN,
} from "../../protocol/mod.ts";
import type { Label } from "../../protocol/prometheus/mod.ts";
import type { IngestMetrics } from "./ingest_metrics.ts";

/** Open incidents remembered at most (a resolved one is forgotten). */
const OPEN_MAX = 10_000;

/** A channel's scores since the last scrape. */
interface ChannelScores {
  /** The highest score of the frames read since the last scrape (-Infinity: none). */
  max: number;
  /** The last score read (what a scrape with no new sample shows). */
  last: number | undefined;
}

/** Watches the channels `labelsOf` knows (the receiver's, with their source labels). */
export class ScoreWatch {
  readonly #channels = new Map<string, ChannelScores>();
  readonly #labelsOf: (channel: string) => readonly Label[] | undefined;
  /** Open incidents by id: their channels. */
  readonly #open = new Map<string, string[]>();
  readonly #subs: BusSubscription[];

  constructor(bus: Bus, labelsOf: (channel: string) => readonly Label[] | undefined) {
    this.#labelsOf = labelsOf;
    const watched = (channel: string) => labelsOf(channel) !== undefined;
    const prefix = SCORE_OUTPUT_PATTERN.slice(0, -1);
    this.#subs = [
      bus.subscribe(SCORE_OUTPUT_PATTERN, (msg) => {
        const channel = msg.subject.slice(prefix.length);
        if (!watched(channel)) return;
        let c = this.#channels.get(channel);
        if (!c) this.#channels.set(channel, c = { max: -Infinity, last: undefined });
        fold(c, msg.data);
      }),
      bus.subscribe(SCORE_INCIDENT_SUBJECT, (msg) => {
        try {
          const { incident } = decodeIncident(msg.data);
          if (incident.state === "resolved") this.#open.delete(incident.id);
          else if (this.#open.size < OPEN_MAX || this.#open.has(incident.id)) {
            this.#open.set(incident.id, incident.members.map((m) => m.channel).filter(watched));
          }
        } catch {
          // Not an incident this reader knows: the dashboard's reader reports those.
        }
      }),
    ];
  }

  /** Sets the gauges from what was seen since the last call, and starts the next interval. */
  refresh(metrics: IngestMetrics): void {
    const scores: Array<{ labels: Record<string, string>; value: number }> = [];
    for (const [channel, c] of this.#channels) {
      const score = c.max > -Infinity ? c.max : c.last;
      c.max = -Infinity;
      if (score !== undefined) {
        scores.push({ labels: scoreLabels(channel, this.#labelsOf(channel)), value: score });
      }
    }
    metrics.anomalyScore.values = scores;
    metrics.openIncidents.reset();
    const counts = new Map<string, number>();
    for (const channels of this.#open.values()) {
      for (const c of channels) counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    for (const channel of this.#channels.keys()) {
      metrics.openIncidents.set({ channel }, counts.get(channel) ?? 0);
    }
  }

  stop(): void {
    for (const s of this.#subs) s.unsubscribe();
  }
}

/** Reads a columns message's highest and last score in place (no objects made a message). */
const reader = new AnomalyColumnsReader();
const highestAndLast = new Float64Array(2);

/** Folds the scores of a columns message into its channel's highest and last score. */
function fold(c: ChannelScores, bytes: Uint8Array): void {
  const n = reader.readScores(bytes, highestAndLast);
  if (n > 0) {
    if (highestAndLast[0]! > c.max) c.max = highestAndLast[0]!;
    c.last = highestAndLast[1]!;
  }
  if (n !== NOT_READ) return;
  try {
    const { score } = decodeAnomalyColumns(bytes);
    for (const s of score) if (s > c.max) c.max = s;
    const last = score[score.length - 1];
    if (last !== undefined) c.last = last;
  } catch {
    // An event (not a columns frame): its sample's score is in the frame beside it.
  }
}

/**
 * The labels of a channel's score: `channel`, then the source series' labels under their own
 * names (`__name__` as `metric`; one named `channel` kept as `source_channel`), as vmanomaly's
 * `anomaly_score` keeps its input's labels, so a rule can join it to the series. In name order.
 */
export function scoreLabels(
  channel: string,
  source: readonly Label[] | undefined,
): Record<string, string> {
  const out: Record<string, string> = { channel };
  const named = (source ?? []).map((l) => ({
    ...l,
    name: l.name === "__name__" ? "metric" : l.name,
  }));
  for (const l of named.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    let name = l.name;
    if (name.startsWith("__")) continue;
    if (name in out) name = `source_${name}`;
    if (!(name in out)) out[name] = l.value;
  }
  return out;
}
