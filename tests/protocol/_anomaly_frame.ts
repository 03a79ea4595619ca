/**
 * An anomaly actor's columns frame of `n` samples drawn from `rng` (times 1 ms apart, values near
 * 100, a band around them): what the columns' tests encode and read back.
 */
import type { Prng } from "../../sim/prng/mod.ts";

export function anomalyFrame(rng: Prng, n: number) {
  const t = Float64Array.from({ length: n }, (_, i) => 1_700_000_000_000_000 + i * 1000);
  const value = Float64Array.from({ length: n }, () => 100 + rng.normal());
  const expected = Float64Array.from({ length: n }, () => 100 + rng.normal() / 10);
  const spread = Float64Array.from({ length: n }, () => Math.abs(rng.normal()) * 3);
  const score = Float64Array.from({ length: n }, () => rng.next());
  return { channel: "cpu-7", seq0: 40, t, score, expected, spread, value };
}
