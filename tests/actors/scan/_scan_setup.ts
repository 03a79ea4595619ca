/**
 * Shared set-up of the scan service tests: a universe of random-walk symbols as a BarsSource, and
 * what the criteria say of each symbol, computed directly, to compare the streamed results with.
 */
import { compileCriteria } from "../../../actors/criteria/mod.ts";
import type { BarColumns } from "../../../actors/indicators/mod.ts";
import { columnsBarsSource } from "../../../actors/scan/mod.ts";
import { randomBars } from "../indicators/_series.ts";

export const CRITERIA = "rsi(14) < 50 and close > sma(50)";
export const RANK = "rsi(14)";

/** `n` symbols `S0000`… with 120 bars each (a few with 30, too few for sma(50)). */
export function universe(n: number, seed = 1): Map<string, BarColumns> {
  const m = new Map<string, BarColumns>();
  for (let i = 0; i < n; i++) {
    m.set(
      `S${String(i).padStart(4, "0")}`,
      randomBars(i % 97 === 5 ? 30 : 120, seed * 100_000 + i),
    );
  }
  return m;
}

/** The symbols that match, with their ranks, computed symbol by symbol. */
export function expected(u: Map<string, BarColumns>): Map<string, number | null> {
  const c = compileCriteria(CRITERIA, { rank: RANK });
  const out = new Map<string, number | null>();
  for (const [s, b] of u) {
    const v = c.evaluate(b);
    if (v.kind === "match") out.set(s, v.rank);
  }
  return out;
}

export const source = (u: Map<string, BarColumns>) => columnsBarsSource(u, "1m");

/** Resolves when `check` holds, polling; rejects after `ms`. */
export async function until(check: () => boolean, ms = 5000, what = "condition"): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
