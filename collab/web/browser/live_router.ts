/**
 * Turns each message from the gateway into what the page shows: the anomaly actor's columns into
 * chart points, its events into markers and rows of the event list, the collapse actor's change
 * points into regimes, the coherence actor's columns and state changes into gauges, closed bars
 * into candles, and dead letters and actor failures into the event list. Payloads are decoded
 * with protocol/ (the same code the hosts run); a message that does not decode is counted and
 * skipped.
 */
import {
  COLUMNS_TYPE,
  decodeEnvelope,
  type Envelope,
  float64Column,
} from "../../../protocol/mod.ts";
import type { ChartGrid } from "./chart_grid.ts";
import type { CoherencePanel } from "./coherence_panel.ts";
import type { EventsPanel, Severity } from "./events_panel.ts";

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
    else if (area === "dlq") this.#deadLetter(kind ?? "other", env);
    else if (area === "sys" && kind === "actor") this.#actor(env);
  }

  #out(kind: string, key: string, env: Envelope): void {
    const body = (env.body ?? {}) as Body;
    if (env.type === COLUMNS_TYPE) return this.#columns(kind, key, body);
    const tMs = env.ts / 1000;
    const num = (f: string) => (typeof body[f] === "number" ? (body[f] as number) : NaN);
    if (kind === "anomaly" && env.type === "anomaly") {
      const score = num("score");
      this.#t.grid.chart(key)?.addAnomaly(env.ts, num("value"), `score ${score.toFixed(3)}`);
      this.#t.events.add({
        kind: "anomaly",
        channel: key,
        t: tMs,
        severity: score >= 0.999 ? "high" : "medium",
        text: `value ${fmt(num("value"))} outside [${fmt(num("lower"))}, ${fmt(num("upper"))}], ` +
          `score ${score.toFixed(3)}`,
      });
    } else if (kind === "collapse" && env.type === "collapse") {
      const severity = num("severity");
      const changeTs = num("changeTs");
      this.#t.grid.chart(key)?.addChange(changeTs, num("meanAfter"), String(body.direction));
      this.#t.events.add({
        kind: "collapse",
        channel: key,
        t: changeTs / 1000,
        severity: severity >= 2 ? "high" : severity >= 1 ? "medium" : "low",
        text:
          `change ${body.direction}: mean ${fmt(num("meanBefore"))} → ${fmt(num("meanAfter"))}` +
          `, severity ${severity.toFixed(2)}`,
      });
    } else if (kind === "coherence" && env.type === "coherence") {
      const top = Array.isArray(body.topChannels)
        ? (body.topChannels as Array<{ channel: string; loading: number }>)
        : [];
      this.#t.coherence.state(key, String(body.state), top);
      this.#t.events.add({
        kind: "coherence",
        channel: key,
        t: tMs,
        severity: body.state === "normal" ? "low" : "medium",
        text: `${body.from} → ${body.state}, ratio ${num("ratio").toFixed(3)}`,
      });
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

  #deadLetter(reason: string, env: Envelope): void {
    const body = (env.body ?? {}) as Body;
    this.#t.events.add({
      kind: "dead_letter",
      channel: String(body.subject ?? reason),
      t: env.ts / 1000,
      severity: "medium",
      text: `${reason}: ${String(body.error ?? "").slice(0, 200)}`,
    });
  }

  /** A host's notice about an instance: stopped after repeated failures (high), restarted after
   *  one (medium: it runs again). */
  #actor(env: Envelope): void {
    const body = (env.body ?? {}) as Body;
    const severity: Severity = env.type === "actor_stopped" ? "high" : "medium";
    const error = String(body.error ?? "").slice(0, 200);
    this.#t.events.add({
      kind: "actor",
      channel: String(body.stream ?? env.src),
      t: env.ts / 1000,
      severity,
      text: env.type === "actor_restarted"
        ? `restarted after failure ${body.failures} (backoff ${body.delay_ms} ms): ${error}`
        : env.type === "actor_stopped"
        ? `stopped after repeated failures: ${error}`
        : `${env.type}: ${error}`,
    });
  }
}

function fmt(x: number): string {
  return Number.isFinite(x) ? (Math.abs(x) >= 100 ? x.toFixed(2) : x.toPrecision(4)) : "–";
}
