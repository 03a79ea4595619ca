/**
 * The criteria a scan worker's warm-up evaluates (see ScanWorker.warm): every value of every
 * indicator the language knows (each output, the default parameters, one call reading a column
 * named first), summed so that each is computed whatever the values, and every operator of the
 * language after it. Made from the indicator catalog, so an indicator added there is warmed too.
 */
import { INDICATORS } from "../criteria/mod.ts";

/** The period given to a parameter that has no default (`sma(n)`). */
const PERIOD_WITHOUT_DEFAULT = 14;

/** The warm-up's criteria and rank, as a scan request gives them. */
export function warmUpCriteria(): { criteria: string; rank: string } {
  const terms: string[] = [];
  let columnNamed = false;
  for (const spec of INDICATORS.values()) {
    const args = spec.params.map((p) => p.default ?? PERIOD_WITHOUT_DEFAULT).join(", ");
    const outputs = spec.outputs.filter((name) => !name.startsWith("_"));
    for (const out of outputs) {
      terms.push(`${spec.name}(${args})${outputs.length > 1 ? `.${out}` : ""}`);
    }
    if (!columnNamed && spec.source !== null && outputs.length === 1) {
      // The column named first: the call reads it instead of its default one.
      terms.push(`${spec.name}(volume, ${args})`);
      columnNamed = true;
    }
  }
  // `not (x == 0.5)` holds for any x, NaN too: the `and` always goes on to the operators.
  const every = `not ((${terms.join(" + ")}) == 0.5)`;
  const operators = [
    "close crosses_above sma(14)",
    "not (close crosses_below ema(14))",
    "-volume > 0",
    "high / low * 2 - 1 >= 1",
    "open < close",
    "close <= open",
    "close != open",
  ].join(" or ");
  return { criteria: `${every} and (${operators})`, rank: "rsi(14)" };
}
