/**
 * An actor's event read whole: its type with its body decoded by that type's decoder, in the
 * current format whatever format it was written in, for readers that take every kind (a what-if
 * diff, a recording's upgrade). Types without a body here (columns, control answers) give
 * undefined.
 */
import type { Envelope } from "../envelope.ts";
import { type AnomalyBody, anomalyOf } from "./anomaly.ts";
import { type BarBody, barOf } from "./bar.ts";
import { type CoherenceBody, coherenceOf } from "./coherence.ts";
import { type CollapseBody, collapseOf } from "./collapse.ts";
import { type StatsBody, statsOf } from "./stats.ts";

/** An actor's event, told apart by its type. */
export type ActorEvent =
  | { type: "anomaly"; body: AnomalyBody }
  | { type: "collapse"; body: CollapseBody }
  | { type: "coherence"; body: CoherenceBody }
  | { type: "bar"; body: BarBody }
  | { type: "stats"; body: StatsBody };

/**
 * The event of `env`, its body checked (a ProtocolError names a bad field), or undefined when its
 * type is not an actor event's.
 */
export function actorEventOf(env: Envelope): ActorEvent | undefined {
  switch (env.type) {
    case "anomaly":
      return { type: env.type, body: anomalyOf(env) };
    case "collapse":
      return { type: env.type, body: collapseOf(env) };
    case "coherence":
      return { type: env.type, body: coherenceOf(env) };
    case "bar":
      return { type: env.type, body: barOf(env) };
    case "stats":
      return { type: env.type, body: statsOf(env) };
    default:
      return undefined;
  }
}

/** The name and measure of an actor event for a list of findings: the channel or group, and its
 * strength where the kind has one (anomaly score, collapse severity, coherence shift). */
export function eventHeadline(
  e: ActorEvent,
): { channel: string; score: number | undefined; state: string | undefined } {
  switch (e.type) {
    case "anomaly":
      return { channel: e.body.channel, score: e.body.score, state: undefined };
    case "collapse":
      return { channel: e.body.channel, score: e.body.severity, state: undefined };
    case "coherence":
      return { channel: e.body.group, score: e.body.shift, state: e.body.state };
    default:
      return { channel: e.body.channel, score: undefined, state: undefined };
  }
}
