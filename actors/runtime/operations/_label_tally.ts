/**
 * A host metric's values by label, kept in a plain map and read into a prom-client metric only
 * when the host's registry is made (at its first scrape). A prom-client Counter or Gauge costs
 * its construction, validates and hashes the labels on every call, and lives as long as the
 * host: a process that starts many short-lived hosts (a leased host's partitions, the
 * simulator's) paid for a registry per host that was rarely or never scraped.
 */
import { Counter, Gauge, type Registry } from "prom-client";

/** Label values by label name. */
export type Labels<L extends string> = Partial<Record<L, string | number>>;

/** One labelled value. */
interface Entry<L extends string> {
  readonly labels: Labels<L>;
  value: number;
}

/** A counter's or a gauge's values by label, as prom-client's `inc`, `dec`, `set` and `get`. */
export class LabelTally<L extends string = never> {
  readonly name: string;
  readonly help: string;
  readonly type: "counter" | "gauge";
  readonly labelNames: readonly L[];
  readonly #entries = new Map<string, Entry<L>>();

  constructor(type: "counter" | "gauge", name: string, help: string, labelNames: L[] = []) {
    this.type = type;
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
  }

  /** Adds `by` (1 by default) to the value of `labels`. */
  inc(labels?: Labels<L> | number, by?: number): void {
    const [l, n] = typeof labels === "number" ? [undefined, labels] : [labels, by ?? 1];
    if (this.type === "counter" && !(n >= 0)) {
      throw new RangeError(`Metric ${this.name}: a counter only goes up, got an increment of ${n}`);
    }
    this.#entry(l).value += n;
  }

  /** Takes `by` (1 by default) from the value of `labels` (a gauge's). */
  dec(labels?: Labels<L> | number, by?: number): void {
    const [l, n] = typeof labels === "number" ? [undefined, labels] : [labels, by ?? 1];
    this.#entry(l).value -= n;
  }

  /** Sets the value of `labels` (a gauge's). */
  set(labels: Labels<L> | number, value?: number): void {
    if (typeof labels === "number") this.#entry(undefined).value = labels;
    else this.#entry(labels).value = value ?? 0;
  }

  /** The values, as prom-client's `get` gives them. */
  get(): Promise<{ name: string; values: Array<{ labels: Labels<L>; value: number }> }> {
    const values = [...this.#entries.values()].map((e) => ({ labels: e.labels, value: e.value }));
    return Promise.resolve({ name: this.name, values });
  }

  /** Registers a prom-client metric in `registry` that reads these values when collected. */
  register(registry: Registry): void {
    const entries = this.#entries;
    const config = { name: this.name, help: this.help, labelNames: [...this.labelNames] };
    if (this.type === "counter") {
      new Counter<L>({
        ...config,
        registers: [registry],
        collect() {
          this.reset();
          for (const e of entries.values()) this.inc(e.labels, e.value);
        },
      });
    } else {
      new Gauge<L>({
        ...config,
        registers: [registry],
        collect() {
          this.reset();
          for (const e of entries.values()) this.set(e.labels, e.value);
        },
      });
    }
  }

  #entry(labels: Labels<L> | undefined): Entry<L> {
    const names = this.labelNames;
    // Label values joined in the label names' order: the host passes one label in all but a few
    // metrics, so the key is most often that label's value as it is.
    let key = "";
    for (let i = 0; i < names.length; i++) {
      const v = labels?.[names[i]!];
      key += i === 0 ? String(v ?? "") : `\u0000${v ?? ""}`;
    }
    let e = this.#entries.get(key);
    if (!e) this.#entries.set(key, e = { labels: { ...labels }, value: 0 });
    return e;
  }
}
