/**
 * Turns each message from the gateway into what the page shows: the anomaly actor's columns into
 * chart points, its events into markers and rows of the event list, the collapse actor's change
 * points into regimes, the coherence actor's columns and state changes into gauges, closed bars
 * into candles, and dead letters and actor failures into the event list. Payloads are decoded with
 * protocol/ (the same code the hosts run; columns through columnsFrameOf, which checks every column
 * is as long as its times); a message that does not decode is counted and skipped. The anomaly
 * actor's columns, nearly all of the stream, are read first by an AnomalyColumnsReader, straight
 * into the chart's ring (what it does not read goes the general way, and is refused there). A row
 * of the event list is the finding `troupe watch` prints (collab/findings/finding.ts): the same
 * line, kind and 1-5 severity.
 */
import {
  anomalyBandOf,
  type AnomalyBody,
  AnomalyColumnsReader,
  anomalyOf,
  barOf,
  type CoherenceBody,
  coherenceOf,
  type CollapseBody,
  collapseOf,
  COLUMNS_TYPE,
  columnsFrameOf,
  decodeEnvelope,
  type Envelope,
  outPrefix,
  ProtocolError,
} from "../../../protocol/mod.ts";
import { type EnvelopeFinding, envelopeFinding } from "../../findings/mod.ts";
import type { ChartGrid } from "./chart/mod.ts";
import type { CoherencePanel, EventsPanel } from "./panels/mod.ts";
import type { ChannelIndex } from "./fleet/mod.ts";

/** What the router feeds. */
export interface LiveTargets {
  grid: ChartGrid;
  events: EventsPanel;
  coherence: CoherencePanel;
  /** Takes each channel's newest sample for its score (the grid's order). */
  index?: ChannelIndex | undefined;
}

/** The subjects of the anomaly actor's outputs, whose columns the reader reads. */
const ANOMALY_PREFIX = outPrefix("anomaly");

export class LiveRouter {
  readonly #targets: LiveTargets;
  readonly #reader = new AnomalyColumnsReader();
  /** Messages that did not decode, with the last reason (the status line shows them). */
  undecodable = 0;
  lastError = "";

  constructor(targets: LiveTargets) {
    this.#targets = targets;
  }

  route(subject: string, data: Uint8Array): void {
    if (subject.startsWith(ANOMALY_PREFIX)) {
      const n = this.#reader.read(data);
      if (n >= 0) {
        // The chart first: a card made now starts from the index's tail, without these.
        const key = anomalyKey(subject), chart = this.#targets.grid.chart(key);
        this.#targets.index?.sampled(key, this.#reader.columns, n);
        return chart?.append(this.#reader.columns, n);
      }
    }
    let env: Envelope;
    try {
      env = decodeEnvelope(data);
    } catch (err) {
      return this.#skip(subject, err);
    }
    const [, area, kind, key] = subject.split(".");
    // Each message's envelope and body are decoded once: the finding's reader hands its body on.
    let found: EnvelopeFinding | undefined;
    try {
      if (env.type !== COLUMNS_TYPE) found = envelopeFinding(subject, env);
      if ((area === "out" || area === "finding") && kind !== undefined && key !== undefined) {
        this.#out(kind, key, env, found?.body);
      }
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      return this.#skip(subject, err);
    }
    if (found) this.#targets.events.add(found.finding);
  }

  #skip(subject: string, err: unknown): void {
    this.undecodable++;
    this.lastError = `${subject}: ${(err as Error).message}`;
  }

  /**
   * An actor's output; `body`: its event's body as the finding's reader decoded it, where the
   * event is a finding (the anomaly, collapse and coherence events are).
   */
  #out(kind: string, key: string, env: Envelope, body: object | undefined): void {
    if (env.type === COLUMNS_TYPE) return this.#columns(kind, key, env);
    // Bodies are read with protocol/events/ decoders: a bad one throws a ProtocolError, counted.
    if (kind === "anomaly" && env.type === "anomaly") {
      const b = (body ?? anomalyOf(env)) as AnomalyBody;
      this.#targets.grid.chart(key)?.addAnomaly(env.ts, b.value, `score ${b.score.toFixed(3)}`);
    } else if (kind === "collapse" && env.type === "collapse") {
      const b = (body ?? collapseOf(env)) as CollapseBody;
      const regime = {
        meanBefore: b.mean_before,
        meanAfter: b.mean_after,
        levelBefore: b.level_before,
      };
      this.#targets.grid.chart(key)?.addChange(b.change_ts, regime, env.ts, b.direction);
    } else if (kind === "coherence" && env.type === "coherence") {
      const b = (body ?? coherenceOf(env)) as CoherenceBody;
      this.#targets.coherence.state(key, b.state, b.top_channels);
    } else if (kind === "bars" && env.type === "bar") {
      const b = barOf(env);
      this.#targets.grid.candles(key)?.add(b.bar, {
        t: b.t,
        open: b.open,
        high: b.high,
        low: b.low,
        close: b.close,
      });
    }
  }

  /** A columns frame (throws a ProtocolError when it is malformed: its column lengths differ). */
  #columns(kind: string, key: string, env: Envelope): void {
    if (kind !== "anomaly" && kind !== "coherence") return;
    const { t, columns } = columnsFrameOf(env);
    if (kind === "coherence") {
      const ratio = columns.ratio;
      if (ratio && ratio.length > 0) this.#targets.coherence.ratio(key, ratio[ratio.length - 1]!);
      return;
    }
    // The band comes as expected and spread (or, from an older host, as its edges).
    const chart = this.#targets.grid.chart(key), band = anomalyBandOf(columns);
    if (!band) return;
    const cols = [t, band.value, band.expected, band.lower, band.upper];
    this.#targets.index?.sampled(key, cols, t.length);
    chart?.append(cols, t.length);
  }
}

/** The key of an anomaly subject as the general way takes it: its fourth token. */
function anomalyKey(subject: string): string {
  const end = subject.indexOf(".", ANOMALY_PREFIX.length);
  return subject.slice(ANOMALY_PREFIX.length, end < 0 ? undefined : end);
}
