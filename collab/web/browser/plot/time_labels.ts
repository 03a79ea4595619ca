/**
 * The time axis of the dashboard's charts (the live view, uPlot's line and the candles alike), in
 * UTC: the tick steps, where the ticks fall (whole multiples of the step, so that a line and the
 * candle strip under it, over one range and width, tick at the same moments), and their labels.
 */
import type uPlot from "uplot";

/** Time tick steps, seconds: the first whose ticks are at least `TIME_TICK_SPACE_PX` apart. */
export const TIME_STEPS = [
  0.1,
  0.2,
  0.5,
  1,
  2,
  5,
  10,
  15,
  30,
  60,
  120,
  300,
  600,
  900,
  1800,
  3600,
  7200,
  21600,
  43200,
  86400,
  172800,
  604800,
];

/** Least CSS pixels between two time ticks. */
export const TIME_TICK_SPACE_PX = 90;

/** The tick step for `pxPerS` pixels a second, with ticks at least `spacePx` apart. */
export function timeStep(pxPerS: number, spacePx = TIME_TICK_SPACE_PX): number {
  return TIME_STEPS.find((s) => s * pxPerS >= spacePx) ?? TIME_STEPS[TIME_STEPS.length - 1]!;
}

/** uPlot's time splits: the whole multiples of `step` from `min` to `max` (seconds, UTC). */
export function timeSplits(
  _u: uPlot | undefined,
  _axis: number,
  min: number,
  max: number,
  step: number,
): number[] {
  const out: number[] = [];
  if (!(step > 0) || !(max >= min)) return out;
  for (let k = Math.ceil(min / step - 1e-9); k * step <= max + 1e-9 && out.length < 1000; k++) {
    out.push(Math.round(k * step * 1000) / 1000);
  }
  return out;
}

/** CSS pixels a time label may take left of its tick (the live view squeezes its labels to
 *  `LIVE_STYLE.label_px`, 64, and ends them 3 px left of the tick). */
export const TIME_LABEL_PX = 67;

/**
 * A uPlot time axis with these ticks and labels (the line chart's and the candles' alike). Each
 * label ends at its tick (`align: 2`, right), as the live view's do, so that a card's line and its
 * candle strip read the same time at the same place while following live; a label that would
 * reach left of the plot is left out, as the live view clears one that the scroll cut.
 */
export const TIME_AXIS = {
  space: TIME_TICK_SPACE_PX,
  incrs: TIME_STEPS,
  splits: timeSplits,
  values: timeAxisLabels,
  align: 2,
} as const;

/** `timeLabels`, less those whose tick is within `TIME_LABEL_PX` of the plot's left edge; the
 *  date a left-out first label carried goes to the next one. */
export function timeAxisLabels(u: uPlot | undefined, splits: number[]): string[] {
  const labels = timeLabels(u, splits);
  if (!u) return labels;
  for (let i = 0; i < splits.length && u.valToPos(splits[i]!, "x") < TIME_LABEL_PX; i++) {
    const next = labels[i + 1];
    const date = labels[i]!.includes(" ") ? labels[i]!.split(" ")[0] : undefined;
    if (next !== undefined && date !== undefined && !next.includes(" ")) {
      labels[i + 1] = `${date} ${next}`;
    }
    labels[i] = "";
  }
  return labels;
}

/**
 * Ticks (UTC), one line, as fine as their spacing needs and no finer, so that no two read the
 * same: `HH:MM` a minute or more apart, `HH:MM:SS` a second or more, with as many decimals of a
 * second as below that; a day or more apart, `MM-DD HH:MM`. An axis over more than one day (its
 * range, `u`'s x scale, else its ticks) says the date (`MM-DD`) at the first tick and at each
 * day's first, so that a 24 h axis never reads `12:00 18:00 00:00 06:00` with no day, nor
 * `06:00 12:00 18:00` from yesterday 22:02.
 */
export function timeLabels(u: uPlot | undefined, splits: number[]): string[] {
  const step = splits.length > 1 ? Math.abs(splits[1]! - splits[0]!) : 1;
  const iso = (s: number) => new Date(Math.round(s * 1000)).toISOString();
  if (step >= 86_400) return splits.map((s) => `${iso(s).slice(5, 10)} ${iso(s).slice(11, 16)}`);
  const end = step >= 60
    ? 16
    : step >= 1
    ? 19
    : 20 + Math.min(3, Math.ceil(-Math.log10(step) - 1e-9));
  const days = splits.map((s) => iso(s).slice(5, 10));
  // The axis's range, not only its ticks: a day's range from 22:02 ticks 00:00 06:00 12:00 18:00,
  // all of one date, and spans two days all the same.
  const x = u?.scales?.x;
  const from = x?.min ?? splits[0], to = x?.max ?? splits[splits.length - 1];
  const spansDays = from !== undefined && to !== undefined &&
    iso(from).slice(0, 10) !== iso(to).slice(0, 10);
  return splits.map((s, i) => {
    const time = iso(s).slice(11, end);
    return spansDays && (i === 0 || days[i] !== days[i - 1]) ? `${days[i]} ${time}` : time;
  });
}
