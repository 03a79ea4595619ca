/**
 * The alert sender's metrics, on a Prometheus registry (the host's, so `/metrics` shows them), per
 * target (its URL without credentials): `troupe_alerts_sent_total`, `troupe_alerts_failed_total`
 * (refused with a 4xx, not retried), `troupe_alerts_retried_total` (a try that failed and will be
 * tried again), `troupe_alerts_dropped_total` (fell off the bounded outbox before the target took
 * it) and `troupe_alerts_owed` (not yet delivered). Read from the sender when scraped.
 */
import { Counter, Gauge, type Registry } from "prom-client";
import type { AlertSender, TargetCounts } from "./alert_sender.ts";

const COUNTERS: [keyof TargetCounts, string][] = [
  ["sent", "Alerts a target took (2xx), per target"],
  ["failed", "Alerts a target refused with a 4xx (logged, not retried), per target"],
  ["retried", "Alerts whose post failed for a reason that may pass (5xx, timeout), to be retried"],
  ["dropped", "Alerts that fell off a target's bounded outbox undelivered, per target"],
];

/** Registers the sender's metrics on `registry`; returns a function that removes them. */
export function registerAlertMetrics(registry: Registry, sender: AlertSender): () => void {
  const names: string[] = [];
  for (const [key, help] of COUNTERS) {
    const name = `troupe_alerts_${key}_total`;
    names.push(name);
    new Counter({
      name,
      help,
      labelNames: ["target"] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const t of sender.counts()) this.inc({ target: t.name }, t.counts[key]);
      },
    });
  }
  names.push("troupe_alerts_owed");
  new Gauge({
    name: "troupe_alerts_owed",
    help: "Alerts not yet delivered to a target (being sent or retried), per target",
    labelNames: ["target"] as const,
    registers: [registry],
    collect() {
      for (const t of sender.counts()) this.set({ target: t.name }, t.owed);
    },
  });
  return () => {
    for (const n of names) registry.removeSingleMetric(n);
  };
}
