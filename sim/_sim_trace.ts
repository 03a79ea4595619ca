/**
 * A simulation's trace and the violations found: one line per event that matters, stamped with
 * the virtual time since the start, and the violations in the order they are reported. A check
 * that had to wait (for the fault-free reference, or for a recovery check's replay on the worker)
 * reports its violation late; the trace puts that line where checking at once would have put it.
 */
import type { InvariantName, Violation } from "./invariants.ts";
import type { Scheduler } from "./scheduler.ts";

/** A violation, with the index of the trace line it is reported at (before merging). */
interface Found {
  v: Violation;
  line: number;
  late: boolean;
  text: string;
}

/** The trace of one run. */
export class SimTrace {
  readonly lines: string[] = [];
  /** The first 100 violations, in the order reported, once `mergeViolations` ran. */
  readonly violations: Violation[] = [];
  readonly #scheduler: Scheduler;
  readonly #startUs: number;
  readonly #found: Found[] = [];
  /** The virtual time of the last trace line, and that time as the trace writes it. */
  #traceUs = -1;
  #traceTime = "";

  constructor(scheduler: Scheduler, startUs: number) {
    this.#scheduler = scheduler;
    this.#startUs = startUs;
  }

  /** Virtual µs since the start. */
  get nowUs(): number {
    return this.#scheduler.nowUs - this.#startUs;
  }

  /** Adds a line at the current virtual time. */
  line(text: string): void {
    const us = this.nowUs;
    if (us !== this.#traceUs) {
      this.#traceUs = us;
      this.#traceTime = secondsText(us);
    }
    this.lines.push(`${this.#traceTime} ${text}`);
  }

  /** Reports a violation now, in a trace line of its own. */
  violate(invariant: InvariantName, message: string): void {
    const atUs = this.nowUs;
    this.line(`VIOLATION ${invariant}: ${message}`);
    const line = this.lines.length - 1;
    this.#found.push({ v: { invariant, atUs, message }, line, late: false, text: "" });
  }

  /**
   * A violation found late (by a check that waited for the reference), reported where it would
   * have been: at virtual time `atUs` (since the start), before the trace line now at `line`.
   */
  violateLate(line: number, atUs: number, invariant: InvariantName, message: string): void {
    const t = (atUs / 1e6).toFixed(6);
    this.#found.push({
      v: { invariant, atUs, message },
      line,
      late: true,
      text: `${t} VIOLATION ${invariant}: ${message}`,
    });
  }

  /**
   * Puts late violations' lines where they belong and lists the first 100 violations in the
   * order they are reported: what checking each at once would have given.
   */
  mergeViolations(): void {
    const late = this.#found.filter((f) => f.late);
    if (late.length) {
      late.sort((a, b) => a.line - b.line); // stable: same line, in the order found
      const lines: string[] = [];
      let j = 0;
      for (let i = 0; i <= this.lines.length; i++) {
        while (j < late.length && late[j]!.line === i) lines.push(late[j++]!.text);
        if (i < this.lines.length) lines.push(this.lines[i]!);
      }
      this.lines.length = 0;
      for (const l of lines) this.lines.push(l);
    }
    const order = this.#found.map((f, i) => ({ f, i }));
    // A late violation precedes the line it was found before; otherwise, the order found.
    order.sort((a, b) =>
      a.f.line - b.f.line || (a.f.late === b.f.late ? a.i - b.i : a.f.late ? -1 : 1)
    );
    this.violations.length = 0;
    for (const { f } of order.slice(0, 100)) this.violations.push(f.v);
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
