/**
 * Numbers written short enough for a small chart's axis and header: with an SI prefix (`1.2G`,
 * `350M`, `12k`; `4.5m`, `20µ` below one of a base unit), as Grafana's and Prometheus's own
 * graphs write them, rather than every digit (`1,234,000,000` did not fit the value axis, which
 * showed `000,000`). One prefix for a whole axis (the one of its largest label), and as many
 * decimals as its step needs, so that ticks read alike and never cut. Units that already carry a
 * scale (`ms`, `%`, `KB`, `°C`) take no prefix beside the unit (`1.2 mms`, `2 Mms` would be
 * nonsense); on an axis, whose unit is said apart, multiples only. Pure: numbers in, strings out.
 */

/** The prefixes, by power of 1000 from -2 (µ) to 5 (P). */
const PREFIXES: Readonly<Record<number, string>> = {
  [-2]: "µ",
  [-1]: "m",
  0: "",
  1: "k",
  2: "M",
  3: "G",
  4: "T",
  5: "P",
};

/** Units a submultiple prefix would make nonsense of: they carry a scale or are no SI unit. */
const SCALED_UNITS: ReadonlySet<string> = new Set([
  "%",
  "ns",
  "µs",
  "ms",
  "KB",
  "MB",
  "GB",
  "°C",
  "ratio",
  "req",
  "errors",
  "count",
]);

/** Below this magnitude a number takes a submultiple prefix (where its unit allows one). */
const SUBMULTIPLE_BELOW = 0.01;

/** Decimals a label has at most. */
const DECIMALS_MAX = 3;

/** The power of 1000 of the prefix a scale of largest magnitude `maxAbs` is written with. */
function prefixPower(maxAbs: number, unit: string): number {
  if (!(maxAbs > 0) || !Number.isFinite(maxAbs)) return 0;
  if (maxAbs >= SUBMULTIPLE_BELOW && maxAbs < 1000) return 0;
  if (maxAbs < SUBMULTIPLE_BELOW && SCALED_UNITS.has(unit)) return 0;
  return Math.max(-2, Math.min(5, Math.floor(Math.log10(maxAbs) / 3)));
}

/** The decimals that write every multiple of `step` (in the scale's units) exactly enough. */
function decimalsFor(step: number): number {
  let d = Math.max(0, Math.ceil(-Math.log10(step) - 1e-9));
  while (d < DECIMALS_MAX && Math.abs(Math.round(step * 10 ** d) - step * 10 ** d) > 1e-6) d++;
  return Math.min(d, DECIMALS_MAX);
}

/**
 * The label writer of a value axis whose ticks are `step` apart and reach `maxAbs` at most, in
 * `unit` (said over the axis, not on each label): `(1.2e9) => "1.2G"`.
 */
export function siAxis(step: number, maxAbs: number, unit = ""): (v: number) => string {
  const power = prefixPower(maxAbs, unit);
  const scale = 1000 ** power, prefix = PREFIXES[power] ?? "";
  const decimals = step > 0 && Number.isFinite(step) ? decimalsFor(step / scale) : 0;
  return (v) => {
    // A tick at zero computed as 1e-17 reads `0`, not `-0.0`.
    const x = Math.abs(v) < step * 1e-6 ? 0 : v / scale;
    return x === 0 ? "0" : `${x.toFixed(decimals)}${prefix}`;
  };
}

/**
 * `v` with `unit`, four significant digits and the prefix of its own magnitude, as a header's
 * readout writes it: `1.235 GB`, `350 MB/s`, `37.5%`, `12.5k` (no unit).
 */
export function siValue(v: number, unit: string): string {
  if (!Number.isFinite(v)) return `${v}${unit === "" ? "" : ` ${unit}`}`;
  const power = SCALED_UNITS.has(unit) ? 0 : prefixPower(Math.abs(v), unit);
  const x = Number((v / 1000 ** power).toPrecision(4));
  const prefix = PREFIXES[power] ?? "";
  if (unit === "%") return `${x}${prefix}%`;
  if (unit === "") return `${x}${prefix}`;
  return `${x} ${prefix}${unit}`;
}
