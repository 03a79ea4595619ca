/**
 * Bodies written in an older format, as a host writes them today. A recording made before a body
 * format changed holds the old bytes; `troupe replay --verify` compares what the actors publish now
 * with them byte for byte, so a recorded output that differs is first read with the versioned
 * decoder and encoded again in the current format: when that gives the replayed bytes, the output
 * is the same event, only renamed. A field added since (the anomaly event's `view`) goes the other
 * way: the replayed event without it is what a host published before (`anomalyViewlessBytes`).
 */
import { decodeEnvelope, type Envelope, type EnvelopeInit } from "../envelope.ts";
import { decodeAnomalyBody, encodeAnomaly } from "./anomaly.ts";
import { collapseBodyFormat, decodeCollapseBody, encodeCollapse } from "./collapse.ts";
import { coherenceBodyFormat, decodeCoherenceBody, encodeCoherence } from "./coherence.ts";

/**
 * The bytes of `bytes`' event in the current body format, or undefined when they are not an event
 * in an older format (or do not decode).
 */
export function currentEventBytes(bytes: Uint8Array): Uint8Array | undefined {
  let env: Envelope;
  try {
    env = decodeEnvelope(bytes);
  } catch {
    return undefined;
  }
  const meta = metaOf(env);
  try {
    if (env.type === "collapse" && collapseBodyFormat(env.body) === 1) {
      return encodeCollapse(meta, decodeCollapseBody(env.body));
    }
    if (env.type === "coherence" && coherenceBodyFormat(env.body) === 1) {
      return encodeCoherence(meta, decodeCoherenceBody(env.body));
    }
  } catch {
    return undefined;
  }
  return undefined;
}

/**
 * The bytes `bytes`' anomaly event had as a host published it before the events named their view
 * (the same envelope without `view`), or undefined when they are not an anomaly event with a view
 * (or do not decode).
 */
export function anomalyViewlessBytes(bytes: Uint8Array): Uint8Array | undefined {
  try {
    const env = decodeEnvelope(bytes);
    if (env.type !== "anomaly") return undefined;
    const { view, ...before } = decodeAnomalyBody(env.body);
    return view === undefined ? undefined : encodeAnomaly(metaOf(env), before);
  } catch {
    return undefined;
  }
}

function metaOf(env: Envelope): Omit<EnvelopeInit, "type" | "body"> {
  const meta: Omit<EnvelopeInit, "type" | "body"> = { id: env.id, src: env.src, ts: env.ts };
  if (env.seq !== undefined) meta.seq = env.seq;
  if (env.corr !== undefined) meta.corr = env.corr;
  if (env.cause !== undefined) meta.cause = env.cause;
  return meta;
}
