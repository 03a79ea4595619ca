/**
 * Reading CSV lines into rows, line by line, so that a file and a pipe read alike: the layout
 * (from a header, or from a first line that is data), each row's time and fields checked, a bad
 * row reported with its line number, the reason and the offending value, and skipped. The formats
 * are csv.ts's (see its module comment).
 */
import type { SampleFrame } from "../../protocol/mod.ts";
import { ConfigError, isValidName } from "../../protocol/mod.ts";
import { CsvFormatError } from "./csv_format_error.ts";

/** A bad row: its 1-based line number, why it is bad, and the offending text. */
export interface CsvRowError {
  line: number;
  reason: string;
  value: string;
  /** `line 17: value "abc" is not a number`. */
  message: string;
}

export const OHLCV = ["open", "high", "low", "close", "volume"] as const;
const TIME_NAMES = ["timestamp", "time", "date", "datetime"];
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?)?(Z|[+-]\d{2}:?\d{2})?$/;
const EPOCH = /^\d+(\.\d+)?$/;
const VALUE_SHOWN_MAX = 80;

/**
 * Parses an event time into microseconds since the epoch, or returns undefined. See the module
 * comment for the accepted forms.
 */
export function parseTimestamp(text: string): number | undefined {
  if (EPOCH.test(text)) {
    const x = Number(text);
    if (!Number.isFinite(x)) return undefined;
    return Math.round(x < 1e11 ? x * 1e6 : x < 1e14 ? x * 1e3 : x);
  }
  const m = DATE_TIME.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h = "0", mi = "0", s = "0", frac, zone] = m;
  const year = Number(y), month = Number(mo), day = Number(d);
  const hour = Number(h), minute = Number(mi), second = Number(s);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) {
    return undefined;
  }
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC rolls 2014-02-30 over into March: refuse it instead.
  if (new Date(ms).getUTCDate() !== day) return undefined;
  let offsetMinutes = 0;
  if (zone && zone !== "Z") {
    const sign = zone[0] === "-" ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    const zh = Number(digits.slice(0, 2)), zm = Number(digits.slice(2));
    if (zh > 23 || zm > 59) return undefined;
    offsetMinutes = sign * (zh * 60 + zm);
  }
  const fracUs = frac ? Math.round(Number(`0${frac}`) * 1e6) : 0;
  return (ms - offsetMinutes * 60_000) * 1000 + fracUs;
}

function shown(text: string): string {
  return text.length > VALUE_SHOWN_MAX ? `${text.slice(0, VALUE_SHOWN_MAX - 3)}...` : text;
}

function splitRow(line: string): string[] {
  return line.split(",").map((f) => {
    const x = f.trim();
    return x.length >= 2 && x.startsWith('"') && x.endsWith('"') ? x.slice(1, -1).trim() : x;
  });
}

/** Column positions of a layout: the time, then one per channel field (value, or OHLCV). */
interface Layout {
  format: "value" | "ohlcv";
  columns: number;
  time: number;
  /** value: [value]; ohlcv: open, high, low, close, volume. */
  fields: number[];
  names: string[];
}

function layoutOf(header: string[], source: string, line: number): Layout {
  const names = header.map((h) => h.toLowerCase());
  const time = names.findIndex((n) => TIME_NAMES.includes(n));
  const fields = OHLCV.map((f) => names.indexOf(f));
  if (time >= 0 && fields.every((i) => i >= 0)) {
    return { format: "ohlcv", columns: names.length, time, fields, names: [...OHLCV] };
  }
  if (names.length === 2 && time === 0) {
    return { format: "value", columns: 2, time: 0, fields: [1], names: [names[1] || "value"] };
  }
  throw new CsvFormatError(
    source,
    `Cannot read ${source}: line ${line} has header ${
      JSON.stringify(header.join(","))
    }; expected "timestamp,value" or a time column (${
      TIME_NAMES.join(", ")
    }) with open, high, low, close, volume`,
  );
}

/** The channels of a layout for a name, checked. */
export function channelsOf(format: "value" | "ohlcv", name: string, source: string): string[] {
  const channels = format === "value"
    ? [name]
    : [name, `${name}_open`, `${name}_high`, `${name}_low`, `${name}_vol`];
  for (const c of channels) {
    if (!isValidName(c)) {
      throw new ConfigError(
        "channel",
        `Cannot name a channel ${JSON.stringify(c)} for ${source}: channel names are 1 to 64 of ` +
          `A-Z a-z 0-9 _ -; pass the channel option`,
        { value: c },
      );
    }
  }
  return channels;
}

/** Rows read so far: their times (µs) and one column per field. */
export interface CsvRowBatch {
  t: number[];
  cols: number[][];
}

/** Options of a CsvRows reader. */
export interface CsvRowsOptions {
  /** The channel, or the stem of the OHLCV channels. */
  name: string;
  /** What the lines are, in messages (a path). */
  source: string;
  /** Bad rows listed at most (all are counted). */
  errorsMax: number;
}

/**
 * Reads CSV lines one at a time. The first line that is not blank decides the layout: a header,
 * or data (`timestamp,value`, or six columns of OHLCV in order). Throws a CsvFormatError for an
 * unknown header and a ConfigError for a channel name the file's stem cannot be; never for a bad
 * row.
 */
export class CsvRows {
  readonly #options: CsvRowsOptions;
  #layout: Layout | undefined;
  #channels: string[] | undefined;
  #line = 0;
  #times: number[] = [];
  #cols: number[][] = [];
  #row = new Float64Array(5);
  #lastTime = -Infinity;
  #lastLine = 0;
  #lastText = "";
  /** The first `errorsMax` bad rows, in line order. */
  readonly errors: CsvRowError[] = [];
  /** Every bad row, listed or not. */
  errorCount = 0;

  constructor(options: CsvRowsOptions) {
    this.#options = options;
  }

  /** The layout's format; undefined until a line decided it. */
  get format(): "value" | "ohlcv" | undefined {
    return this.#layout?.format;
  }

  /** The channels of the layout; undefined until a line decided it. */
  get channels(): string[] | undefined {
    return this.#channels;
  }

  /** Rows held and not taken yet. */
  get held(): number {
    return this.#times.length;
  }

  /** Reads the next line (without its line break). */
  push(raw: string): void {
    const line = ++this.#line;
    if (line === 1) raw = raw.replace(/^\uFEFF/, "");
    if (raw.trim() === "") return;
    if (this.#layout === undefined && this.#decide(raw, line) === "header") return;
    this.#read(raw, line);
  }

  /** Counts the next line as bad without reading it (a line too long to hold), naming why. */
  skip(reason: string, value: string): void {
    this.#bad(++this.#line, reason, value);
  }

  /** The rows read since the last take. */
  take(): CsvRowBatch {
    const batch = { t: this.#times, cols: this.#cols };
    this.#times = [];
    this.#cols = this.#layout ? this.#layout.fields.map(() => []) : [];
    return batch;
  }

  /** Sets the layout from the first line that is not blank, and says what that line was. */
  #decide(raw: string, line: number): "header" | "data" {
    const first = splitRow(raw);
    const data = parseTimestamp(first[0]!) !== undefined &&
      (first.length === 2 || first.length === 6);
    const layout: Layout = !data
      ? layoutOf(first, this.#options.source, line)
      : first.length === 2
      ? { format: "value", columns: 2, time: 0, fields: [1], names: ["value"] }
      : { format: "ohlcv", columns: 6, time: 0, fields: [1, 2, 3, 4, 5], names: [...OHLCV] };
    this.#channels = channelsOf(layout.format, this.#options.name, this.#options.source);
    this.#layout = layout;
    this.#cols = layout.fields.map(() => []);
    return data ? "data" : "header";
  }

  #bad(line: number, reason: string, value: string): void {
    this.errorCount++;
    if (this.errors.length < this.#options.errorsMax) {
      const v = shown(value);
      this.errors.push({
        line,
        reason,
        value: v,
        message: `line ${line}: ${reason}, got ${JSON.stringify(v)}`,
      });
    }
  }

  #read(raw: string, line: number): void {
    const layout = this.#layout!;
    const width = layout.fields.length;
    const row = this.#row;
    const cells = splitRow(raw);
    if (cells.length !== layout.columns) {
      return this.#bad(line, `expected ${layout.columns} fields, found ${cells.length}`, raw);
    }
    const timeText = cells[layout.time]!;
    const time = parseTimestamp(timeText);
    if (time === undefined) return this.#bad(line, "timestamp is not a date-time", timeText);
    for (let f = 0; f < width; f++) {
      const cell = cells[layout.fields[f]!]!;
      const x = NUMBER.test(cell) ? Number(cell) : NaN;
      if (!Number.isFinite(x)) {
        return this.#bad(line, `${layout.names[f]} is not a finite number`, cell);
      }
      row[f] = x;
    }
    const why = layout.format === "ohlcv" ? barProblem(row) : undefined;
    if (why) return this.#bad(line, why, raw);
    if (time < this.#lastTime) {
      const before = `timestamp is before line ${this.#lastLine}'s ${
        JSON.stringify(this.#lastText)
      }`;
      return this.#bad(line, before, timeText);
    }
    this.#lastTime = time;
    this.#lastLine = line;
    this.#lastText = timeText;
    this.#times.push(time);
    for (let f = 0; f < width; f++) this.#cols[f]!.push(row[f]!);
  }
}

/** What is wrong with a bar (open, high, low, close, volume), or undefined. */
function barProblem(row: Float64Array): string | undefined {
  const open = row[0]!, high = row[1]!, low = row[2]!, close = row[3]!, volume = row[4]!;
  return high < low
    ? `high ${high} is below low ${low}`
    : high < Math.max(open, close)
    ? `high ${high} is below open ${open} or close ${close}`
    : low > Math.min(open, close)
    ? `low ${low} is above open ${open} or close ${close}`
    : volume < 0
    ? `volume ${volume} is negative`
    : undefined;
}

/**
 * The frames of the rows' times and columns, `batch` samples each, on `channels`, numbered from
 * `seq0` (default 0).
 */
export function framesOf(
  t: readonly number[],
  cols: readonly number[][],
  o: { format: "value" | "ohlcv"; channels: readonly string[]; batch: number; seq0?: number },
): SampleFrame[] {
  const seq0 = o.seq0 ?? 0;
  // Channel order: value, or close, open, high, low, volume (as channelsOf names them).
  const order = o.format === "value" ? [0] : [3, 0, 1, 2, 4];
  const frames: SampleFrame[] = [];
  for (let from = 0; from < t.length; from += o.batch) {
    const to = Math.min(t.length, from + o.batch);
    const times = Float64Array.from(t.slice(from, to));
    for (const [c, f] of order.entries()) {
      frames.push({
        channel: o.channels[c]!,
        seq0: seq0 + from,
        t: c === 0 ? times : times.slice(),
        v: Float64Array.from(cols[f]!.slice(from, to)),
      });
    }
  }
  return frames;
}
