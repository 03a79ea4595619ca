/**
 * Real data in: CSV files read into sample frames. Two layouts:
 * - `timestamp,value` (NAB's format, `2014-07-01 00:00:00,10844`): one channel;
 * - OHLCV, with a header naming `open`, `high`, `low`, `close` and `volume` (any order, other
 *   columns ignored) and a time column named `timestamp`, `time`, `date` or `datetime`: channels
 *   `<name>` (the close), `<name>_open`, `<name>_high`, `<name>_low`, `<name>_vol`, as the market
 *   feed's bars.
 * The header is optional for `timestamp,value` (and for six-column OHLCV in that order). Times are
 * `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS[.ffffff]]` (or with `T`), optionally with `Z` or `±HH:MM`;
 * without a zone they are UTC, as NAB's are. A plain number is an epoch time: seconds below 1e11,
 * milliseconds below 1e14, microseconds above.
 *
 * Bad input loses nothing that was good: each bad row is reported with its line number, the reason
 * and the offending value, and every good row is kept. A row whose time is before the previous good
 * row's is bad (frames need non-decreasing time); an equal time is kept.
 */
import { readFileSync, statSync } from "node:fs";
import { basename, extname } from "node:path";
import type { SampleFrame } from "../../protocol/mod.ts";
import { ConfigError, isValidName, readNumber, readString } from "../../protocol/mod.ts";
import type { Feed, GroundTruth } from "./feed.ts";
import { optionRecord, rejectUnknownOptions } from "./_options.ts";

/** A bad row: its 1-based line number, why it is bad, and the offending text. */
export interface CsvRowError {
  line: number;
  reason: string;
  value: string;
  /** `line 17: value "abc" is not a number`. */
  message: string;
}

/** Options of the CSV reader. */
export interface CsvOptions {
  /** The channel (OHLCV: the channels' stem). Default: the file's name without its extension. */
  channel?: string;
  /** Samples per frame, 1 to 65536. Default 100. */
  batch?: number;
  /** Bad rows listed at most (all are counted). Default 1000. */
  errorsMax?: number;
  /** Files larger than this are refused. Default 256 MiB. */
  bytesMax?: number;
  /**
   * Shift every time so that the first good row is at this time (µs). Default: the file's times.
   */
  startUs?: number;
}

/** What a CSV read gives. */
export interface CsvResult {
  format: "value" | "ohlcv";
  channels: string[];
  /** Good rows, per channel. */
  samples: number;
  /** Step by step: frames of `batch` samples, one per channel, in `channels` order. */
  frames: SampleFrame[];
  /** The first `errorsMax` bad rows, in line order. */
  errors: CsvRowError[];
  /** Every bad row, listed or not. */
  errorCount: number;
}

/** A file that cannot be read as CSV at all (unreadable, too large, an unknown header). */
export class CsvFormatError extends Error {
  override name = "CsvFormatError";
  readonly source: string;
  constructor(source: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.source = source;
  }
}

const KNOWN = ["channel", "batch", "errorsMax", "bytesMax", "startUs"] as const;
const OHLCV = ["open", "high", "low", "close", "volume"] as const;
const TIME_NAMES = ["timestamp", "time", "date", "datetime"];
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?)?(Z|[+-]\d{2}:?\d{2})?$/;
const EPOCH = /^\d+(\.\d+)?$/;
const VALUE_SHOWN_MAX = 80;

interface Resolved {
  channel: string | undefined;
  batch: number;
  errorsMax: number;
  bytesMax: number;
  startUs: number | undefined;
}

function resolve(raw: unknown): Resolved {
  const obj = optionRecord(raw);
  rejectUnknownOptions(obj, KNOWN, "csv");
  const channel = obj.channel === undefined ? undefined : readString(obj, "channel", "", "");
  return {
    channel,
    batch: readNumber(obj, "batch", "", 100, { integer: true, min: 1, max: 65_536 }),
    errorsMax: readNumber(obj, "errorsMax", "", 1000, { integer: true, min: 0 }),
    bytesMax: readNumber(obj, "bytesMax", "", 256 * 1024 * 1024, { integer: true, min: 1 }),
    startUs: obj.startUs === undefined ? undefined : readNumber(obj, "startUs", "", 0, { min: 0 }),
  };
}

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
function channelsOf(format: "value" | "ohlcv", name: string, source: string): string[] {
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

/**
 * Parses CSV text into frames. `channel` names the channel (OHLCV: the stem of its channels);
 * `source` names the text in messages (a path). Never throws for a bad row; throws a
 * CsvFormatError for an unknown header and a ConfigError for a bad option or channel name.
 */
export function parseCsv(
  text: string,
  options: CsvOptions & { channel: string; source?: string },
): CsvResult {
  const source = options.source ?? "CSV text";
  const o = resolve({ ...options, source: undefined });
  const name = o.channel ?? options.channel;
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const errors: CsvRowError[] = [];
  let errorCount = 0;
  const bad: BadRow = (line, reason, value) => {
    errorCount++;
    if (errors.length < o.errorsMax) {
      const v = shown(value);
      errors.push({
        line,
        reason,
        value: v,
        message: `line ${line}: ${reason}, got ${JSON.stringify(v)}`,
      });
    }
  };

  let i = 0;
  while (i < lines.length && lines[i]!.trim() === "") i++;
  if (i === lines.length) {
    return {
      format: "value",
      channels: channelsOf("value", name, source),
      samples: 0,
      frames: [],
      errors,
      errorCount,
    };
  }
  const first = splitRow(lines[i]!);
  let layout: Layout;
  if (parseTimestamp(first[0]!) !== undefined && (first.length === 2 || first.length === 6)) {
    // No header: the first line is data.
    layout = first.length === 2
      ? { format: "value", columns: 2, time: 0, fields: [1], names: ["value"] }
      : { format: "ohlcv", columns: 6, time: 0, fields: [1, 2, 3, 4, 5], names: [...OHLCV] };
  } else {
    layout = layoutOf(first, source, i + 1);
    i++;
  }
  const channels = channelsOf(layout.format, name, source);
  const { t, cols } = readRows(lines, i, layout, bad);
  if (o.startUs !== undefined && t.length > 0) {
    const shift = o.startUs - t[0]!;
    for (let k = 0; k < t.length; k++) t[k] = t[k]! + shift;
  }
  const frames = framesOf(t, cols, { format: layout.format, channels, batch: o.batch });
  return { format: layout.format, channels, samples: t.length, frames, errors, errorCount };
}

/** Reports a bad row: its line, what is wrong, and the text it is about. */
type BadRow = (line: number, reason: string, value: string) => void;

/** The rows of `lines` from index `from` on, as times and a column per field; bad ones reported. */
function readRows(
  lines: readonly string[],
  from: number,
  layout: Layout,
  bad: BadRow,
): { t: number[]; cols: number[][] } {
  const width = layout.fields.length;
  const t: number[] = [];
  const cols: number[][] = layout.fields.map(() => []);
  const row = new Float64Array(width);
  let lastTime = -Infinity;
  let lastLine = 0;
  let lastText = "";
  rows: for (let i = from; i < lines.length; i++) {
    const raw = lines[i]!;
    const line = i + 1;
    if (raw.trim() === "") continue;
    const cells = splitRow(raw);
    if (cells.length !== layout.columns) {
      bad(line, `expected ${layout.columns} fields, found ${cells.length}`, raw);
      continue;
    }
    const timeText = cells[layout.time]!;
    const time = parseTimestamp(timeText);
    if (time === undefined) {
      bad(line, "timestamp is not a date-time", timeText);
      continue;
    }
    for (let f = 0; f < width; f++) {
      const cell = cells[layout.fields[f]!]!;
      const x = NUMBER.test(cell) ? Number(cell) : NaN;
      if (!Number.isFinite(x)) {
        bad(line, `${layout.names[f]} is not a finite number`, cell);
        continue rows;
      }
      row[f] = x;
    }
    const why = layout.format === "ohlcv" ? barProblem(row) : undefined;
    if (why) {
      bad(line, why, raw);
      continue;
    }
    if (time < lastTime) {
      bad(line, `timestamp is before line ${lastLine}'s ${JSON.stringify(lastText)}`, timeText);
      continue;
    }
    lastTime = time;
    lastLine = line;
    lastText = timeText;
    t.push(time);
    for (let f = 0; f < width; f++) cols[f]!.push(row[f]!);
  }
  return { t, cols };
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

/** The frames of the rows' times and columns, `batch` samples each, on `channels`. */
function framesOf(
  t: readonly number[],
  cols: readonly number[][],
  o: { format: "value" | "ohlcv"; channels: readonly string[]; batch: number },
): SampleFrame[] {
  // Channel order: value, or close, open, high, low, volume (as channelsOf names them).
  const order = o.format === "value" ? [0] : [3, 0, 1, 2, 4];
  const frames: SampleFrame[] = [];
  for (let from = 0; from < t.length; from += o.batch) {
    const to = Math.min(t.length, from + o.batch);
    const times = Float64Array.from(t.slice(from, to));
    for (const [c, f] of order.entries()) {
      frames.push({
        channel: o.channels[c]!,
        seq0: from,
        t: c === 0 ? times : times.slice(),
        v: Float64Array.from(cols[f]!.slice(from, to)),
      });
    }
  }
  return frames;
}

/** Reads a CSV file into frames (see `parseCsv`). The channel defaults to the file's stem. */
export function readCsv(path: string, options: CsvOptions = {}): CsvResult {
  const o = resolve(options);
  let text: string;
  try {
    const size = statSync(path).size;
    if (size > o.bytesMax) {
      throw new CsvFormatError(
        path,
        `Cannot read ${path}: ${size} bytes is over the limit of ${o.bytesMax}`,
      );
    }
    text = readFileSync(path, "utf8");
  } catch (err) {
    if (err instanceof CsvFormatError) throw err;
    throw new CsvFormatError(path, `Cannot read ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const channel = o.channel ?? basename(path, extname(path));
  return parseCsv(text, { ...options, channel, source: path });
}

/** A CSV file as a finite Feed, with the bad rows it skipped. */
export interface CsvFeed extends Feed {
  readonly format: "value" | "ohlcv";
  readonly errors: readonly CsvRowError[];
  readonly errorCount: number;
}

/** Opens a CSV file as a Feed: `next()` returns its frames step by step, then `[]`. */
export function createCsvFeed(path: string, options: CsvOptions = {}): CsvFeed {
  const o = resolve(options);
  const result = readCsv(path, options);
  const perStep = result.channels.length;
  let step = 0;
  let sent = 0;
  return {
    name: "csv",
    channels: result.channels,
    batch: o.batch,
    format: result.format,
    errors: result.errors,
    errorCount: result.errorCount,
    next(): SampleFrame[] {
      const frames = result.frames.slice(step * perStep, (step + 1) * perStep);
      if (frames.length) {
        step++;
        sent += frames[0]!.t.length;
      }
      return frames; // built once and never touched again: the caller may keep them
    },
    truth(): GroundTruth {
      const all = result.frames;
      const lastFrame = sent > 0 ? all[(step - 1) * perStep]! : undefined;
      return {
        feed: "csv",
        options: {
          path,
          channel: o.channel ?? result.channels[0],
          batch: o.batch,
          errorsMax: o.errorsMax,
          bytesMax: o.bytesMax,
          ...(o.startUs === undefined ? {} : { startUs: o.startUs }),
        },
        channels: [...result.channels],
        samples: sent,
        startUs: sent > 0 ? all[0]!.t[0]! : null,
        endUs: lastFrame ? lastFrame.t[lastFrame.t.length - 1]! : null,
        anomalies: [],
        changePoints: [],
        regimes: [],
      };
    },
  };
}
