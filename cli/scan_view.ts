/**
 * How `troupe scan` shows a scan: each result as a table row (or an NDJSON line) on stdout as it
 * arrives; on a terminal, a progress line with the live statistics on stderr, cleared before each
 * row and drawn again after it; a summary line on stderr at the end. Partitions whose hosts did not
 * answer (their symbols are not in the scan) are named once, on a line of their own on stderr, in
 * both modes: stdout keeps only the results.
 */
import type { ScanResult, ScanStats } from "../protocol/mod.ts";

/** A result as the scan API sends it. */
export type Result = ScanResult;

/** A scan's statistics as the scan API sends them: the fields shown (the chunks are not). */
export type Stats = Omit<ScanStats, "chunks_total" | "chunks_done" | "partitions_missing"> & {
  partitions_missing?: number[];
};

/** Options of a ScanView. */
export interface ScanViewOptions {
  /** NDJSON instead of a table. */
  json: boolean;
  /** stderr is a terminal: keep a progress line. */
  tty: boolean;
  out(text: string): void;
  err(text: string): void;
}

const BAR_WIDTH = 24;
const CLEAR = "\r\x1b[K";

const int = (n: number) => Math.round(n).toLocaleString("en-US");

function ms(n: number): string {
  return n < 1000 ? `${n.toFixed(n < 10 ? 1 : 0)} ms` : `${(n / 1000).toFixed(1)} s`;
}

/** The progress line of `s`: a bar, done/total, signals, first result, rate, ETA. */
export function progressLine(s: Stats): string {
  const f = s.symbols_total > 0 ? Math.min(1, s.symbols_done / s.symbols_total) : 0;
  const filled = Math.round(f * BAR_WIDTH);
  return `[${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}] ${(f * 100).toFixed(0)}% ` +
    `${int(s.symbols_done)}/${int(s.symbols_total)} symbols · ${int(s.signals)} signals` +
    (s.first_result_ms === null ? "" : ` · first ${ms(s.first_result_ms)}`) +
    ` · ${int(s.symbols_per_s)}/s` + (s.eta_ms === null ? "" : ` · ETA ${ms(s.eta_ms)}`);
}

/** The summary line of a scan that ended. */
export function summaryLine(s: Stats): string {
  const why = s.state === "stopped" && s.stop_reason ? ` (${s.stop_reason})` : "";
  return `${s.state}${why}: ${int(s.symbols_done)} of ${int(s.symbols_total)} symbols in ` +
    `${ms(s.elapsed_ms)}, ${int(s.signals)} signals` +
    (s.first_result_ms === null ? "" : ` (first after ${ms(s.first_result_ms)})`) +
    `, ${int(s.insufficient_history)} with too little history, ${int(s.unknown_symbols)} unknown` +
    (s.error ? `; error: ${s.error}` : "");
}

/** The line naming the partitions a scan left out. */
export function missingLine(partitions: readonly number[]): string {
  const one = partitions.length === 1;
  const which = `${one ? "partition" : "partitions"} ${partitions.join(", ")}`;
  return `${which} did not answer: ${one ? "its" : "their"} symbols are not in this scan`;
}

/** Shows one scan. */
export class ScanView {
  readonly #options: ScanViewOptions;
  #rows = 0;
  #line = "";
  #missingShown = false;

  constructor(options: ScanViewOptions) {
    this.#options = options;
  }

  /** Shows a result as it arrives. */
  result(r: Result): void {
    if (this.#options.json) {
      // The fields named, not the message as it came: the WebSocket's carries its `type` too.
      const line = { seq: r.seq, symbol: r.symbol, rank: r.rank, chunk: r.chunk };
      this.#options.out(`${JSON.stringify(line)}\n`);
      return;
    }
    this.#clear();
    if (this.#rows++ === 0) this.#options.out(`${"#".padStart(6)}  ${"symbol".padEnd(16)}  rank\n`);
    const rank = r.rank === null ? "" : Number(r.rank.toPrecision(6)).toString();
    this.#options.out(`${String(r.seq).padStart(6)}  ${r.symbol.padEnd(16)}  ${rank}\n`);
    this.#draw();
  }

  /** Updates the progress line (on a terminal only). */
  progress(s: Stats): void {
    if (!this.#options.tty) return;
    this.#line = progressLine(s);
    this.#draw();
  }

  /** A line of its own on stderr, below the progress line. */
  note(text: string): void {
    this.#clear();
    this.#options.err(`${text.replace(/^\n/, "")}\n`);
    this.#draw();
  }

  /** Names the partitions left out, once per scan (from the POST response or the final stats). */
  partitionsMissing(partitions: readonly number[] | undefined): void {
    if (!partitions?.length || this.#missingShown) return;
    this.#missingShown = true;
    this.note(`troupe scan: ${missingLine(partitions)}`);
  }

  /** Clears the progress line and prints the summary (or that none came). */
  finish(s: Stats | undefined): void {
    this.partitionsMissing(s?.partitions_missing);
    this.#clear();
    this.#line = "";
    if (!this.#options.json && this.#rows === 0 && s) {
      this.#options.err("no symbol met the criteria\n");
    }
    this.#options.err(s ? `${summaryLine(s)}\n` : "the scan's end was not received\n");
  }

  #clear(): void {
    if (this.#options.tty && this.#line) this.#options.err(CLEAR);
  }

  #draw(): void {
    if (this.#options.tty && this.#line) this.#options.err(this.#line);
  }
}
