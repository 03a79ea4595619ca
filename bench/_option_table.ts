/**
 * Options read from a table: each option's help, placeholder, default and bounds are written once,
 * and both the parsed values and the usage lines come from that table, so that the help cannot
 * say one default while the code uses another. node:util's parseArgs does the splitting, strict:
 * an unknown option or a stray argument is an error naming it. A numeric option's text is checked
 * by protocol's `checkOptionText`, as a command's option is (cli/args.ts).
 */
import { parseArgs } from "node:util";
import {
  checkOptionText,
  defaultNote,
  type NumberBounds,
  type OptionErrorFactory,
  type OptionValueSpec,
} from "../protocol/mod.ts";
import { BenchOptionError } from "./_bench_option_error.ts";

/**
 * One option of a table: protocol's OptionValueSpec, the shape of a command's option too (a
 * `oneOf` `as const` makes the value's type their union).
 */
export interface TableOption extends OptionValueSpec {
  /** A switch without a value: true when given, false when not. */
  flag?: true;
}

/** Options by name (without the leading `--`). */
export type OptionTable = Record<string, TableOption>;

type ValueOf<O extends TableOption> = O extends { flag: true } ? boolean
  : O extends { number: NumberBounds; default: number } ? number
  : O extends { number: NumberBounds } ? number | undefined
  : O extends { oneOf: readonly (infer U extends string)[]; default: string } ? U
  : O extends { default: string } ? string
  : string | undefined;

/** The values `readOptions` returns for table `T`. */
export type OptionValues<T extends OptionTable> = { [K in keyof T]: ValueOf<T[K]> };

const benchError: OptionErrorFactory = (message) => new BenchOptionError(message);

/** Parses `args` by `table`: each value checked, each absent one its default. */
export function readOptions<T extends OptionTable>(
  args: readonly string[],
  table: T,
  makeError: OptionErrorFactory = benchError,
): OptionValues<T> {
  const specs: Record<string, { type: "string" | "boolean" }> = {};
  for (const [name, option] of Object.entries(table)) {
    specs[name] = { type: option.flag ? "boolean" : "string" };
  }
  let raw: Record<string, string | boolean | undefined>;
  try {
    raw = parseArgs({ args: [...args], options: specs, strict: true, allowPositionals: false })
      .values as Record<string, string | boolean | undefined>;
  } catch (err) {
    throw makeError((err as Error).message.replace(/\. To specify a positional.*$/s, ""));
  }
  const out: Record<string, number | string | boolean | undefined> = {};
  for (const [name, option] of Object.entries(table)) {
    const text = raw[name];
    if (option.flag) out[name] = text === true;
    else if (typeof text !== "string") out[name] = option.default;
    else out[name] = checkOptionText(name, text, option, makeError);
  }
  return out as OptionValues<T>;
}

/** Help lines wrap to this width, their continuation under the help's first column. */
const USAGE_COLUMNS = 100;

/**
 * The usage lines of `table`: `  --name ARG   help (default D)`, aligned, wrapped at 100 columns.
 */
export function optionsUsage(table: OptionTable): string {
  const entries = Object.entries(table);
  const heads = entries.map(([name, o]) =>
    o.flag ? `  --${name}` : `  --${name} ${o.arg ?? (o.number ? "N" : "VALUE")}`
  );
  const width = Math.max(...heads.map((h) => h.length)) + 2;
  return entries.map(([, o], i) => {
    // A default of one word is never broken across lines.
    const note = defaultNote(o);
    const shown = note === undefined ? [] : o.defaultText === undefined ? [note] : note.split(" ");
    return wrap(heads[i]!.padEnd(width), [...o.help.split(" "), ...shown], width);
  }).join("\n");
}

/** `words` after `head`, wrapped at USAGE_COLUMNS, each further line indented by `indent`. */
function wrap(head: string, words: readonly string[], indent: number): string {
  const lines: string[] = [];
  let line = head;
  for (const word of words) {
    if (line.length + word.length + 1 > USAGE_COLUMNS && line.trim() !== head.trim()) {
      lines.push(line);
      line = " ".repeat(indent) + word;
    } else line += (line.length === head.length ? "" : " ") + word;
  }
  return [...lines, line].join("\n");
}
