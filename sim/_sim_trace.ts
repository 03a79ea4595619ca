/**
 * A simulation's trace and the violations found: one line per event that matters, stamped with
 * the virtual time since the start, hashed as it is made (so a run of any length hashes its trace
 * in bounded memory), and the violations in the order they are reported. The lines themselves are
 * kept only when asked for (`keep`); the few before the first violation always are.
 *
 * A check that had to wait (for the fault-free reference, or for a recovery check's replay on the
 * worker) reports its violation late, and whether it waited depends on the worker's pace. So the
 * hash takes the lines that are not violations as they come, and every violation at the end, each
 * with the count of those lines before it, in the order checking at once would have reported them;
 * kept lines get late violations merged in place. Either way a trace does not depend on when a
 * check's answer came.
 */
import { createHash, type Hash } from "node:crypto";
import type { InvariantName, Violation } from "./invariants.ts";
import type { Scheduler } from "./scheduler.ts";

/** Where a trace is: its lines so far, and those of them that are not violations. */
export interface TraceMark {
  line: number;
  plain: number;
}

/** A violation, with where in the trace it is reported (before merging). */
interface Found {
  v: Violation;
  /** The index of its line among all lines (a late one: of the line it goes before). */
  line: number;
  /** Lines that are not violations before it. */
  plain: number;
  late: boolean;
  text: string;
  /** The order found. */
  order: number;
}

/** Violations listed in a result. */
const VIOLATIONS_LISTED = 100;
/** Violations kept to order and hash; more are counted (a run that far gone has failed). */
const FOUND_MAX = 10_000;
/** Lines before the first violation kept for a report. */
const EXCERPT_LINES = 15;
/** Characters of lines gathered before they are handed to the hash (fewer, larger updates). */
const HASH_CHUNK_CHARS = 1 << 16;

/** Options of SimTrace. */
export interface SimTraceOptions {
  /** Keep every line (memory grows with the run). */
  keep: boolean;
}

/** The trace of one run. */
export class SimTrace {
  /** Every line, late violations merged in once `mergeViolations` ran; empty unless kept. */
  readonly lines: string[] = [];
  /** The first 100 violations, in the order reported, once `mergeViolations` ran. */
  readonly violations: Violation[] = [];
  readonly #scheduler: Scheduler;
  readonly #startUs: number;
  readonly #keep: boolean;
  readonly #hash: Hash = createHash("sha256");
  /** Lines made and not yet handed to the hash, each ended by "\n". */
  #chunk = "";
  /** Lines made so far, and those of them that are not violations. */
  #count = 0;
  #plain = 0;
  /** The last lines made (a ring), until the first violation reported as it happens. */
  readonly #ring: string[] = [];
  #excerpt: string[] | undefined;
  readonly #found: Found[] = [];
  #dropped = 0;
  /** The violations' part of the hash, once merged. */
  #violationsText = "";
  #digest: string | undefined;
  /** The virtual time of the last trace line, and that time as the trace writes it. */
  #traceUs = -1;
  #traceTime = "";

  constructor(scheduler: Scheduler, startUs: number, options: SimTraceOptions = { keep: true }) {
    this.#scheduler = scheduler;
    this.#startUs = startUs;
    this.#keep = options.keep;
  }

  /** Virtual µs since the start. */
  get nowUs(): number {
    return this.#scheduler.nowUs - this.#startUs;
  }

  /** Where the trace is now: where a violation found later belongs. */
  mark(): TraceMark {
    return { line: this.#count, plain: this.#plain };
  }

  /** The line of the first violation reported as it happened and up to 15 before it, if any. */
  get excerpt(): readonly string[] {
    return this.#excerpt ?? [];
  }

  /** Adds a line at the current virtual time. */
  line(text: string): void {
    const line = this.#stamp(text);
    this.#plain++;
    this.#chunk += line + "\n";
    if (this.#chunk.length >= HASH_CHUNK_CHARS) {
      this.#hash.update(this.#chunk);
      this.#chunk = "";
    }
  }

  /** Reports a violation now, in a trace line of its own. */
  violate(invariant: InvariantName, message: string): void {
    const atUs = this.nowUs;
    const text = this.#stamp(`VIOLATION ${invariant}: ${message}`);
    this.#excerpt ??= this.#ring.splice(0);
    this.#find(
      { v: { invariant, atUs, message }, line: this.#count - 1, plain: this.#plain },
      text,
      false,
    );
  }

  /**
   * A violation found late (by a check that waited for the reference), reported where it would
   * have been: at virtual time `atUs` (since the start), where the trace was at `at`.
   */
  violateLate(at: TraceMark, atUs: number, invariant: InvariantName, message: string): void {
    const t = (atUs / 1e6).toFixed(6);
    const text = `${t} VIOLATION ${invariant}: ${message}`;
    this.#find({ v: { invariant, atUs, message }, line: at.line, plain: at.plain }, text, true);
  }

  /**
   * Orders the violations as checking each at once would have reported them (for the hash; in
   * kept lines, late ones merged in place) and lists the first 100.
   */
  mergeViolations(): void {
    // A late violation precedes the line it was found before; otherwise, the order found.
    const all = this.#found.slice().sort((a, b) =>
      a.line - b.line || (a.late === b.late ? a.order - b.order : a.late ? -1 : 1)
    );
    this.#violationsText = all.map((f) => `${f.plain} ${f.text}\n`).join("") +
      (this.#dropped > 0 ? `more ${this.#dropped}\n` : "");
    const late = all.filter((f) => f.late);
    if (late.length && this.#keep) {
      const lines: string[] = [];
      let j = 0;
      for (let i = 0; i <= this.lines.length; i++) {
        while (j < late.length && late[j]!.line === i) lines.push(late[j++]!.text);
        if (i < this.lines.length) lines.push(this.lines[i]!);
      }
      this.lines.length = 0;
      for (const l of lines) this.lines.push(l);
    }
    this.violations.length = 0;
    for (const f of all.slice(0, VIOLATIONS_LISTED)) this.violations.push(f.v);
  }

  /**
   * SHA-256 (hex) of the trace: every line that is not a violation, each ended by "\n", then
   * every violation as `<lines before it that are not violations> <its line>\n`, in the order
   * reported. Once asked, the trace is closed.
   */
  digest(): string {
    if (this.#digest === undefined) {
      this.#hash.update(this.#chunk + this.#violationsText);
      this.#chunk = "";
      this.#digest = this.#hash.digest("hex");
    }
    return this.#digest;
  }

  /** A line stamped with the virtual time: counted, kept if asked, and remembered for a report. */
  #stamp(text: string): string {
    const us = this.nowUs;
    if (us !== this.#traceUs) {
      this.#traceUs = us;
      this.#traceTime = secondsText(us);
    }
    const line = `${this.#traceTime} ${text}`;
    this.#count++;
    if (this.#keep) this.lines.push(line);
    if (this.#excerpt === undefined) {
      this.#ring.push(line);
      if (this.#ring.length > EXCERPT_LINES + 1) this.#ring.shift();
    }
    return line;
  }

  #find(where: Pick<Found, "v" | "line" | "plain">, text: string, late: boolean): void {
    if (this.#found.length >= FOUND_MAX) {
      this.#dropped++;
      return;
    }
    this.#found.push({ ...where, late, text, order: this.#found.length });
  }
}

/**
 * `us / 1e6` with six decimals, as `toFixed(6)` writes it, without its decimal conversion for a
 * whole number of microseconds below 2^50 (for those, the quotient rounds to these same digits).
 */
function secondsText(us: number): string {
  if (!(Number.isInteger(us) && us >= 0 && us < 2 ** 50)) return (us / 1e6).toFixed(6);
  const frac = us % 1e6;
  return `${(us - frac) / 1e6}.${String(frac).padStart(6, "0")}`;
}
