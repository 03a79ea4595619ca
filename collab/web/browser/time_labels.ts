/**
 * Time axis labels for the dashboard's charts (line and candles alike), in UTC.
 */
import type uPlot from "uplot";

/**
 * Ticks (UTC), one line, as fine as their spacing needs and no finer, so that no two read the
 * same: `MM-DD HH:MM` a day or more apart, `HH:MM` a minute or more, `HH:MM:SS` a second or more,
 * with as many decimals of a second as below that.
 */
export function timeLabels(_u: uPlot | undefined, splits: number[]): string[] {
  const step = splits.length > 1 ? Math.abs(splits[1]! - splits[0]!) : 1;
  const iso = (s: number) => new Date(Math.round(s * 1000)).toISOString();
  if (step >= 86_400) return splits.map((s) => `${iso(s).slice(5, 10)} ${iso(s).slice(11, 16)}`);
  if (step >= 60) return splits.map((s) => iso(s).slice(11, 16));
  if (step >= 1) return splits.map((s) => iso(s).slice(11, 19));
  const decimals = Math.min(3, Math.ceil(-Math.log10(step) - 1e-9));
  return splits.map((s) => iso(s).slice(11, 20 + decimals));
}
