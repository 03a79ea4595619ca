/**
 * `actors.bars.history_dir`: a directory of OHLCV CSV files, `<channel>.<size>.csv` (`AAPL.1m.csv`;
 * channel names hold no dots), that seeds the bars actors' rings when a host starts, so a scan has
 * history at once instead of after hours of live bars. Each file becomes one journaled seed input
 * of `bars/<channel>` (`Host.seed`), its id naming the file and the SHA-256 of its bytes, so the
 * journal alone replays to the same bars, and a channel the host already holds (recovered from its
 * journal) is not seeded again: what it holds already includes its seed or newer bars.
 *
 * Seeding runs in slices of a few milliseconds, letting the event loop turn between them: 10,000
 * files take seconds, during which the host answers /healthz (not ready, "seeding", with the
 * count) and applies what it journaled so far. The files are read, parsed and seeded in name
 * order, one journaled seed input each, whatever the slicing: the journal is the same.
 *
 * Bad input loses nothing good: a line that is not a bar is reported with file, line and value and
 * left out (bars_csv.ts); a file with a name that is not `<channel>.<size>.csv` of a configured
 * size is reported and skipped. A directory that cannot be read is an error naming it.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setImmediate } from "node:timers";
import { type BarsConfig, barSizeUs } from "./config.ts";
import { parseBarsCsv } from "./bars_csv.ts";
import { barsSeedBody } from "./bars_seed.ts";

/** What seeding needs of a host (a `Host` is one). */
export interface SeedTarget {
  /** Journals and applies a seed; false when another host owns the key. */
  seed(kind: string, key: string, seed: { id: string; body: unknown }): boolean;
  /** The instance of `(kind, key)` if it lives here. */
  instance(kind: string, key: string): unknown;
}

/** What seeding from a history directory did. */
export interface BarsHistoryReport {
  /** CSV files found. */
  files: number;
  /** Files seeded. */
  seeded: number;
  /** Bars seeded, all files. */
  bars: number;
  /** Files passed over: their channel was held already (recovered). */
  held: number;
  /** Files passed over: another host owns their channel's partition. */
  elsewhere: number;
  /** Lines left out as not bars. */
  bad_lines: number;
  /** Good bars left out: older than the last `history_bars` of their file. */
  older_dropped: number;
  /** Every problem, one line each: `<file>:<line>: <what>, got <value>`, or `<file>: <what>`. */
  errors: string[];
}

const FILE = /^([A-Za-z0-9_-]{1,64})\.([^.]+)\.csv$/;

const isDeno = "Deno" in globalThis;

/**
 * Resolves once the event loop has turned: timers and I/O (an HTTP request) ran. Node's
 * setImmediate does that; Deno's runs its immediates before timers and I/O (a chain of them
 * starved /healthz in a test), so on Deno a timer waits instead.
 */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => isDeno ? setTimeout(resolve, 0) : setImmediate(resolve));
}

/** Options of `seedBarsHistory`. */
export interface SeedHistoryOptions {
  log?: (message: string) => void;
  /** Told the files done and found, after each slice. */
  progress?: (done: number, files: number) => void;
  /** Milliseconds of work before the event loop gets a turn (default 20). */
  slice_ms?: number;
}

/** Seeds `target`'s bars actors from `config.history_dir` (nothing when it is unset). */
export async function seedBarsHistory(
  target: SeedTarget,
  config: BarsConfig,
  options: SeedHistoryOptions = {},
): Promise<BarsHistoryReport> {
  const report: BarsHistoryReport = {
    files: 0,
    seeded: 0,
    bars: 0,
    held: 0,
    elsewhere: 0,
    bad_lines: 0,
    older_dropped: 0,
    errors: [],
  };
  const dir = config.history_dir;
  if (dir === undefined) return report;
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith(".csv")).sort();
  } catch (err) {
    throw new Error(
      `Cannot read actors.bars.history_dir "${dir}": ${(err as Error).message ?? err}`,
      { cause: err },
    );
  }
  const sizes = new Set(config.bar_sizes.map((s) => barSizeUs(s)!));
  const held = new Set<string>();
  for (const name of names) {
    const m = FILE.exec(name);
    if (m && target.instance("bars", m[1]!) !== undefined) held.add(m[1]!);
  }
  const sliceMs = options.slice_ms ?? 20;
  let sliceEnd = performance.now() + sliceMs;
  for (const name of names) {
    if (performance.now() >= sliceEnd) {
      options.progress?.(report.files, names.length);
      await nextTurn();
      sliceEnd = performance.now() + sliceMs;
    }
    report.files++;
    const path = join(dir, name);
    const m = FILE.exec(name);
    const sizeUs = m ? barSizeUs(m[2]!) : undefined;
    if (!m || sizeUs === undefined || !sizes.has(sizeUs)) {
      report.errors.push(
        `${path}: not <channel>.<size>.csv with a size of actors.bars.bar_sizes (${
          config.bar_sizes.join(", ")
        }); skipped`,
      );
      continue;
    }
    const channel = m[1]!;
    if (held.has(channel)) {
      report.held++;
      continue;
    }
    seedFile(target, { path, channel, sizeUs, keep: config.history_bars }, report);
  }
  options.progress?.(report.files, names.length);
  logReport(report, dir, options.log);
  return report;
}

function seedFile(
  target: SeedTarget,
  file: { path: string; channel: string; sizeUs: number; keep: number },
  report: BarsHistoryReport,
): void {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file.path);
  } catch (err) {
    report.errors.push(`${file.path}: cannot be read: ${(err as Error).message ?? err}; skipped`);
    return;
  }
  const parsed = parseBarsCsv(new TextDecoder().decode(bytes), file);
  for (const e of parsed.errors) {
    report.errors.push(`${file.path}:${e.line}: ${e.message}, got ${JSON.stringify(e.value)}`);
  }
  report.bad_lines += parsed.errors.length;
  report.older_dropped += parsed.olderDropped;
  const n = parsed.bars.t.length;
  if (n === 0) return;
  const hash = createHash("sha256").update(bytes).digest("hex").slice(0, 32);
  const id = `seed:${file.path.split(/[\\/]/).pop()}:${hash}`;
  if (!target.seed("bars", file.channel, { id, body: barsSeedBody(parsed.bars) })) {
    report.elsewhere++;
    return;
  }
  report.seeded++;
  report.bars += n;
}

const ERRORS_LOGGED_MAX = 20;

function logReport(r: BarsHistoryReport, dir: string, log?: (message: string) => void): void {
  if (!log) return;
  log(
    `bars history ${dir}: ${r.seeded} of ${r.files} files seeded (${r.bars} bars), ` +
      `${r.held} held already, ${r.elsewhere} another host's, ${r.bad_lines} bad lines left out`,
  );
  for (const e of r.errors.slice(0, ERRORS_LOGGED_MAX)) log(`bars history: ${e}`);
  if (r.errors.length > ERRORS_LOGGED_MAX) {
    log(`bars history: and ${r.errors.length - ERRORS_LOGGED_MAX} more problems`);
  }
}
