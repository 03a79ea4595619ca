/**
 * The page budget on the host's `/metrics`: `troupe_page_threshold{kind}`, per kind of finding
 * that states a tail probability, the measure one finding must reach to page alone (an anomaly's
 * score; above 1 when no single score can), so that a team's own rule
 * `troupe_anomaly_score >= on() troupe_page_threshold` pages where troupe would; the per-sample
 * tail probability behind it; and the census it is counted over. Absent until the census knows
 * what is watched. Read when scraped.
 */
import { Gauge, type Registry } from "prom-client";
import { findingKinds } from "../../protocol/mod.ts";
import { type Census, pageMeasure, pageThreshold } from "./page_budget.ts";
import type { PagingConfig } from "./paging_config.ts";

/** Registers the budget's gauges on `registry`; returns a function that removes them. */
export function registerPageMetrics(
  registry: Registry,
  options: { paging: PagingConfig; census: () => Census | undefined },
): () => void {
  new Gauge<"kind">({
    name: "troupe_page_threshold",
    help: "The measure (an anomaly's score) one finding of a kind must reach to page alone under " +
      "the budget; above its maximum (1 for a score) when no single finding can",
    labelNames: ["kind"],
    registers: [registry],
    collect() {
      this.reset();
      const c = options.census();
      if (c === undefined) return;
      for (const k of findingKinds()) {
        if (k.tail) {
          this.set({ kind: k.type }, pageMeasure(k.tail, c, options.paging.pages_per_day));
        }
      }
    },
  });
  const gauges: Array<[string, string, (c: Census) => number]> = [
    [
      "troupe_page_threshold_probability",
      "The per-sample tail probability a finding must reach to page alone: " +
      "pages_per_day / samples a day",
      (c) => pageThreshold(c, options.paging.pages_per_day),
    ],
    [
      "troupe_page_budget_channels",
      "Channels the page budget is counted over (those the anomaly detectors score)",
      (c) => c.channels,
    ],
    [
      "troupe_page_budget_samples_per_day",
      "Samples a day the page budget is counted over",
      (c) => c.samples_per_day,
    ],
  ];
  for (const [name, help, read] of gauges) {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        const c = options.census();
        if (c !== undefined) this.set(read(c));
      },
    });
  }
  return () => {
    registry.removeSingleMetric("troupe_page_threshold");
    for (const [name] of gauges) registry.removeSingleMetric(name);
  };
}
