/**
 * A CSV read as it arrives (`troupe inject --feed csv:-`, a pipe, `tail -f data.csv | troupe
 * inject --feed csv:-`): a frame goes out once a frame's worth of rows has arrived, or once input
 * has paused for `idleMs` with rows held, so a slow writer's rows are sent as they come rather
 * than at the end of the input. The formats and the handling of bad rows are csv.ts's.
 */
import { createReadStream } from "node:fs";
import process from "node:process";
import type { Readable } from "node:stream";
import type { SampleFrame } from "../../protocol/mod.ts";
import { readNumber } from "../../protocol/mod.ts";
import type { CsvFeed, CsvOptions } from "./csv.ts";
import { CsvFormatError } from "./csv_format_error.ts";
import type { GroundTruth } from "./feed.ts";
import { CsvRows, framesOf } from "./_csv_rows.ts";
import { optionRecord } from "./_options.ts";

/** Options of a CSV stream: the file's, and how long a pause sends what is held. */
export interface CsvStreamOptions extends CsvOptions {
  /** Rows held this long with no new input are sent. Default 100 ms. */
  idleMs?: number;
}

/** A line longer than this is a bad row (a stream has no size to refuse up front). */
export const CSV_LINE_BYTES_MAX = 64 * 1024;
/** Frames read ahead of the sender at most: past them the input is paused. */
const AHEAD_FRAMES_MAX = 64;

/** The name of the standard input as a CSV path. */
export const CSV_STDIN = "-";

/**
 * Opens `path` (`-`: the standard input) as a CSV feed read as it arrives: it resolves once the
 * first line that is not blank has decided the layout (or the input ended). Its `pull()` gives
 * the next step, waiting for rows; `next()` gives only what has already arrived.
 */
export async function openCsvStream(
  path: string,
  options: CsvStreamOptions = {},
): Promise<CsvFeed> {
  const { idleMs: rawIdle, ...csvOptions } = options;
  const idleMs = readNumber(optionRecord({ idleMs: rawIdle }), "idleMs", "", 100, {
    min: 1,
    max: 60_000,
  });
  const source = path === CSV_STDIN ? "standard input" : path;
  const name = csvOptions.channel ?? (path === CSV_STDIN ? "stdin" : stem(path));
  const batch = csvOptions.batch ?? 100;
  const rows = new CsvRows({ name, source, errorsMax: csvOptions.errorsMax ?? 1000 });
  const input: Readable = path === CSV_STDIN ? process.stdin : createReadStream(path);
  const reader = new LineReader(input, rows, source);
  await reader.untilLayout();
  const channels = rows.channels ?? [name];
  const format = rows.format ?? "value";
  const frames = new StreamFrames(rows, reader, {
    format,
    channels,
    batch,
    startUs: csvOptions.startUs,
  });
  return {
    name: "csv",
    channels,
    batch,
    format,
    get errors() {
      return rows.errors;
    },
    get errorCount() {
      return rows.errorCount;
    },
    next(): SampleFrame[] {
      frames.cut(reader.ended);
      return frames.step();
    },
    async pull(): Promise<SampleFrame[]> {
      for (;;) {
        frames.cut(reader.ended || reader.idleFor() >= idleMs);
        if (frames.queued > 0) return frames.step();
        if (reader.ended) {
          if (reader.failure) throw reader.failure;
          return [];
        }
        await reader.change(rows.held > 0 ? idleMs - reader.idleFor() : undefined);
      }
    },
    truth(): GroundTruth {
      return {
        feed: "csv",
        options: { path, channel: name, batch, idleMs },
        channels: [...channels],
        samples: frames.sent,
        startUs: frames.first,
        endUs: frames.last,
        anomalies: [],
        changePoints: [],
        regimes: [],
      };
    },
  };
}

/** How a stream's rows become frames. */
interface StreamLayout {
  format: "value" | "ohlcv";
  channels: readonly string[];
  batch: number;
  startUs: number | undefined;
}

/** The frames of a stream's rows, queued until sent; the reader paused while too many wait. */
class StreamFrames {
  readonly #rows: CsvRows;
  readonly #reader: LineReader;
  readonly #options: StreamLayout;
  readonly #queue: SampleFrame[] = [];
  #seq = 0;
  #shift: number | undefined;
  /** Samples per channel handed out, and the times of the first and the last. */
  sent = 0;
  first: number | null = null;
  last: number | null = null;

  constructor(rows: CsvRows, reader: LineReader, o: StreamLayout) {
    this.#rows = rows;
    this.#reader = reader;
    this.#options = o;
  }

  /** Frames queued, over every channel. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Moves the rows the reader holds into frames: all of them, or only whole batches. */
  cut(all: boolean): void {
    const rows = this.#rows, o = this.#options;
    if (rows.held === 0 || (!all && rows.held < o.batch)) return;
    const { t, cols } = rows.take();
    this.#shift ??= o.startUs === undefined ? 0 : o.startUs - t[0]!;
    if (this.#shift !== 0) { for (let k = 0; k < t.length; k++) t[k] = t[k]! + this.#shift; }
    this.#queue.push(...framesOf(t, cols, { ...o, seq0: this.#seq }));
    this.#seq += t.length;
    if (this.#queue.length >= AHEAD_FRAMES_MAX * o.channels.length) this.#reader.pause();
  }

  /** The next step off the queue: one frame per channel. */
  step(): SampleFrame[] {
    const frames = this.#queue.splice(0, this.#options.channels.length);
    if (frames.length > 0) {
      const t = frames[0]!.t;
      this.first ??= t[0]!;
      this.last = t[t.length - 1]!;
      this.sent += t.length;
    }
    if (this.#queue.length < AHEAD_FRAMES_MAX * this.#options.channels.length) {
      this.#reader.resume();
    }
    return frames;
  }
}

function stem(path: string): string {
  const base = path.slice(path.lastIndexOf("/") + 1);
  const dot = base.lastIndexOf(".");
  return dot > 0 ? base.slice(0, dot) : base;
}

/** Splits a byte stream into lines for `rows`, and says when something changed. */
class LineReader {
  readonly #input: Readable;
  readonly #rows: CsvRows;
  readonly #source: string;
  readonly #decoder = new TextDecoder();
  #partial = "";
  #lastData = performance.now();
  #wake: (() => void) | undefined;
  #paused = false;
  #overlong = false;
  ended = false;
  failure: CsvFormatError | undefined;

  constructor(input: Readable, rows: CsvRows, source: string) {
    this.#input = input;
    this.#rows = rows;
    this.#source = source;
    input.on("data", (chunk: Uint8Array | string) => this.#data(chunk));
    input.on("end", () => this.#end());
    input.on("error", (err: Error) => {
      this.failure = new CsvFormatError(source, `Cannot read ${source}: ${err.message}`, {
        cause: err,
      });
      this.#end();
    });
  }

  /** Resolves once the layout is known or the input ended; throws what a header was wrong in. */
  async untilLayout(): Promise<void> {
    while (this.#rows.format === undefined && !this.ended) await this.change();
    if (this.failure) throw this.failure;
  }

  /** Milliseconds since input last arrived. */
  idleFor(): number {
    return performance.now() - this.#lastData;
  }

  /** Resolves when input arrives or ends, or after `ms` when given. */
  change(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = () => {
        clearTimeout(timer);
        if (this.#wake === done) this.#wake = undefined;
        resolve();
      };
      if (ms !== undefined) timer = setTimeout(done, Math.max(0, ms));
      this.#wake = done;
    });
  }

  pause(): void {
    if (!this.#paused && !this.ended) this.#input.pause();
    this.#paused = true;
  }

  resume(): void {
    if (this.#paused && !this.ended) this.#input.resume();
    this.#paused = false;
  }

  #data(chunk: Uint8Array | string): void {
    this.#lastData = performance.now();
    let text = this.#partial +
      (typeof chunk === "string" ? chunk : this.#decoder.decode(chunk, { stream: true }));
    if (this.#overlong) {
      // The rest of a line already reported as too long: dropped up to its line break.
      const end = text.indexOf("\n");
      if (end < 0) return void (this.#partial = "");
      text = text.slice(end + 1);
      this.#overlong = false;
    }
    const lines = text.split(/\r?\n/);
    this.#partial = lines.pop()!;
    try {
      for (const line of lines) this.#rows.push(line);
      if (this.#partial.length > CSV_LINE_BYTES_MAX) {
        this.#rows.skip(`line is over ${CSV_LINE_BYTES_MAX} bytes`, this.#partial);
        this.#partial = "";
        this.#overlong = true;
      }
    } catch (err) {
      this.failure = err instanceof CsvFormatError
        ? err
        : new CsvFormatError(this.#source, (err as Error).message, { cause: err });
      this.#input.destroy();
      this.#end();
      return;
    }
    this.#wake?.();
  }

  #end(): void {
    if (this.ended) return;
    if (this.#partial !== "" && this.failure === undefined) {
      try {
        this.#rows.push(this.#partial);
      } catch (err) {
        this.failure = new CsvFormatError(this.#source, (err as Error).message, { cause: err });
      }
      this.#partial = "";
    }
    this.ended = true;
    this.#wake?.();
  }
}
