/** Counts as progress lines print them: short, three significant digits. */

/** Formats a count with three significant digits and a k/M/G suffix, for progress lines. */
export function human(x: number): string {
  // Rounded first: 999,999.6 is "1.00M", not "1.00e+3k".
  const a = Math.abs(Number(x.toPrecision(3)));
  if (a >= 1e9) return `${(x / 1e9).toPrecision(3)}G`;
  if (a >= 1e6) return `${(x / 1e6).toPrecision(3)}M`;
  if (a >= 1e3) return `${(x / 1e3).toPrecision(3)}k`;
  return x.toPrecision(3);
}
