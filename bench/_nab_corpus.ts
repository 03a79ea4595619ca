/**
 * Reads a NAB corpus from disk: the data files (`data/<category>/<file>.csv`, `timestamp,value`),
 * the labelled windows (`labels/combined_windows.json`) and the scoring profiles (`profiles.json`,
 * or NAB's `config/profiles.json`). Timestamps become milliseconds since the Unix epoch, read as
 * UTC, and the original text of each row is kept so that outputs can repeat it verbatim.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { BenchDataError } from "./_bench_data_error.ts";
import type { NabProfile } from "./_nab_scorer.ts";

/** One data file of the corpus. */
export interface NabDataFile {
  /** `<category>/<file>.csv`, with forward slashes. */
  path: string;
  category: string;
  file: string;
  /** Each row's timestamp as written. */
  stamps: string[];
  /** Each row's value as written. */
  texts: string[];
  /** Milliseconds since the epoch (UTC). */
  t: Float64Array;
  /** Values; NaN where the text is not a number. */
  v: Float64Array;
}

/** The profiles NAB ships, used when the corpus has no profiles.json. */
export const NAB_DEFAULT_PROFILES: Readonly<Record<string, NabProfile>> = {
  standard: { tpWeight: 1, fpWeight: 0.11, fnWeight: 1 },
  reward_low_FP_rate: { tpWeight: 1, fpWeight: 0.22, fnWeight: 1 },
  reward_low_FN_rate: { tpWeight: 1, fpWeight: 0.11, fnWeight: 2 },
};

const STAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?$/;

/** Parses `YYYY-MM-DD HH:MM:SS[.ffffff]` as UTC milliseconds (sub-ms digits kept as a fraction). */
export function parseNabTimestamp(text: string): number {
  const m = STAMP.exec(text.trim());
  if (m === null) throw new BenchDataError(`Cannot parse NAB timestamp "${text}"`);
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  const frac = m[7] === undefined ? 0 : Number(`0.${m[7]}`) * 1000;
  return ms + frac;
}

/** Parses the text of a `timestamp,value[,...]` CSV with a header row. */
export function parseNabCsv(
  text: string,
  path: string,
): { stamps: string[]; texts: string[]; t: Float64Array; v: Float64Array } {
  const lines = text.split(/\r?\n/);
  const stamps: string[] = [];
  const texts: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.length === 0) continue;
    const comma = line.indexOf(",");
    if (comma < 0) {
      throw new BenchDataError(
        `NAB file "${path}" line ${i + 1}: expected "timestamp,value", got "${line}"`,
      );
    }
    const next = line.indexOf(",", comma + 1);
    stamps.push(line.slice(0, comma));
    texts.push(line.slice(comma + 1, next < 0 ? undefined : next));
  }
  const t = new Float64Array(stamps.length);
  const v = new Float64Array(stamps.length);
  for (let i = 0; i < stamps.length; i++) {
    try {
      t[i] = parseNabTimestamp(stamps[i]!);
    } catch (err) {
      throw new BenchDataError(`NAB file "${path}" row ${i + 1}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const s = texts[i]!.trim();
    v[i] = s === "" ? NaN : Number(s);
  }
  return { stamps, texts, t, v };
}

/** The data files under `dataDir` (`<category>/<file>.csv`), in sorted order. */
export function listNabFiles(dataDir: string): string[] {
  const out: string[] = [];
  for (const category of readdirSync(dataDir).sort()) {
    const dir = join(dataDir, category);
    if (!statSync(dir).isDirectory()) continue;
    for (const file of readdirSync(dir).sort()) {
      if (file.endsWith(".csv")) out.push(`${category}/${file}`);
    }
  }
  return out;
}

/** Reads one data file of the corpus at `root/data/<path>`. */
export function readNabFile(root: string, path: string): NabDataFile {
  const [category = "", file = ""] = path.split("/");
  const parsed = parseNabCsv(readFileSync(join(root, "data", path), "utf8"), path);
  return { path, category, file, ...parsed };
}

/** Reads the labelled windows as UTC milliseconds, or undefined when the corpus has no labels. */
export function readNabWindows(root: string): Record<string, [number, number][]> | undefined {
  const path = join(root, "labels", "combined_windows.json");
  if (!existsSync(path)) return undefined;
  const raw = JSON.parse(readFileSync(path, "utf8")) as unknown;
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new BenchDataError(`${path} must be an object of file paths to windows`);
  }
  const out: Record<string, [number, number][]> = {};
  for (const [file, windows] of Object.entries(raw as Record<string, unknown>)) {
    if (!Array.isArray(windows)) {
      throw new BenchDataError(`${path}: "${file}" must be a list of windows`);
    }
    out[file] = windows.map((w, k) => {
      if (
        !Array.isArray(w) || w.length !== 2 || typeof w[0] !== "string" || typeof w[1] !== "string"
      ) {
        throw new BenchDataError(`${path}: window ${k} of "${file}" must be [start, end] strings`);
      }
      return [parseNabTimestamp(w[0]), parseNabTimestamp(w[1])];
    });
  }
  return out;
}

/** Reads the scoring profiles (`profiles.json` or `config/profiles.json`), else NAB's defaults. */
export function readNabProfiles(root: string): Record<string, NabProfile> {
  const path = [join(root, "profiles.json"), join(root, "config", "profiles.json")].find(
    existsSync,
  );
  if (path === undefined) return { ...NAB_DEFAULT_PROFILES };
  const raw = JSON.parse(readFileSync(path, "utf8")) as Record<
    string,
    { CostMatrix?: Record<string, unknown> }
  >;
  const out: Record<string, NabProfile> = {};
  for (const [name, body] of Object.entries(raw)) {
    const cm = body?.CostMatrix;
    const num = (k: string) => {
      const x = cm?.[k];
      if (typeof x !== "number" || !Number.isFinite(x)) {
        throw new BenchDataError(
          `${path}: "${name}.CostMatrix.${k}" must be a number, got ${String(x)}`,
        );
      }
      return x;
    };
    out[name] = { tpWeight: num("tpWeight"), fpWeight: num("fpWeight"), fnWeight: num("fnWeight") };
  }
  return out;
}
