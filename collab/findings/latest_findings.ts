/**
 * The latest findings on a bus, for `troupe up`'s status output: it keeps the few most recent and
 * counts the rest, so the status shows a line or three, never a flood (`troupe watch` shows all).
 */
import {
  type Finding,
  findingKindNames,
  findingsOf,
  findingSourcePatterns,
  formatFinding,
} from "./finding.ts";
import type { Bus, BusSubscription } from "../../protocol/mod.ts";

/** Collects findings from `bus` between two `take()`s. */
export class LatestFindings {
  readonly keep: number;
  #recent: Finding[] = [];
  #count = 0;
  #subs: BusSubscription[];

  constructor(bus: Bus, keep = 3) {
    this.keep = keep;
    this.#subs = findingSourcePatterns(findingKindNames()).map((subject) =>
      bus.subscribe(subject, (m) => {
        for (const f of findingsOf(m.subject, m.data, Date.now() * 1000)) this.#add(f);
      })
    );
  }

  #add(f: Finding): void {
    this.#count++;
    this.#recent.push(f);
    if (this.#recent.length > this.keep) this.#recent.shift();
  }

  /** The lines for the findings since the last call (none when there were none), and resets. */
  take(): string[] {
    if (this.#count === 0) return [];
    const lines = this.#recent.map((f) => `  ${formatFinding(f)}`);
    const more = this.#count - this.#recent.length;
    const head = `${this.#count} new finding${this.#count === 1 ? "" : "s"}` +
      (more > 0 ? ` (latest ${this.#recent.length}; troupe watch shows all):` : ":");
    this.#recent = [];
    this.#count = 0;
    return [head, ...lines];
  }

  close(): void {
    for (const s of this.#subs) s.unsubscribe();
  }
}
