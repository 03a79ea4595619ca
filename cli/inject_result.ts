/**
 * What `troupe inject` says at the end: what it sent and how it was delivered, as a line a person
 * reads or one JSON object (`--json`, sim's injectReport).
 */
import { type InjectDelivery, injectReport, type InjectResult } from "../sim/feeds/mod.ts";
import type { InjectOptions } from "./inject_options.ts";

/** What a run sent and how, for its result. */
export interface Sent extends InjectDelivery {
  signalName: string | undefined;
}

/** The result as one JSON object (`--json`): sim's injectReport, with the labels' file. */
export function resultJson(o: InjectOptions, result: InjectResult, sent: Sent): string {
  return JSON.stringify(injectReport(result, { ...sent, labels: o.labels }));
}

/** The result as the line a person reads. */
export function resultLine(o: InjectOptions, result: InjectResult, sent: Sent): string {
  const { publisher, signalName } = sent;
  const ratio = result.achievedRate / result.askedRate;
  const why = result.stopped === "aborted"
    ? `stopped by ${signalName ?? "a signal"}`
    : result.stopped === "exhausted"
    ? "end of the file"
    : "duration reached";
  return `troupe inject: ${why}: ${result.samples} samples in ${result.frames} frames ` +
    `(${(result.bytes / 1e6).toFixed(1)} MB) over ${result.elapsedS.toFixed(2)} s: ` +
    `${Math.round(result.achievedRate)} samples/s achieved, ${result.askedRate} asked ` +
    `(${(ratio * 100).toFixed(1)}%)` +
    (result.forgivenS > 0
      ? `; fell behind by ${result.forgivenS.toFixed(2)} s (NATS or this machine too slow)`
      : "") +
    (o.labels === undefined ? "" : `; labels in ${o.labels}`) +
    (publisher === undefined
      ? "; sent at most once (core NATS)"
      : `; ${publisher.counts.ackedWeight} samples in ${publisher.counts.acked} frames ` +
        `acknowledged by JetStream` +
        (publisher.counts.retries ? ` (${publisher.counts.retries} sends repeated)` : "")) +
    `; run ${result.run}`;
}
