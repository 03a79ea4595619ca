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
import { readNumber, readString } from "../../protocol/mod.ts";
import type { Feed, GroundTruth } from "./feed.ts";
import { channelsOf, type CsvRowError, CsvRows, framesOf } from "./_csv_rows.ts";
import { CsvFormatError } from "./csv_format_error.ts";

import { optionRecord, rejectUnknownOptions } from "./_options.ts";

export { CsvFormatError } from "./csv_format_error.ts";
export { type CsvRowError, parseTimestamp } from "./_csv_rows.ts";

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

const KNOWN = ["channel", "batch", "errorsMax", "bytesMax", "startUs"] as const;
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
  const rows = new CsvRows({ name, source, errorsMax: o.errorsMax });
  for (const line of text.split(/\r?\n/)) rows.push(line);
  const format = rows.format ?? "value";
  const channels = rows.channels ?? channelsOf("value", name, source);
  const { t, cols } = rows.take();
  if (o.startUs !== undefined && t.length > 0) {
    const shift = o.startUs - t[0]!;
    for (let k = 0; k < t.length; k++) t[k] = t[k]! + shift;
  }
  const frames = framesOf(t, cols, { format, channels, batch: o.batch });
  const { errors, errorCount } = rows;
  return { format, channels, samples: t.length, frames, errors, errorCount };
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
