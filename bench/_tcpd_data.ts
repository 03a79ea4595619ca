/**
 * Reading the Turing Change Point Dataset's format: a directory's series
 * (`DIR/datasets/<name>/<name>.json`), its annotations (`DIR/annotations.json`) and its split
 * (`DIR/split.json`), each field checked, an error naming the file, the field and the value.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { BenchOptionError } from "./_bench_option_error.ts";
import type { Annotations } from "./_cpd_metrics.ts";

/** One series of a TCPD-format directory. */
export interface TcpdSeries {
  name: string;
  /** Samples per dimension. */
  n: number;
  /** One array per dimension, NaN where the file has null. */
  dimensions: Float64Array[];
}

function fail(file: string, message: string): never {
  throw new Error(`Cannot read TCPD series ${file}: ${message}`);
}

/** Reads one `<name>.json` of the TCPD format, checking every field it uses. */
export function readTcpdSeries(file: string): TcpdSeries {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    fail(file, `not JSON (${(err as Error).message})`);
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    fail(file, "the top level must be an object");
  }
  const doc = raw as Record<string, unknown>;
  if (typeof doc.name !== "string" || doc.name === "") fail(file, `field "name" must be a string`);
  const index = (doc.time as { index?: unknown } | undefined)?.index;
  if (!Array.isArray(index)) fail(file, `field "time.index" must be an array`);
  const n = index.length;
  if (doc.n_obs !== undefined && doc.n_obs !== n) {
    fail(file, `field "n_obs" is ${doc.n_obs} but "time.index" has ${n} entries`);
  }
  if (!Array.isArray(doc.series) || doc.series.length === 0) {
    fail(file, `field "series" must be a non-empty array`);
  }
  if (doc.n_dim !== undefined && doc.n_dim !== doc.series.length) {
    fail(file, `field "n_dim" is ${doc.n_dim} but "series" has ${doc.series.length} entries`);
  }
  const dimensions = doc.series.map((s: unknown, d: number) => {
    const values = (s as { raw?: unknown } | null)?.raw;
    if (!Array.isArray(values)) fail(file, `field "series[${d}].raw" must be an array`);
    if (values.length !== n) {
      fail(file, `field "series[${d}].raw" has ${values.length} values for ${n} times`);
    }
    const out = new Float64Array(n);
    values.forEach((x: unknown, i: number) => {
      if (x === null) out[i] = NaN;
      else if (typeof x === "number" && Number.isFinite(x)) out[i] = x;
      else fail(file, `field "series[${d}].raw[${i}]" must be a number or null, got ${String(x)}`);
    });
    return out;
  });
  return { name: doc.name, n, dimensions };
}

/** Every series under `DIR/datasets/`, by name, in name order. */
export function readTcpdDir(dir: string): TcpdSeries[] {
  const root = join(dir, "datasets");
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    throw new BenchOptionError(`--data ${dir} has no datasets/ directory`);
  }
  return readdirSync(root).sort().flatMap((name) => {
    const file = join(root, name, `${name}.json`);
    return existsSync(file) ? [readTcpdSeries(file)] : [];
  });
}

/** `DIR/annotations.json`, or undefined when absent. */
export function readTcpdAnnotations(dir: string): Record<string, Annotations> | undefined {
  const file = join(dir, "annotations.json");
  if (!existsSync(file)) return undefined;
  const raw = JSON.parse(readFileSync(file, "utf8")) as unknown;
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new Error(`Cannot read ${file}: the top level must be an object of series`);
  }
  for (const [name, anns] of Object.entries(raw as Record<string, unknown>)) {
    if (anns === null || typeof anns !== "object" || Array.isArray(anns)) {
      throw new Error(`Cannot read ${file}: "${name}" must be an object of annotators`);
    }
    for (const [who, points] of Object.entries(anns as Record<string, unknown>)) {
      if (!Array.isArray(points) || !points.every((p) => Number.isInteger(p))) {
        throw new Error(`Cannot read ${file}: "${name}.${who}" must be an array of indices`);
      }
    }
  }
  return raw as Record<string, Annotations>;
}

/** `DIR/split.json` (`{ scored: [names], extra: [names] }`), or undefined when absent. */
export interface TcpdSplit {
  scored: string[];
  extra: string[];
}

/** Reads `DIR/split.json` when it exists, checking both lists. */
export function readTcpdSplit(dir: string): TcpdSplit | undefined {
  const file = join(dir, "split.json");
  if (!existsSync(file)) return undefined;
  const raw = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown> | null;
  const list = (key: string): string[] => {
    const v = raw?.[key] ?? [];
    if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) {
      throw new Error(`Cannot read ${file}: field "${key}" must be an array of series names`);
    }
    return v as string[];
  };
  if (raw === null || typeof raw !== "object" || Array.isArray(raw) || !("scored" in raw)) {
    throw new Error(`Cannot read ${file}: the top level must be an object with "scored"`);
  }
  return { scored: list("scored"), extra: list("extra") };
}
