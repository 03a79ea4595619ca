/**
 * A finding as the hosts publish it, for the incident tests: an anomaly on `channel` at `ts` (µs),
 * scored 0.95, its value 80 below the band 95..105 (a crash, one per channel, for grouping); and
 * the anomaly actor's per-sample columns that a chart draws (`anomalyColumns`).
 */
import { encodeColumns, encodeEventEnvelope } from "../../protocol/mod.ts";

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

/**
 * What the anomaly actor publishes per sample on `channel` (its columns: the value, the expected
 * value 106 and the band 99..113) for samples at `t` (µs), the value `100 + i % 13` of the i-th.
 */
export function anomalyColumns(channel: string, t: Float64Array): Uint8Array {
  const col = (f: (i: number) => number) => Float64Array.from(t, (_, i) => f(i));
  const frame = {
    channel,
    seq0: 0,
    t,
    columns: {
      value: col((i) => 100 + (i % 13)),
      expected: col(() => 106),
      lower: col(() => 99),
      upper: col(() => 113),
    },
  };
  return encodeColumns(frame, { id: `${channel}-${t[0]}`, src: "test" });
}
