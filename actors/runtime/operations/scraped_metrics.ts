/**
 * Metrics read when scraped: a gauge or a counter whose value is read from the owner's own plain
 * fields at `/metrics` time, so that the hot path counts with `++` and prom-client is touched
 * only by a scrape. The lease metrics, the collab server's and the stream gateway's all declare
 * theirs this way.
 */
import { Counter, Gauge, type Registry } from "prom-client";

/** A metric's name, help, and how to read its value when scraped. */
export interface ScrapedMetric {
  name: string;
  help: string;
  read(): number;
}

/** A metric read per label value when scraped: `read` gives `[label value, value]` pairs. */
export interface ScrapedLabelledMetric {
  name: string;
  help: string;
  label: string;
  read(): Iterable<readonly [string | number, number]>;
}

/** Registers on `registry` a gauge set to `metric.read()` at each scrape. */
export function scrapedGauge(registry: Registry, metric: ScrapedMetric): Gauge {
  return new Gauge({
    name: metric.name,
    help: metric.help,
    registers: [registry],
    collect() {
      this.set(metric.read());
    },
  });
}

/** Registers on `registry` a counter that shows the total `metric.read()` gives at each scrape. */
export function scrapedCounter(registry: Registry, metric: ScrapedMetric): Counter {
  return new Counter({
    name: metric.name,
    help: metric.help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(metric.read());
    },
  });
}

/** A labelled gauge (`kind: "gauge"`) or counter whose series are read at each scrape. */
export function scrapedLabelled(
  registry: Registry,
  kind: "gauge" | "counter",
  metric: ScrapedLabelledMetric,
): Gauge | Counter {
  const options = { name: metric.name, help: metric.help, labelNames: [metric.label] };
  if (kind === "gauge") {
    return new Gauge({
      ...options,
      registers: [registry],
      collect() {
        this.reset();
        for (const [value, n] of metric.read()) this.set({ [metric.label]: value }, n);
      },
    });
  }
  return new Counter({
    ...options,
    registers: [registry],
    collect() {
      this.reset();
      for (const [value, n] of metric.read()) this.inc({ [metric.label]: value }, n);
    },
  });
}
