/**
 * The incident stage's metrics, on a Prometheus registry (a host's, so its `/metrics` shows them):
 * `troupe_incidents{state, kind}`, the incidents open now (pending, firing), and
 * `troupe_incidents_total{state, kind}`, incidents that reached each state since the stage started
 * (pending: opened; firing: fired; resolved). Read from the stage when scraped.
 */
import { Counter, Gauge, type Registry } from "prom-client";
import { findingKinds } from "../../protocol/mod.ts";
import type { IncidentStage } from "./incident_stage.ts";

/** Registers the stage's metrics on `registry`; returns a function that removes them. */
export function registerIncidentMetrics(registry: Registry, stage: IncidentStage): () => void {
  new Gauge({
    name: "troupe_incidents",
    help: "Incidents open now, by state (pending, firing) and kind of finding",
    labelNames: ["state", "kind"] as const,
    registers: [registry],
    collect() {
      for (const { type: kind } of findingKinds()) {
        for (const state of ["pending", "firing"]) {
          this.set({ state, kind }, 0);
        }
      }
      for (const i of stage.open()) this.inc({ state: i.state, kind: i.kind });
    },
  });
  // A counter (a `_total` name is one to Prometheus) read from the stage's own counts, which only
  // grow: each scrape puts them back whole.
  new Counter({
    name: "troupe_incidents_total",
    help: "Incidents that reached each state since the stage started: pending (opened), firing, " +
      "resolved, by kind of finding",
    labelNames: ["state", "kind"] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const { type: kind } of findingKinds()) {
        const c = stage.counts().get(kind) ?? { opened: 0, fired: 0, resolved: 0 };
        this.inc({ state: "pending", kind }, c.opened);
        this.inc({ state: "firing", kind }, c.fired);
        this.inc({ state: "resolved", kind }, c.resolved);
      }
    },
  });
  return () => {
    registry.removeSingleMetric("troupe_incidents");
    registry.removeSingleMetric("troupe_incidents_total");
  };
}
