/**
 * Turns each message from the gateway into what the page shows: the anomaly actor's columns into
 * chart points, its events into markers and rows of the event list, the collapse actor's change
 * points into regimes, the coherence actor's columns and state changes into gauges, closed bars
 * into candles, and dead letters and actor failures into the event list. Payloads are decoded
 * with protocol/ (the same code the hosts run); a message that does not decode is counted and
 * skipped. A row of the event list is the finding `troupe watch` prints (collab/finding.ts): the
 * same line, kind and 1-5 severity.
 */
import {
  COLUMNS_TYPE,
  decodeEnvelope,
  type Envelope,
  float64Column,
} from "../../../protocol/mod.ts";
import { findingsOf } from "../../finding.ts";
import type { ChartGrid } from "./chart_grid.ts";
import type { CoherencePanel } from "./coherence_panel.ts";
import type { EventsPanel } from "./events_panel.ts";

/** What the router feeds. */
export interface LiveTargets {
  grid: ChartGrid;
  events: EventsPanel;
  coherence: CoherencePanel;
}

type Body = Record<string, unknown>;

export class LiveRouter {
  readonly #t: LiveTargets;
  /** Messages that did not decode, with the last reason (the status line shows them). */
  undecodable = 0;
  lastError = "";

  constructor(targets: LiveTargets) {
    this.#t = targets;
  }

  route(subject: string, data: Uint8Array): void {
    let env: Envelope;
    try {
      env = decodeEnvelope(data);
    } catch (err) {
      this.undecodable++;
      this.lastError = `${subject}: ${(err as Error).message}`;
      return;
    }
    const [, area, kind, key] = subject.split(".");
    if (area === "out" && kind !== undefined && key !== undefined) this.#out(kind, key, env);
    if (env.type !== COLUMNS_TYPE) {
      for (const f of findingsOf(subject, data, env.ts)) {
        if (f.kind !== "scan") this.#t.events.add(f);
      }
    }
  }

  #out(kind: string, key: string, env: Envelope): void {
    const body = (env.body ?? {}) as Body;
    if (env.type === COLUMNS_TYPE) return this.#columns(kind, key, body);
    const num = (f: string) => (typeof body[f] === "number" ? (body[f] as number) : NaN);
    if (kind === "anomaly" && env.type === "anomaly") {
      const score = num("score");
      this.#t.grid.chart(key)?.addAnomaly(env.ts, num("value"), `score ${score.toFixed(3)}`);
    } else if (kind === "collapse" && env.type === "collapse") {
      this.#t.grid.chart(key)?.addChange(num("changeTs"), num("meanAfter"), String(body.direction));
    } else if (kind === "coherence" && env.type === "coherence") {
      const top = Array.isArray(body.topChannels)
        ? (body.topChannels as Array<{ channel: string; loading: number }>)
        : [];
      this.#t.coherence.state(key, String(body.state), top);
    } else if (kind === "bars" && env.type === "bar") {
      this.#t.grid.candles(key)?.add(String(body.bar), {
        t: num("t"),
        open: num("open"),
        high: num("high"),
        low: num("low"),
        close: num("close"),
      });
    }
  }

  #columns(kind: string, key: string, body: Body): void {
    if (kind !== "anomaly" && kind !== "coherence") return;
    const raw = body.columns as Record<string, Uint8Array> | undefined;
    if (!(body.t instanceof Uint8Array) || !raw) return;
    const t = float64Column(body.t, "body.t");
    if (kind === "coherence") {
      if (raw.ratio && t.length > 0) {
        const ratio = float64Column(raw.ratio, "body.columns.ratio");
        this.#t.coherence.ratio(key, ratio[ratio.length - 1]!);
      }
      return;
    }
    const columns: Record<string, Float64Array> = {};
    for (const name of ["value", "expected", "lower", "upper"]) {
      const bin = raw[name];
      if (bin instanceof Uint8Array) columns[name] = float64Column(bin, `body.columns.${name}`);
    }
    this.#t.grid.chart(key)?.append(t, columns);
  }
}
