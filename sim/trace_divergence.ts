/** Where two runs of one seed part, for the determinism check: their traces' first difference. */
import type { SimResult } from "./simulator.ts";

/** Where two traces of one seed part. */
export function traceDivergence(a: SimResult, b: SimResult): string {
  const n = Math.max(a.trace.length, b.trace.length);
  for (let i = 0; i < n; i++) {
    if (a.trace[i] !== b.trace[i]) {
      return `the two runs' traces differ (sha256 ${a.traceHash.slice(0, 12)} vs ${
        b.traceHash.slice(0, 12)
      }) first at line ${i + 1}: ${JSON.stringify(a.trace[i] ?? "(end)")} vs ${
        JSON.stringify(b.trace[i] ?? "(end)")
      }`;
    }
  }
  return `the two runs' traces differ (sha256 ${a.traceHash.slice(0, 12)} vs ${
    b.traceHash.slice(0, 12)
  })`;
}
