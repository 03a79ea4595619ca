/**
 * The scores back out: each watched channel's latest anomaly score and its open incidents, read
 * from the anomaly detectors' outputs (`troupe.out.anomaly.<channel>`) and the incident stage's
 * updates (`troupe.out.incident.anomaly`), for the receiver's `/metrics`. A message costs a map
 * write (its bytes kept as the channel's latest); the score is decoded when `/metrics` is scraped.
 */
import {
  type Bus,
  type BusSubscription,
  decodeAnomalyColumns,
  decodeIncident,
  outPattern,
  outSubject,
} from "../../protocol/mod.ts";
import type { IngestMetrics } from "./ingest_metrics.ts";

/** Open incidents remembered at most (a resolved one is forgotten). */
const OPEN_MAX = 10_000;

/** Watches the channels `watched` says are the receiver's. */
export class ScoreWatch {
  readonly #latest = new Map<string, Uint8Array>();
  /** Each channel's last score read (kept when its latest message is an event, not a frame). */
  readonly #scores = new Map<string, number>();
  /** Open incidents by id: their channels. */
  readonly #open = new Map<string, string[]>();
  readonly #subs: BusSubscription[];

  constructor(bus: Bus, watched: (channel: string) => boolean) {
    const prefix = outPattern("anomaly").slice(0, -1);
    this.#subs = [
      bus.subscribe(outPattern("anomaly"), (msg) => {
        const channel = msg.subject.slice(prefix.length);
        if (watched(channel)) this.#latest.set(channel, msg.data);
      }),
      bus.subscribe(outSubject("incident", "anomaly"), (msg) => {
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

  /** Sets the gauges from what was seen. */
  refresh(metrics: IngestMetrics): void {
    metrics.anomalyScore.reset();
    for (const [channel, bytes] of this.#latest) {
      try {
        const { score } = decodeAnomalyColumns(bytes);
        const last = score[score.length - 1];
        if (last !== undefined) this.#scores.set(channel, last);
      } catch {
        // An event (not a columns frame): the score read before stands.
      }
      const score = this.#scores.get(channel);
      if (score !== undefined) metrics.anomalyScore.set({ channel }, score);
    }
    metrics.openIncidents.reset();
    const counts = new Map<string, number>();
    for (const channels of this.#open.values()) {
      for (const c of channels) counts.set(c, (counts.get(c) ?? 0) + 1);
    }
    for (const channel of this.#latest.keys()) {
      metrics.openIncidents.set({ channel }, counts.get(channel) ?? 0);
    }
  }

  stop(): void {
    for (const s of this.#subs) s.unsubscribe();
  }
}
