/**
 * OHLCV CSV history for one channel and bar size, as `actors.bars.history_dir` holds it: a line
 * per bar, `time,open,high,low,close[,volume]`, oldest first, with an optional header line naming
 * those columns. `time` is the bar's start: seconds since the Unix epoch (`1700000040`) or an ISO
 * 8601 date-time (`2023-11-14T22:14:00Z`; no zone means UTC), on the bar size's grid (a 1m bar
 * starts on a whole minute). Pure: the caller reads the file.
 *
 * A line that is not a bar (a field that is no number, a high under the open, a time off the grid
 * or not after the last good bar's) is reported with its line number and value and left out;
 * every good line is kept. Only the last `keep` bars are kept (a ring holds no more).
 */
import type { SeedBars } from "./kernel.ts";

/** A line of a CSV file that is not a bar. */
export interface CsvLineError {
  /** 1-based. */
  line: number;
  /** The field's text (or the line's, when the line is at fault). */
  value: string;
  /** What is wrong, naming the field. */
  message: string;
}

/** What a CSV file gave. */
export interface ParsedBarsCsv {
  /** The good bars, the last `keep` of them; `count` and `sum` both the volume (0 without it). */
  bars: SeedBars;
  /** Good bars left out because more than `keep` came after them. */
  olderDropped: number;
  errors: CsvLineError[];
}

/** Options of `parseBarsCsv`. */
export interface ParseBarsCsvOptions {
  /** The bar size, µs. */
  sizeUs: number;
  /** Bars kept at most: the last ones. */
  keep: number;
}

const COLUMNS = ["open", "high", "low", "close", "volume"] as const;
const TIME_HEADERS = new Set(["time", "timestamp", "date", "datetime", "t"]);
const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)?(Z|[+-]\d{2}:?\d{2})?$/;
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Epoch seconds as µs, or undefined past the safe integers. */
function secondsUs(text: string): number | undefined {
  const us = Math.round(Number(text) * 1e6);
  return Number.isSafeInteger(us) ? us : undefined;
}

/** A bar start in µs from a CSV time field, or undefined when it is neither form. */
export function parseCsvTime(text: string): number | undefined {
  if (NUMBER.test(text)) return secondsUs(text);
  const m = ISO.exec(text);
  if (!m) return undefined;
  let iso = text.replace(" ", "T");
  if (m[1] === undefined && iso.includes("T")) iso += "Z"; // no zone: UTC, not local time
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? ms * 1000 : undefined;
}

function isHeader(fields: string[]): boolean {
  return fields.length >= 5 && TIME_HEADERS.has(fields[0]!.trim().toLowerCase()) &&
    COLUMNS.every((c, i) => i >= fields.length - 1 || fields[i + 1]!.trim().toLowerCase() === c);
}

/**
 * A CSV field as a number: NaN for a field that is not a plain decimal (blank, `0x1F`, `1,5`...).
 * `Number()` does the work (it trims spaces); what it takes beyond decimals is refused here.
 */
function fieldNumber(f: string): number {
  const x = Number(f);
  if (x !== x || f.trim() === "") return NaN;
  const c0 = f.charCodeAt(0), c1 = f.charCodeAt(1);
  // Number() reads 0x.., 0b.., 0o.. and Infinity: not decimals.
  if (c0 === 48 && (c1 | 32) > 97 && (c1 | 32) !== 101) return NaN; // 0 then a letter but e
  return x;
}

/** The fields of a line, split on commas (a CSV of numbers has no quoted fields). */
function splitFields(line: string, out: string[]): number {
  let n = 0, from = 0;
  for (;;) {
    const at = line.indexOf(",", from);
    if (n < 8) out[n] = at < 0 ? line.slice(from) : line.slice(from, at);
    n++;
    if (at < 0) return n;
    from = at + 1;
  }
}

/**
 * Parses one CSV file's text; see the module's comment. One loop over the lines, longer than a
 * function should be: it runs once per bar of history (5 million at 10,000 files of 500 bars).
 */
export function parseBarsCsv(text: string, options: ParseBarsCsvOptions): ParsedBarsCsv {
  const { sizeUs, keep } = options;
  const lines = text.split("\n");
  const cols = Array.from({ length: 7 }, () => new Float64Array(lines.length));
  const errors: CsvLineError[] = [];
  let n = 0, last = -Infinity;
  const values = new Float64Array(5);
  const fields: string[] = [];
  for (let k = 0; k < lines.length; k++) {
    const raw = lines[k]!;
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.length === 0 || line.trim() === "") continue;
    const count = splitFields(line, fields);
    if (n === 0 && errors.length === 0 && count <= 6 && isHeader(fields.slice(0, count))) continue;
    const bad = (value: string, message: string) =>
      errors.push({ line: k + 1, value: value.trim(), message });
    if (count < 5 || count > 6) {
      bad(line, `expected 5 or 6 fields (time,open,high,low,close[,volume]), got ${count}`);
      continue;
    }
    const f0 = fields[0]!;
    const t = NUMBER.test(f0) ? secondsUs(f0) : parseCsvTime(f0.trim());
    if (t === undefined) {
      bad(f0, `field "time" must be epoch seconds or an ISO 8601 date-time`);
      continue;
    }
    if (t % sizeUs !== 0) {
      bad(f0, `field "time" is not the start of a bar of ${sizeUs / 1e6} s`);
      continue;
    }
    if (!(t > last)) {
      bad(f0, `field "time" must come after the bar before it`);
      continue;
    }
    let ok = true;
    for (let c = 0; c < 5 && ok; c++) {
      if (c + 1 >= count) {
        values[c] = 0; // no volume column
        continue;
      }
      const f = fields[c + 1]!;
      const x = fieldNumber(f);
      if (!Number.isFinite(x) || (c === 4 && x < 0)) {
        bad(f, `field "${COLUMNS[c]}" must be a ${c === 4 ? "number ≥ 0" : "finite number"}`);
        ok = false;
      }
      values[c] = x;
    }
    if (!ok) continue;
    const o = values[0]!, h = values[1]!, l = values[2]!, c = values[3]!;
    if (h < Math.max(o, l, c) || l > Math.min(o, c)) {
      bad(line, `high ${h} and low ${l} must bound open ${o} and close ${c}`);
      continue;
    }
    cols[0]![n] = t;
    cols[1]![n] = o;
    cols[2]![n] = h;
    cols[3]![n] = l;
    cols[4]![n] = c;
    cols[5]![n] = cols[6]![n] = values[4]!;
    n++;
    last = t;
  }
  const from = Math.max(0, n - keep);
  const take = (j: number) => cols[j]!.slice(from, n);
  return {
    bars: {
      sizeUs,
      t: take(0),
      open: take(1),
      high: take(2),
      low: take(3),
      close: take(4),
      count: take(5),
      sum: take(6),
    },
    olderDropped: from,
    errors,
  };
}
