/**
 * One option's value, as the commands (cli/args.ts) and the benchmarks (bench/_option_table.ts)
 * both declare it: its default and bounds written once, the check of its text and the note help
 * prints of its default, here where both may import them, so that a command and a benchmark read
 * and describe an option the same way.
 */
import { checkNumber, type OptionErrorFactory } from "./check_number.ts";
import type { NumberBounds } from "./config_error.ts";

/** What an option's value is: a number within bounds, one of some strings, or any text. */
export interface OptionValueSpec {
  /** What it does, for its help line (the default is added from `default` or `defaultText`). */
  help: string;
  /** Its value's placeholder in the help line: `N`, `URL`. */
  arg?: string;
  /** Its value when absent; shown in help as `(D when not given)` (but "": none). */
  default?: number | string;
  /**
   * What help says of the default where the value alone would not tell (`until Ctrl-C` for a
   * duration of 0, `the feed's` for one the code chooses): shown as `(when not given: T)`.
   */
  defaultText?: string;
  /** A number within these bounds (an integer where `integer`). */
  number?: NumberBounds;
  /** One of these strings. */
  oneOf?: readonly string[];
}

/**
 * The value of option `--name` given as `text`: a number checked against `spec.number`, a string
 * checked against `spec.oneOf`, else the text; the error, made by `makeError`, names the option,
 * what it must be and the value.
 */
export function checkOptionText(
  name: string,
  text: string,
  spec: OptionValueSpec,
  makeError: OptionErrorFactory,
): number | string {
  if (spec.number) return checkNumber(name, text, spec.number, makeError);
  if (spec.oneOf && !spec.oneOf.includes(text)) {
    const said = spec.oneOf;
    const list = said.length > 1 ? `${said.slice(0, -1).join(", ")} or ${said.at(-1)}` : said[0];
    throw makeError(`Option --${name} must be ${list}, got "${text}"`);
  }
  return text;
}

/**
 * What help prints of an option's value when it is not given: `(D when not given)`, `(when not
 * given: T)`, or nothing. Help never says "default": a user reads what happens without the option.
 */
export function defaultNote(spec: OptionValueSpec): string | undefined {
  if (spec.defaultText !== undefined) return `(when not given: ${spec.defaultText})`;
  if (spec.default === undefined || spec.default === "") return undefined;
  return `(${spec.default} when not given)`;
}
