/**
 * Bar series for the indicator tests: seeded random walks that look like market bars, a flat stretch
 * (zero ranges, zero variance), and Brent crude spot prices (500 real observations from the TCPD
 * dataset) with highs and lows taken from consecutive closes.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { BarColumns } from "../../../actors/indicators/mod.ts";
import { Prng } from "../../../sim/prng/mod.ts";

/** `n` random-walk OHLCV bars from `seed`, around `level`. */
export function randomBars(n: number, seed: number, level = 100): BarColumns {
  const prng = new Prng(seed);
  const bars = empty(n);
  let price = level;
  for (let i = 0; i < n; i++) {
    const open = price;
    // Calm and stressed stretches, an occasional jump, and a few flat bars.
    const vol = i % 97 < 20 ? 0.03 : 0.008;
    const flat = prng.chance(0.03);
    price = flat ? price : price * Math.exp(vol * prng.normal() + (prng.chance(0.01) ? -0.1 : 0));
    const hi = Math.max(open, price) * (flat ? 1 : 1 + Math.abs(prng.normal()) * vol / 2);
    const lo = Math.min(open, price) * (flat ? 1 : 1 - Math.abs(prng.normal()) * vol / 2);
    bars.t[i] = 1_700_000_000_000_000 + i * 60_000_000;
    bars.open[i] = open;
    bars.high[i] = hi;
    bars.low[i] = lo;
    bars.close[i] = price;
    bars.volume[i] = Math.round(1000 * Math.exp(prng.normal()) * (prng.chance(0.05) ? 8 : 1));
  }
  return bars;
}

/**
 * Brent spot closes (TCPD `brent_spot`), with high/low the max/min of this and the previous close;
 * undefined when `../shared` (the datasets) is not beside the checkout.
 */
export function brentBars(): BarColumns | undefined {
  const path = fileURLToPath(
    new URL(
      "../../../../shared/datasets/tcpd-dev/datasets/brent_spot/brent_spot.json",
      import.meta.url,
    ),
  );
  if (!existsSync(path)) return undefined;
  const doc = JSON.parse(readFileSync(path, "utf8")) as { series: { raw: number[] }[] };
  const closes = doc.series[0]!.raw;
  const bars = empty(closes.length);
  closes.forEach((c, i) => {
    const prev = closes[i - 1] ?? c;
    bars.t[i] = i;
    bars.open[i] = prev;
    bars.high[i] = Math.max(prev, c);
    bars.low[i] = Math.min(prev, c);
    bars.close[i] = c;
    bars.volume[i] = 1000 + ((i * 7919) % 613);
  });
  return bars;
}

function empty(n: number): BarColumns {
  return {
    t: new Float64Array(n),
    open: new Float64Array(n),
    high: new Float64Array(n),
    low: new Float64Array(n),
    close: new Float64Array(n),
    volume: new Float64Array(n),
  };
}
