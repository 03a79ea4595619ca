/**
 * A finding as the hosts publish it, for the incident tests: an anomaly on `channel` at `ts` (µs),
 * scored 0.95, its value 80 below the band 95..105 (a crash, one per channel, for grouping).
 */
import { encodeEventEnvelope } from "../../protocol/mod.ts";

/** The envelope id of anomalyFinding(channel, ts). */
export function anomalyFindingId(channel: string, ts: number): string {
  return `a-${channel}-${ts}`;
}

/** The encoded envelope of an anomaly finding on `channel` at `ts`. */
export function anomalyFinding(channel: string, ts: number): Uint8Array {
  const id = anomalyFindingId(channel, ts);
  return encodeEventEnvelope({ id, type: "anomaly", src: "t", ts }, {
    type: "anomaly",
    ts,
    channel,
    score: 0.95,
    value: 80,
    expected: 100,
    lower: 95,
    upper: 105,
  });
}
